"""Reading a plan file into plain text: .docx through python-docx (paragraphs and tables in document
order, one per line), .txt in UTF-8, UTF-16 or GB18030, or pasted text.

Whatever cannot be a plan's text is refused with a message that says what the file is and what to
do instead: a scanned PDF or an image, an old .doc, a corrupt .docx, a binary file, an empty or an
enormous one. Nothing is stored from a refused file."""

import io
import re
import unicodedata
import zipfile

import filetype
from django.utils.translation import gettext as _

from opinion_ops.errors import DomainError

MAX_FILE_BYTES = 10 * 1024 * 1024  # a Word plan with its letterhead images stays well below this
MAX_TEXT_CHARS = 200_000  # the longest seed plans are under 20,000 characters
MIN_CJK_CHARS = 30

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _refuse(message: str, field: str = "file") -> DomainError:
    return DomainError(message, field=field, code="unreadable_plan")


def plan_text_clean(text: str) -> str:
    """Line ends unified, control and zero-width characters dropped, trailing spaces and runs of
    blank lines removed; the characters themselves (full-width punctuation included) are kept so
    that what the page highlights is what the unit wrote."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    cleaned: list[str] = []
    for line in lines:
        if not line and cleaned and not cleaned[-1]:
            continue
        cleaned.append(line)
    return "\n".join(cleaned).strip("\n")


def plan_text_check(text: str, *, field: str = "text") -> str:
    """The cleaned text, or a refusal when it is empty, enormous or has almost no Chinese."""
    text = plan_text_clean(text)
    if not text.strip():
        raise _refuse(_("没有读到任何文字：文件或粘贴的内容是空的。"), field)
    if len(text) > MAX_TEXT_CHARS:
        raise _refuse(
            _("预案文字过长（%(n)s 字符，上限 %(max)s）：请只导入预案正文，不含附件汇编。")
            % {"n": f"{len(text):,}", "max": f"{MAX_TEXT_CHARS:,}"},
            field,
        )
    if len(_CJK.findall(text)) < MIN_CJK_CHARS:
        raise _refuse(_("内容中几乎没有中文，不像一份应急预案：请确认选择的是预案文件。"), field)
    return text


def _docx_text(data: bytes) -> str:
    import docx  # python-docx; loaded only when a Word file arrives
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise _refuse(_("Word 文件已损坏或不是 .docx 格式，无法打开（%(reason)s）。") % {"reason": exc}) from exc
    except Exception as exc:  # lxml and zipfile raise many kinds for a damaged package
        raise _refuse(_("Word 文件已损坏，无法读取其内容。")) from exc
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = cell.text.strip().replace("\n", " ")
                    if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                        cells.append(value)
                if cells:
                    lines.append("：".join(cells) if len(cells) == 2 else "　".join(cells))
    return "\n".join(lines)


def _plain_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse(_("无法识别文件的文字编码：请另存为 UTF-8 编码的 .txt 文件，或直接粘贴预案文字。"))


def plan_file_size_check(size: int) -> None:
    """Refuse an empty or an enormous file (before its bytes are read, where the size is known)."""
    if not size:
        raise _refuse(_("上传的文件是空的（0 字节）。"))
    if size > MAX_FILE_BYTES:
        raise _refuse(
            _("文件过大（%(size)s MB，上限 %(max)s MB）。")
            % {"size": f"{size / 1048576:.1f}", "max": MAX_FILE_BYTES // 1048576}
        )


def plan_file_read(*, name: str, data: bytes) -> str:
    """The text of an uploaded plan file (.docx or .txt), checked as `plan_text_check` does."""
    plan_file_size_check(len(data))
    lowered = name.lower()
    kind = filetype.guess(data)
    mime = kind.mime if kind else ""
    if mime == "application/pdf" or lowered.endswith(".pdf"):
        raise _refuse(
            _("暂不支持 PDF（扫描件没有可读取的文字）：请上传预案的 Word 原文件（.docx）或 .txt，或直接粘贴文字。")
        )
    if mime.startswith("image/"):
        raise _refuse(_("这是一张图片，没有可读取的文字：请上传预案的 Word 原文件（.docx）或 .txt，或直接粘贴文字。"))
    if data.startswith(b"\xd0\xcf\x11\xe0") or lowered.endswith(".doc"):
        raise _refuse(_("这是旧版 Word 文件（.doc）：请在 Word 或 WPS 中另存为 .docx 后再导入。"))
    if lowered.endswith(".docx") or data.startswith(b"PK\x03\x04"):
        if not lowered.endswith(".docx"):
            raise _refuse(_("这是压缩包或其他 Office 文件，不是 Word 文档（.docx）。"))
        text = _docx_text(data)
    elif lowered.endswith((".txt", ".text", ".md")) or not lowered.rpartition(".")[1]:
        if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _refuse(_("这不是文本文件：请上传 .docx 或 .txt。"))
        text = _plain_text(data)
    else:
        raise _refuse(
            _("不支持的文件类型“%(ext)s”：请上传 .docx 或 .txt，或直接粘贴预案文字。")
            % {"ext": lowered.rpartition(".")[2]}
        )
    return plan_text_check(unicodedata.normalize("NFC", text), field="file")
