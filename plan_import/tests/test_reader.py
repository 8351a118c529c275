"""Reading a plan file: Word and text files give their text; anything else is refused with what the
file is and what to do."""

import io
import zipfile

import docx
import pytest
from PIL import Image

from opinion_ops.errors import DomainError
from plan_import.reader import MAX_FILE_BYTES, MAX_TEXT_CHARS, plan_file_read, plan_text_check

PLAN = (
    "网络舆情应急预案\n一、组织机构\n（一）成立网络舆情应急处置领导小组，负责统一领导。\n"
    "做到30分钟内口头汇报和90分钟内书面汇报。"
)


def word_file(paragraphs: list[str], table: list[tuple[str, str]] | None = None) -> bytes:
    document = docx.Document()
    document.add_heading(paragraphs[0], level=1)
    for paragraph in paragraphs[1:]:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=2)
        for row, (left, right) in zip(grid.rows, table, strict=True):
            row.cells[0].text, row.cells[1].text = left, right
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def refusal(name: str, data: bytes) -> str:
    with pytest.raises(DomainError) as caught:
        plan_file_read(name=name, data=data)
    assert caught.value.field == "file"
    return str(caught.value.message)


def test_it_reads_a_word_plan_with_its_paragraphs_and_tables_in_order():
    data = word_file(PLAN.split("\n"), table=[("组长", "张三"), ("副组长", "李四")])
    text = plan_file_read(name="预案.docx", data=data)
    assert text.split("\n")[:2] == ["网络舆情应急预案", "一、组织机构"]
    assert text.endswith("组长：张三\n副组长：李四")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_it_reads_text_files_in_the_encodings_offices_save(encoding):
    assert plan_file_read(name="plan.txt", data=PLAN.encode(encoding)) == PLAN


def test_it_refuses_what_is_not_a_plans_text():
    image = io.BytesIO()
    Image.new("RGB", (8, 8)).save(image, "PNG")
    assert "图片" in refusal("scan.png", image.getvalue())
    assert "PDF" in refusal("scan.pdf", b"%PDF-1.4\n%scanned")
    assert ".doc" in refusal("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert "损坏" in refusal("broken.docx", word_file(["预案"])[:300])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as folder:
        folder.writestr("a.txt", "x")
    assert "损坏" in refusal("not-word.docx", archive.getvalue())
    assert "空" in refusal("empty.txt", b"")
    assert "过大" in refusal("huge.txt", b"a" * (MAX_FILE_BYTES + 1))
    assert "文本" in refusal("binary.txt", b"\x00\x01\x02" * 100)
    assert "不是 Word" in refusal("plan.xlsx", b"PK\x03\x04" + b"\x00" * 50)
    assert "不支持" in refusal("plan.rtf", "{\\rtf1 预案}".encode())
    assert "中文" in refusal("english.txt", b"an emergency plan written in English " * 10)


def test_pasted_text_is_checked_the_same_way():
    with pytest.raises(DomainError) as caught:
        plan_text_check("   \n  ")
    assert caught.value.field == "text"
    with pytest.raises(DomainError, match="过长"):
        plan_text_check("预" * (MAX_TEXT_CHARS + 1))
    assert plan_text_check("\ufeff" + PLAN.replace("\n", "\r\n") + "\n\n\n") == PLAN
