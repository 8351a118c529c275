"""An official document (a written report, a monitoring report) as a Word document laid out after
GB/T 9704 (党政机关公文格式): A4 with the 版心 156 × 225 mm, the issuer's mark in red 小标宋 over a
red rule, the title in 2号, the body in 3号 仿宋 at a fixed 28 pt line, headings in 黑体, page
numbers "— N —" outside on odd and even pages, 份号 and 密级 top left where set, tables with a
header row, charts as pictures, signature and date on the right, and the 抄送 line between two
rules at the end."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from reports.official import OfficialDocument

RED = RGBColor(0xC0, 0x00, 0x00)
LATIN = "Times New Roman"
# The fonts offices use, each with the free font a machine without them falls back to (the font
# table's w:altName, which Word and LibreOffice read to find a substitute).
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
PAGE_NUMBER_FONT = "宋体"
FALLBACKS = {
    TITLE_FONT: "Noto Serif CJK SC",
    BODY_FONT: "Noto Serif CJK SC",
    HEADING_FONT: "Noto Sans CJK SC",
    PAGE_NUMBER_FONT: "Noto Serif CJK SC",
}
BODY_PT = 16  # 3号
TITLE_PT = 22  # 2号
NOTE_PT = 14  # 4号: page numbers and the 抄送 line
LINE_PT = 28
INDENT = Pt(2 * BODY_PT)  # 首行缩进二字
# What follows w:pBdr in a paragraph's properties (the schema's order, which Word insists on).
PPR_AFTER_BORDERS = (
    *("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct"),
    *("w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid"),
    *("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc"),
    *("w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle"),
    *("w:rPr", "w:sectPr", "w:pPrChange"),
)


def _fonts(target: Run | ParagraphStyle, east_asian: str, size: float | None = None) -> None:
    """Latin text in Times New Roman, Chinese in `east_asian` (w:eastAsia)."""
    target.font.name = LATIN
    if size is not None:
        target.font.size = Pt(size)
    element = target._r if isinstance(target, Run) else target.element
    element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)


def _spacing(paragraph: Paragraph, line: float | None = LINE_PT) -> None:
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing = Pt(line)
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY


def _rule(paragraph: Paragraph, edge: str, color: str, eighths: int) -> None:
    """A rule along the paragraph's `edge` (top/bottom), `eighths` of a point thick."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = p_pr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        p_pr.insert_element_before(borders, *PPR_AFTER_BORDERS)
    line = OxmlElement(f"w:{edge}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(eighths))
    line.set(qn("w:space"), "4")
    line.set(qn("w:color"), color)
    borders.append(line)


def _page_number(paragraph: Paragraph) -> None:
    """ "— N —" with N a PAGE field, in 4号 宋体."""

    def run(text: str = "") -> Run:
        r = paragraph.add_run(text)
        _fonts(r, PAGE_NUMBER_FONT, NOTE_PT)
        return r

    run("— ")
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("result", "1"), ("end", None)):
        r = run()
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            r._r.append(instr)
        elif kind == "result":
            r.text = text or ""
        else:
            field = OxmlElement("w:fldChar")
            field.set(qn("w:fldCharType"), kind)
            r._r.append(field)
    run(" —")


def _font_fallbacks(document: DocxDocument) -> None:
    """Declare each office font in the font table with its free substitute as w:altName."""
    part = next(rel.target_part for rel in document.part.rels.values() if rel.reltype == RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    for name, fallback in FALLBACKS.items():
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        alt = etree.SubElement(font, qn("w:altName"))
        alt.set(qn("w:val"), fallback)
        charset = etree.SubElement(font, qn("w:charset"))
        charset.set(qn("w:val"), "86")  # GB2312
        family = etree.SubElement(font, qn("w:family"))
        family.set(qn("w:val"), "modern" if name == HEADING_FONT else "roman")
    # The font table is a plain part in python-docx: its bytes are replaced as a whole.
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _setup(document: DocxDocument, doc: OfficialDocument) -> None:
    section = document.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    # The page number's top 7 mm under the 版心 (GB/T 9704 7.5): 35 − 7 − one 4号 line ≈ 23 mm.
    section.footer_distance = Mm(23)
    document.settings.odd_and_even_pages_header_footer = True
    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = Pt(NOTE_PT)  # 单页码居右空一字
    _page_number(odd)
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = Pt(NOTE_PT)  # 双页码居左空一字
    _page_number(even)

    normal = document.styles["Normal"]
    _fonts(normal, BODY_FONT, BODY_PT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    fmt = normal.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(LINE_PT)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    _font_fallbacks(document)

    props = document.core_properties
    props.title = doc.title
    props.author = props.last_modified_by = doc.issuer
    props.created = props.modified = timezone.now()
    props.comments = ""


def _table(document: DocxDocument, rows: list[list[str]]) -> Table:
    """A bordered table in 4号, its first row the header in 黑体, repeated on every page."""
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = document.styles["Table Grid"]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            cell = table.cell(r, c).paragraphs[0]
            _spacing(cell, None)
            cell.alignment = WD_ALIGN_PARAGRAPH.CENTER if r == 0 or c > 0 else WD_ALIGN_PARAGRAPH.LEFT
            _fonts(cell.add_run(value), HEADING_FONT if r == 0 else BODY_FONT, NOTE_PT)
    header = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    return table


def official_docx(doc: OfficialDocument) -> bytes:
    """The .docx of the document, as bytes."""
    document = Document()
    _setup(document, doc)

    def paragraph(
        text: str = "",
        *,
        font: str = BODY_FONT,
        size: float = BODY_PT,
        align: WD_ALIGN_PARAGRAPH | None = None,
        indent: bool = False,
        line: float | None = LINE_PT,
    ) -> Paragraph:
        p = document.add_paragraph()
        _spacing(p, line)
        if align is not None:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = INDENT
        if text:
            _fonts(p.add_run(text), font, size)
        return p

    # 份号 and 密级: the first lines of the 版头, flush left (GB/T 9704 7.2.1, 7.2.2).
    if doc.copy_number:
        _fonts(paragraph().add_run(doc.copy_number), BODY_FONT, BODY_PT)
    if doc.classification:
        _fonts(paragraph().add_run(doc.classification), HEADING_FONT, BODY_PT)
    mark = paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line=None)
    run = mark.add_run(doc.issuer)
    _fonts(run, TITLE_FONT, doc.issuer_size_pt)
    run.font.color.rgb = RED
    if doc.number:
        paragraph()
        ruled = paragraph(doc.number, align=WD_ALIGN_PARAGRAPH.CENTER)
    else:
        ruled = mark
    _rule(ruled, "bottom", "C00000", 12)  # the red 分隔线, 1.5 pt

    paragraph()
    paragraph(doc.title, font=TITLE_FONT, size=TITLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, line=36)
    paragraph()
    if doc.addressee:
        paragraph(doc.addressee + "：")
    for section in doc.sections:
        paragraph(section.heading, font=HEADING_FONT, indent=True)
        for text in section.paragraphs:
            paragraph(text, indent=True)
        for n, text in enumerate(section.items, start=1):
            paragraph(f"{n}．{text}", indent=True)
        if section.table:
            _table(document, section.table)
        for figure in section.figures:
            picture = paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line=None)
            picture.add_run().add_picture(io.BytesIO(figure.png), width=Mm(150))
            paragraph(figure.caption, size=NOTE_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
        if section.closing:
            paragraph(section.closing, indent=True)

    if doc.instruction:
        paragraph()
        p = paragraph(indent=True)
        _fonts(p.add_run(_("领导批示：")), HEADING_FONT, BODY_PT)
        _fonts(p.add_run(doc.instruction), BODY_FONT, BODY_PT)
        signed = paragraph(doc.instruction_signature, align=WD_ALIGN_PARAGRAPH.RIGHT)
        signed.paragraph_format.right_indent = INDENT

    # Signature, date and 抄送 on one page: each paragraph of the ending kept with the next.
    ending = [paragraph(), paragraph()]
    for text in (doc.signature, doc.date):
        p = paragraph(text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        p.paragraph_format.right_indent = INDENT
        ending.append(p)
    if doc.copy_to:
        ending.append(paragraph())
        p = paragraph(_("抄送：%(to)s。") % {"to": doc.copy_to}, size=NOTE_PT)
        p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(NOTE_PT)
        _rule(p, "top", "000000", 8)
        _rule(p, "bottom", "000000", 8)
        ending.append(p)
    for p in ending[:-1]:
        p.paragraph_format.keep_with_next = True

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
