"""Reading a file of posts for import (监测信息导入): what a person who uploads a CSV or XLSX sees."""

import io
import random
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import Workbook
from openpyxl.utils.datetime import to_excel

from incidents.models import Platform
from monitoring.imports import COLUMNS, MAX_BYTES, MAX_ROWS, MAX_TEXT_CHARS, ImportPreview, posts_file_read

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)  # 2026-11-28 12:00 in Asia/Shanghai


def read(content: bytes, filename: str = "posts.csv") -> ImportPreview:
    return posts_file_read(content, filename, now=NOW)


def read_csv(text: str, encoding: str = "utf-8", filename: str = "posts.csv") -> ImportPreview:
    return read(text.encode(encoding), filename)


def workbook(cells: dict[int, list[Any]], setup: Any = None, title: str = "Sheet1") -> bytes:
    """An .xlsx whose sheet has `cells[row]` at that Excel row (rows not listed stay blank)."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row, values in cells.items():
        for column, value in enumerate(values, start=1):
            if value is not None:
                sheet.cell(row=row, column=column, value=value)
    if setup is not None:
        setup(book, sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=8)


CHINESE_CSV = (
    "标题,内容,链接,平台,发布者,发布时间,编号\n"
    "食堂问题,某校食堂饭菜有问题，网友热议,https://weibo.com/1/abc,新浪微博,@网友甲,2026-11-27 10:30,W001\n"
    "回应,学校已回应：正在核查,https://mp.weixin.qq.com/s/xyz,公众号,𠮷野家,2026/11/27 11:05:30,W002\n"
)


# --- encodings and separators


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_it_reads_chinese_headers_in_the_encodings_excel_writes(encoding: str) -> None:
    preview = read_csv(CHINESE_CSV, encoding)

    assert preview.error is None
    assert preview.columns == {
        "标题": "title",
        "内容": "text",
        "链接": "url",
        "平台": "platform",
        "发布者": "author",
        "发布时间": "published_at",
        "编号": "external_id",
    }
    assert [row.line for row in preview.rows] == [2, 3]
    assert preview.valid_rows == 2 and preview.invalid_rows == 0
    first, second = preview.rows
    assert first.values == {
        "title": "食堂问题",
        "text": "某校食堂饭菜有问题，网友热议",
        "url": "https://weibo.com/1/abc",
        "platform": "weibo",
        "author": "@网友甲",
        "published_at": shanghai(2026, 11, 27, 10, 30),
        "external_id": "W001",
    }
    assert second.values["author"] == "𠮷野家"  # outside GBK: only GB18030 or UTF-8 hold it
    assert second.values["platform"] == "wechat"
    assert second.values["published_at"] == shanghai(2026, 11, 27, 11, 5, 30)


def test_it_reads_a_gbk_csv_as_excel_on_chinese_windows_saves_it() -> None:
    text = CHINESE_CSV.replace("𠮷野家", "吉野家").replace("\n", "\r\n")
    content = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")

    preview = read(content)

    assert preview.error is None
    assert "GBK" in preview.read_as
    assert preview.rows[0].values["text"] == "某校食堂饭菜有问题，网友热议"
    assert preview.rows[1].values["author"] == "吉野家"


def test_it_reads_excel_unicode_text_utf16_tab_separated() -> None:
    preview = read(CHINESE_CSV.replace(",", "\t").encode("utf-16"), "posts.txt")

    assert preview.error is None
    assert preview.valid_rows == 2
    assert "制表符" in preview.read_as


@pytest.mark.parametrize("separator", [";", "\t", "|"])
def test_it_finds_the_separator_from_the_header(separator: str) -> None:
    text = f"title{separator}content{separator}link\nA, B{separator}x, y, z{separator}https://zhihu.com/q/1\n"

    preview = read_csv(text)

    assert preview.error is None
    assert preview.rows[0].values["title"] == "A, B"
    assert preview.rows[0].values["text"] == "x, y, z"
    assert preview.rows[0].values["platform"] == "zhihu"  # blank: guessed from the link


def test_it_honours_excels_sep_line_and_numbers_rows_as_excel_shows_them() -> None:
    preview = read_csv("sep=;\n内容;标题\n第一条;A\n")

    assert preview.header_line == 1
    assert preview.rows[0].line == 2
    assert preview.rows[0].values["text"] == "第一条"


def test_english_headers_in_any_case_with_spaces_and_notes() -> None:
    text = (
        "Title, Content ,URL,Platform,Author,Published_At,External_ID\n"
        "t,body text,https://weibo.com/1,WEIBO,someone,2026-11-27T10:30:00+08:00,42\n"
    )

    preview = read_csv(text)

    assert set(preview.columns.values()) == {column.field for column in COLUMNS}
    assert preview.rows[0].ok, preview.rows[0].errors
    assert preview.rows[0].values["published_at"] == shanghai(2026, 11, 27, 10, 30)
    assert preview.rows[0].values["external_id"] == "42"


def test_headers_with_notes_full_width_letters_and_bilingual_names_are_recognised() -> None:
    preview = read_csv(
        "内容（必填）,发布时间(北京时间),链接/URL,ＰＬＡＴＦＯＲＭ,*作者：\n正文,2026-11-27,https://weibo.com/1,微博,甲\n"
    )

    assert list(preview.columns.values()) == ["text", "published_at", "url", "platform", "author"]
    assert preview.rows[0].ok


# --- header, columns, row numbers


def test_unknown_columns_are_ignored_and_listed() -> None:
    preview = read_csv("序号,内容,采集时间,来源,备注\n1,正文,2026-11-27,人民网,无\n")

    assert preview.columns == {"内容": "text"}
    assert preview.ignored_columns == ["序号", "采集时间", "来源", "备注"]
    assert preview.rows[0].values["text"] == "正文"
    assert preview.rows[0].values["platform"] == "other"


def test_a_field_named_twice_keeps_its_most_specific_column() -> None:
    preview = read_csv("时间,内容,发布时间\n2026-01-01,正文,2026-11-27 10:30\n")

    assert preview.columns == {"内容": "text", "发布时间": "published_at"}
    assert preview.ignored_columns == ["时间"]
    assert preview.rows[0].values["published_at"] == shanghai(2026, 11, 27, 10, 30)


def test_a_missing_required_column_is_named_with_the_names_it_may_have() -> None:
    preview = read_csv("标题,链接\n标题一,https://weibo.com/1\n")

    assert preview.missing == ["text"]
    assert preview.error is not None
    assert "缺少必填的列：内容" in preview.error and "正文" in preview.error
    assert preview.rows == [] and preview.importable == []


def test_a_file_without_a_recognisable_header_says_what_the_header_should_be() -> None:
    preview = read_csv("a,b,c\n1,2,3\n")

    assert preview.error is not None
    assert "没有找到表头" in preview.error and "内容" in preview.error


def test_row_numbers_are_the_ones_the_user_sees_with_title_rows_blank_lines_and_line_breaks_in_cells() -> None:
    text = (
        "2026年11月监测信息汇总\n"  # 1: a title row
        "\n"  # 2
        "内容,标题\n"  # 3: the header
        '"第一行\n第二行",多行内容\n'  # 4 (two lines in an editor, one row in Excel)
        "\n"  # 5: blank, skipped
        ",没有内容\n"  # 6
        "最后一条,\n"  # 7
    )

    preview = read_csv(text)

    assert preview.header_line == 3
    assert [row.line for row in preview.rows] == [4, 6, 7]
    assert preview.rows[0].values["text"] == "第一行\n第二行"
    assert preview.rows[1].messages() == ["第 6 行，内容：内容为空。"]


def test_header_only_is_an_error() -> None:
    preview = read_csv("内容,标题\n\n\n")

    assert preview.error == "文件中只有表头，没有数据行。"


# --- XLSX


def test_xlsx_with_a_merged_title_row_blank_rows_excel_datetimes_numbers_and_hyperlinks() -> None:
    serial = to_excel(datetime(2026, 11, 27, 10, 30))

    def setup(book: Any, sheet: Any) -> None:
        sheet.merge_cells("A1:F1")
        sheet.cell(row=5, column=3).hyperlink = "https://weibo.com/7/abc"

    content = workbook(
        {
            1: ["2026年11月舆情监测信息"],
            3: ["内容", "平台", "链接", "发布时间", "编号", "备注"],
            4: ["第一条", "抖音", "https://www.douyin.com/video/1", datetime(2026, 11, 26, 9, 15), 123456789, "x"],
            5: ["第二条", "微博", "查看原文", serial, 12.0],
            7: ["第三条", None, None, "2026-11-27", None],
        },
        setup,
    )

    preview = read(content, "posts.xlsx")

    assert preview.error is None
    assert preview.header_line == 3
    assert preview.read_as == "Excel 工作表「Sheet1」"
    assert preview.ignored_columns == ["备注"]
    assert [row.line for row in preview.rows] == [4, 5, 7]
    assert all(row.ok for row in preview.rows), [row.errors for row in preview.rows]
    first, second, third = (row.values for row in preview.rows)
    assert first["published_at"] == shanghai(2026, 11, 26, 9, 15)
    assert first["external_id"] == "123456789"
    assert first["platform"] == "douyin"
    assert second["url"] == "https://weibo.com/7/abc"  # the cell shows 「查看原文」 and links to the post
    assert second["published_at"] == shanghai(2026, 11, 27, 10, 30)
    assert second["external_id"] == "12"
    assert third["published_at"] == shanghai(2026, 11, 27)
    assert third["platform"] == "other"


def test_xlsx_two_row_merged_header_and_a_platform_merged_over_its_rows() -> None:
    def setup(book: Any, sheet: Any) -> None:
        sheet.merge_cells("A1:A2")  # 内容 spans both header rows
        sheet.merge_cells("B1:C1")  # 发布信息 over 平台 and 发布时间
        sheet.merge_cells("B3:B4")  # one platform for two posts

    content = workbook(
        {
            1: ["内容", "发布信息"],
            2: [None, "平台", "发布时间"],
            3: ["第一条", "快手", "2026-11-27 08:00"],
            4: ["第二条", None, "2026-11-27 09:00"],
        },
        setup,
    )

    preview = read(content, "posts.xlsx")

    assert preview.header_line == 2
    assert preview.columns == {"内容": "text", "平台": "platform", "发布时间": "published_at"}
    assert [row.line for row in preview.rows] == [3, 4]
    assert [row.values["platform"] for row in preview.rows] == ["kuaishou", "kuaishou"]


def test_xlsx_whose_active_sheet_is_instructions_reads_the_sheet_with_the_posts() -> None:
    def setup(book: Any, sheet: Any) -> None:
        posts = book.create_sheet("监测信息")
        posts.append(["内容", "平台"])
        posts.append(["正文", "小红书"])

    content = workbook({1: ["填写说明：每行一条信息"]}, setup, title="说明")

    preview = read(content, "posts.xlsx")

    assert preview.error is None
    assert preview.read_as == "Excel 工作表「监测信息」"
    assert preview.rows[0].values["platform"] == "xiaohongshu"


def test_a_zip_is_read_as_a_workbook_whatever_its_name() -> None:
    preview = read(workbook({1: ["内容"], 2: ["正文"]}), "导出.csv")

    assert preview.rows[0].values["text"] == "正文"


def test_a_long_number_excel_already_rounded_is_refused_as_an_id() -> None:
    preview = read(workbook({1: ["内容", "编号"], 2: ["正文", 4912345678901234]}), "posts.xlsx")

    assert "长数字" in preview.rows[0].errors["external_id"]
    preview = read_csv("内容,编号\n正文,4.91235E+15\n")
    assert "4.91235E+15" in preview.rows[0].errors["external_id"]


# --- file-level errors


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (b"", "posts.csv", "文件是空的"),
        (b"\xef\xbb\xbf\r\n\r\n  \n", "posts.csv", "文件是空的"),
        (b",,,\n,,\n", "posts.csv", "文件是空的"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "posts.pdf", "无法识别的文件格式"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "posts.png", "无法识别的文件格式"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "Workbook".encode("utf-16-le"), "posts.xls", "旧版 Excel（.xls）"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"),
            "posts.xlsx",
            "设置了打开密码",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le"), "a.doc", "无法识别的文件格式"),
        ("<html><body><table><tr><td>内容</td></tr></table>".encode(), "posts.xls", "网页或 XML"),
        ("内容\n正文\n".encode() + b"\xff\xff\x80\x80\n", "posts.csv", "无法识别文件的文字编码"),
        (b"\x01\x02\x03\xfe\xfd binary", "posts.xlsx", "文件可能已损坏"),
    ],
)
def test_a_file_that_cannot_be_read_gets_one_message_saying_why(content: bytes, filename: str, expected: str) -> None:
    preview = read(content, filename)

    assert preview.error is not None and expected in preview.error, preview.error
    assert preview.rows == [] and preview.valid_rows == 0


def test_a_corrupt_or_foreign_zip_is_refused_with_a_message() -> None:
    good = workbook({1: ["内容"], 2: ["正文"]})
    assert "已损坏" in (read(good[: len(good) // 2], "posts.xlsx").error or "")

    document = io.BytesIO()
    with zipfile.ZipFile(document, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert "无法识别的文件格式" in (read(document.getvalue(), "a.docx").error or "")

    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert ".ods" in (read(ods.getvalue(), "a.ods").error or "")


def test_a_file_over_five_megabytes_is_refused() -> None:
    content = ("内容\n" + ("很长的一段正文。" * 100 + "\n") * 2300).encode()
    assert len(content) > MAX_BYTES

    preview = read(content)

    assert preview.error is not None and "文件过大" in preview.error and "5 MB" in preview.error


def test_five_thousand_rows_are_read_and_one_more_is_refused() -> None:
    rows = "".join(f"第{i}条,https://weibo.com/{i}\n" for i in range(MAX_ROWS))

    assert read_csv("内容,链接\n" + rows).valid_rows == MAX_ROWS
    preview = read_csv("内容,链接\n" + rows + "多一条,https://weibo.com/x\n")
    assert preview.error is not None and "超过 5,000 行" in preview.error


def test_an_xlsx_with_too_many_rows_is_refused() -> None:
    cells = {1: ["内容"], **{row: [f"第{row}条"] for row in range(2, MAX_ROWS + 3)}}

    preview = read(workbook(cells), "posts.xlsx")

    assert preview.error is not None and "超过 5,000 行" in preview.error


def test_an_unmatched_quote_is_reported_near_its_line_rather_than_swallowing_the_file() -> None:
    text = "内容\n" + "正常\n" * 3 + '"引号没有闭合\n' + ("后面的内容" * 1000 + "\n") * 40

    preview = read_csv(text)

    assert preview.error is not None and "第 5 行附近无法解析" in preview.error


def test_it_never_raises_for_garbage_truncated_or_damaged_files() -> None:
    generator = random.Random(20261127)
    good = workbook({1: ["内容", "发布时间"], 2: ["正文", datetime(2026, 11, 27, 10, 30)]})
    stored = io.BytesIO()  # the same workbook uncompressed, so damage lands in its XML and zip headers
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as copy:
        for info in source.infolist():
            copy.writestr(info.filename, source.read(info.filename))
    samples = [bytes(generator.randrange(256) for _ in range(generator.randrange(1, 400))) for _ in range(200)]
    samples += [good[:cut] for cut in range(4, len(good), max(1, len(good) // 60))]
    for _ in range(300):
        damaged = bytearray(stored.getvalue())
        for _ in range(generator.randrange(1, 6)):
            damaged[generator.randrange(len(damaged))] = generator.randrange(256)
        samples.append(bytes(damaged))
    future = bytearray(good)  # a zip needing a newer version to extract: zipfile raises NotImplementedError
    future[good.index(b"PK\x01\x02") + 6] = 250
    samples.append(bytes(future))
    for index, content in enumerate(samples):
        preview = read(content, "posts.xlsx" if index % 2 else "posts.csv")
        assert isinstance(preview, ImportPreview)


# --- cells


@pytest.mark.parametrize(
    ("written", "platform"),
    [
        ("weibo", "weibo"),
        ("微博", "weibo"),
        ("新浪微博", "weibo"),
        ("WeChat", "wechat"),
        ("微信公众号", "wechat"),
        ("公众号", "wechat"),
        ("视频号", "wechat"),
        ("抖音", "douyin"),
        ("B站", "bilibili"),
        ("b 站", "bilibili"),
        ("哔哩哔哩", "bilibili"),
        ("知乎", "zhihu"),
        ("小红书", "xiaohongshu"),
        ("贴吧", "forum"),
        ("百度贴吧", "forum"),
        ("论坛 / 贴吧", "forum"),
        ("新闻网站", "news"),
        ("今日头条", "app"),
        ("头条号", "app"),
        ("新闻客户端", "app"),
        ("视频网站", "video"),
        ("其他", "other"),
        ("微博（新浪）", "weibo"),
        ("ｗｅｉｂｏ", "weibo"),
    ],
)
def test_platform_codes_labels_and_common_names(written: str, platform: str) -> None:
    preview = read_csv(f"内容,平台\n正文,{written}\n")

    assert preview.rows[0].values["platform"] == platform


def test_every_platform_code_and_label_is_accepted() -> None:
    for code, label in Platform.choices:
        for written in (code, str(label)):
            assert read_csv(f"内容,平台\n正文,{written}\n").rows[0].values["platform"] == code, written


def test_an_unknown_platform_names_the_value_and_what_may_be_written() -> None:
    row = read_csv("内容,平台\n正文,脸书\n").rows[0]

    assert not row.ok
    assert row.messages() == [
        "第 2 行，平台：无法识别的平台「脸书」，可填写："
        "微博、微信、抖音、快手、哔哩哔哩、知乎、小红书、论坛 / 贴吧、新闻网站、新闻客户端、视频网站、其他。"
    ]


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://m.weibo.cn/detail/1", "weibo"),
        ("https://mp.weixin.qq.com/s/abc", "wechat"),
        ("https://www.bilibili.com/video/BV1", "bilibili"),
        ("https://tieba.baidu.com/p/1", "forum"),
        ("https://www.toutiao.com/article/1", "app"),
        ("https://www.baidu.com/s", "other"),
        ("", "other"),
    ],
)
def test_a_blank_platform_is_guessed_from_the_link(url: str, platform: str) -> None:
    assert read_csv(f"内容,平台,链接\n正文,,{url}\n").rows[0].values["platform"] == platform


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-11-27 10:30", shanghai(2026, 11, 27, 10, 30)),
        ("2026/11/27 10:30:15", shanghai(2026, 11, 27, 10, 30, 15)),
        ("2026/1/5 9:05", shanghai(2026, 1, 5, 9, 5)),
        ("2026年11月27日 10时30分", shanghai(2026, 11, 27, 10, 30)),
        ("2026年11月27日10时30分15秒", shanghai(2026, 11, 27, 10, 30, 15)),
        ("2026年11月27日 下午3:30", shanghai(2026, 11, 27, 15, 30)),
        ("2026-11-27T10:30:00+08:00", shanghai(2026, 11, 27, 10, 30)),
        ("2026-11-27T02:30:00Z", shanghai(2026, 11, 27, 10, 30)),
        ("2026-11-27 10:30:00.250", shanghai(2026, 11, 27, 10, 30) + timedelta(milliseconds=250)),
        ("2026-11-27", shanghai(2026, 11, 27)),
        ("2026年11月27日", shanghai(2026, 11, 27)),
        ("２０２６－１１－２７　１０：３０", shanghai(2026, 11, 27, 10, 30)),
        (str(to_excel(datetime(2026, 11, 27, 10, 30))), shanghai(2026, 11, 27, 10, 30)),
        (str(int(shanghai(2026, 11, 27, 10, 30).timestamp())), shanghai(2026, 11, 27, 10, 30)),
        (str(int(shanghai(2026, 11, 27, 10, 30).timestamp()) * 1000), shanghai(2026, 11, 27, 10, 30)),
        ("Fri Nov 27 10:30:00 +0800 2026", shanghai(2026, 11, 27, 10, 30)),
    ],
)
def test_published_at_formats_people_write_are_read_as_shanghai_times(written: str, expected: datetime) -> None:
    row = read_csv(f"内容,发布时间\n正文,{written}\n").rows[0]

    assert row.ok, row.errors
    assert row.values["published_at"] == expected
    assert row.values["published_at"].tzinfo == UTC


@pytest.mark.parametrize(
    "written", ["明天", "2026-13-01", "2026-02-30 10:00", "27/11/2026", "10:30", "2026-11-27 25:00"]
)
def test_an_unreadable_time_names_the_value(written: str) -> None:
    row = read_csv(f"内容,发布时间\n正文,{written}\n").rows[0]

    assert row.errors["published_at"] == f"无法识别的时间「{written}」，请写成 2026-11-27 10:30 这样的格式。"
    assert "published_at" not in row.values


def test_a_time_more_than_a_day_ahead_is_an_error_and_within_a_day_is_not() -> None:
    preview = read_csv("内容,发布时间\n今天,2026-11-29 11:00\n后天,2026-11-29 13:00\n很久以前,1970-01-01\n")

    assert preview.rows[0].ok
    assert preview.rows[1].messages() == ["第 3 行，发布时间：发布时间「2026-11-29 13:00」晚于当前时间，请检查。"]
    assert "早于 1990 年" in preview.rows[2].errors["published_at"]


def test_text_over_twenty_thousand_characters_is_an_error_not_cut() -> None:
    preview = read_csv(f"内容\n{'字' * MAX_TEXT_CHARS}\n{'长' * (MAX_TEXT_CHARS + 1)}\n")

    assert preview.rows[0].ok and len(preview.rows[0].values["text"]) == MAX_TEXT_CHARS
    assert preview.rows[1].errors["text"].startswith("内容过长：20,001 字，最多 20,000 字（开头：「长长")
    assert "text" not in preview.rows[1].values
    assert preview.importable == [preview.rows[0]]


def test_a_bad_link_names_the_row_the_field_and_the_value() -> None:
    preview = read_csv("内容,链接\n正文,javascript:alert(1)\n正文二,weibo.com/1\n")

    assert preview.rows[0].messages() == [
        "第 2 行，链接：链接须以 http:// 或 https:// 开头，并包含主机名：javascript:alert(1)"
    ]
    assert "weibo.com/1" in preview.rows[1].errors["url"]
    assert preview.rows[1].raw["url"] == "weibo.com/1"  # what the page shows next to the message
    assert preview.importable == []


def test_duplicates_within_the_file_are_flagged_on_the_later_row() -> None:
    text = (
        "内容,链接,编号\n"
        "同一条  信息,https://weibo.com/1,A\n"
        "另一条,https://weibo.com/2,B\n"
        "同一条 信息 ,https://weibo.com/1,C\n"  # same link, same words modulo whitespace
        "第四条,https://weibo.com/4,A\n"
        "同一条 信息,https://weibo.com/5,D\n"  # same words, another link: not a duplicate
    )

    preview = read_csv(text)

    assert [row.ok for row in preview.rows] == [True, True, False, False, True]
    assert preview.rows[2].errors == {"text": "与第 2 行的链接和内容相同，是重复的信息。"}
    assert preview.rows[3].errors == {"external_id": "编号「A」与第 2 行重复。"}
    assert (preview.valid_rows, preview.invalid_rows) == (3, 2)


def test_formula_like_cells_are_kept_as_the_text_written() -> None:
    preview = read_csv('内容,标题,发布者\n"=HYPERLINK(""http://x.cn"",""点我"")",=1+1,+86 138\n')

    values = preview.rows[0].values
    assert values["text"] == '=HYPERLINK("http://x.cn","点我")'
    assert values["title"] == "=1+1"
    assert values["author"] == "+86 138"


def test_aliases_belong_to_one_field_each() -> None:
    seen: dict[str, str] = {}
    for column in COLUMNS:
        for alias in column.aliases:
            assert seen.setdefault(alias.casefold(), column.field) == column.field, alias
            assert read_csv(f"{alias}\nx\n").columns == {alias: column.field}


def test_five_thousand_gbk_csv_rows_are_all_read() -> None:
    # How fast is a bench question (speed is never asserted in a test: this machine's speed varies).
    rows = "".join(
        f"标题{i},某地网友讨论第{i}条信息，内容较长。{'正文' * 40},https://weibo.com/{i},微博,用户{i},"
        f"2026-11-{1 + i % 27:02d} 10:{i % 60:02d},ID{i}\n"
        for i in range(MAX_ROWS)
    )
    content = ("标题,内容,链接,平台,发布者,发布时间,编号\n" + rows).encode("gbk")

    preview = read(content)

    assert preview.valid_rows == MAX_ROWS
