"""Reading a file of posts for import (监测信息导入): CSV or XLSX in, a preview out, nothing saved.

`posts_file_read(content, filename)` never raises for anything a file can contain. It returns an
`ImportPreview`: a file-level `error` when nothing can be read, otherwise every non-blank data row as
an `ImportRow` with its cleaned `values` or its problems (`errors`, in Chinese, naming the value).
The ingest service saves `preview.importable` (the rows without errors); the same bytes read again
give the same preview (but for times that have since stopped being in the future), so the upload
page may keep the file, rather than the rows, between the preview and the import.

What a file may look like, as Excel on Chinese Windows and other tools write them:
- Format by content: a zip is a workbook (.xlsx/.xlsm); an OLE2 file is an old .xls or a workbook
  with an open password (each gets its own message); HTML or XML saved as ".xls" is refused with a
  hint; anything else that is text is CSV. The name only sharpens a message (a broken ".xlsx").
- CSV: UTF-8 with or without BOM, UTF-16 with BOM (Excel's 「Unicode 文本」), else GB18030 (a superset
  of GBK). Separator , ; tab or |, chosen as the one that makes a recognisable header; Excel's
  `sep=;` first line is honoured. Cells are text as written: "=1+1" stays "=1+1", never evaluated.
- Header: the row, among the first 20 non-blank ones, naming the most known columns (so title rows
  above it are skipped); names match COLUMNS aliases ignoring case, spaces, _ - * : and notes in
  brackets ("发布时间（北京时间）"). A field named twice keeps its most specific name; the others are
  listed in `ignored_columns` with the unknown ones.
- XLSX: the active sheet, else the first other visible sheet with a header. A merged cell's value
  fills the merged rows of its first column (two-row headers, a 平台 merged over a group of rows).
  A link cell showing 「查看原文」 with a hyperlink is read as the hyperlink.
- Row numbers (`ImportRow.line`) are those Excel shows: the sheet's row number; for CSV the record
  number counting blank lines, header = 1 (the editor's line number unless a cell holds line breaks).
- Platforms: codes, Chinese labels and common names (PLATFORM_NAMES); blank means guessed from the
  link's host (weibo.com → weibo …), else 「其他」. 今日头条/头条号/百家号 are news apps (`app`);
  视频号/公众号 are WeChat; 贴吧/天涯/豆瓣 are forums; 西瓜视频/优酷/腾讯视频 are video sites.
- Times (`published_at`): naive times are Asia/Shanghai, stored as aware UTC. 2026-11-27 10:30,
  2026/1/5 9:05:07, 2026年11月27日 10时30分, 下午 3:30, ISO 8601 with offset, a date alone (midnight),
  Excel dates, Excel serial numbers (20000–99999), Unix seconds or milliseconds, Weibo's
  "Fri Nov 27 10:30:00 +0800 2026". More than a day ahead, or before 1990, is an error.
- Duplicates within the file (same external_id; or same link and the same text modulo whitespace,
  as `mention_content_hash` compares) are flagged on the later row.
"""

import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from itertools import islice
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.packaging.relationship import get_dependents, get_rels_path
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel
from openpyxl.worksheet._reader import WorkSheetParser

from incidents.models import Platform
from opinion_ops.errors import DomainError
from opinion_ops.links_policy import http_url_check

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_TEXT_CHARS = 20_000
MAX_TITLE_CHARS = 500
MAX_AUTHOR_CHARS = 200
MAX_EXTERNAL_ID_CHARS = 200
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # a 5 MiB workbook that inflates past this is not a list of posts
HEADER_SCAN_ROWS = 20
FUTURE_TOLERANCE = timedelta(days=1)
EARLIEST_PUBLISHED = datetime(1990, 1, 1, tzinfo=UTC)
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Column:
    field: str
    label: Promise
    aliases: tuple[str, ...]  # most specific first: of two columns for one field, the earlier alias wins
    required: bool = False


def _column(name: str, label: Promise, aliases: str, *, required: bool = False) -> Column:
    return Column(name, label, tuple(aliases.split()), required)


COLUMNS: tuple[Column, ...] = (
    _column(
        "text",
        gettext_lazy("内容"),
        "内容 正文 正文内容 信息内容 帖子内容 发帖内容 原文内容 原文 全文 舆情内容 text content body 摘要",
        required=True,
    ),
    _column("title", gettext_lazy("标题"), "标题 帖子标题 文章标题 信息标题 主题 title subject"),
    _column(
        "url", gettext_lazy("链接"), "链接 网址 原文链接 链接地址 原帖链接 帖子链接 文章链接 网页链接 url link href"
    ),
    _column("platform", gettext_lazy("平台"), "平台 来源平台 发布平台 平台类型 媒体类型 渠道 platform channel"),
    _column(
        "author",
        gettext_lazy("发布者"),
        "发布者 作者 账号 账号名称 发布人 发帖人 博主 用户名 昵称 author account username user",
    ),
    _column(
        "published_at",
        gettext_lazy("发布时间"),
        "发布时间 发帖时间 发表时间 发布日期 时间 日期 published_at publish_time pubdate published datetime date time",
    ),
    _column("external_id", gettext_lazy("编号"), "外部编号 编号 信息编号 帖子id 原文id external_id post_id id"),
)
FIELDS = tuple(column.field for column in COLUMNS)
_LABELS = {column.field: column.label for column in COLUMNS}

# Names people write for each platform, matched like headers (case, spaces, bracketed notes ignored).
PLATFORM_NAMES: dict[str, str] = {
    Platform.WEIBO: "微博 新浪微博 微博客 sinaweibo",
    Platform.WECHAT: "微信 微信公众号 公众号 微信公众平台 视频号 微信视频号 朋友圈 weixin",
    Platform.DOUYIN: "抖音 抖音短视频",
    Platform.KUAISHOU: "快手",
    Platform.BILIBILI: "哔哩哔哩 b站 bilibili 哔哩",
    Platform.ZHIHU: "知乎",
    Platform.XIAOHONGSHU: "小红书 xhs rednote",
    Platform.FORUM: "论坛/贴吧 论坛 贴吧 百度贴吧 社区 天涯 天涯社区 豆瓣 bbs tieba",
    Platform.NEWS: "新闻网站 新闻 网站 新闻网 网媒 网络媒体 门户网站 纸媒 报刊 报纸 website",
    Platform.APP: "新闻客户端 客户端 新闻app 今日头条 头条 头条号 百家号 网易新闻 腾讯新闻",
    Platform.VIDEO: "视频网站 视频 短视频 西瓜视频 优酷 爱奇艺 腾讯视频 youtube",
    Platform.OTHER: "其他 其它 未知",
}
# A blank platform is guessed from the link's host (the host or any of its subdomains).
PLATFORM_HOSTS: dict[str, str] = {
    "weibo.com": Platform.WEIBO,
    "weibo.cn": Platform.WEIBO,
    "t.cn": Platform.WEIBO,
    "weixin.qq.com": Platform.WECHAT,
    "douyin.com": Platform.DOUYIN,
    "iesdouyin.com": Platform.DOUYIN,
    "kuaishou.com": Platform.KUAISHOU,
    "gifshow.com": Platform.KUAISHOU,
    "bilibili.com": Platform.BILIBILI,
    "b23.tv": Platform.BILIBILI,
    "zhihu.com": Platform.ZHIHU,
    "xiaohongshu.com": Platform.XIAOHONGSHU,
    "xhslink.com": Platform.XIAOHONGSHU,
    "tieba.baidu.com": Platform.FORUM,
    "toutiao.com": Platform.APP,
}


@dataclass
class ImportRow:
    """One data row. `values` holds the cleaned value of every field that passed (all of them when
    `ok`): text, title, url, author, external_id as str ("" when blank), platform as a Platform code,
    published_at as an aware UTC datetime or None. `raw` is each field's cell as the user wrote it."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def messages(self) -> list[str]:
        """「第 5 行，链接：…」 for each problem, in column order."""
        return [
            _("第 %(line)s 行，%(label)s：%(message)s")
            % {"line": self.line, "label": _LABELS[name], "message": self.errors[name]}
            for name in FIELDS
            if name in self.errors
        ]


@dataclass
class ImportPreview:
    rows: list[ImportRow] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # header as written -> field
    ignored_columns: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # required fields without a column
    error: str | None = None
    header_line: int | None = None
    read_as: str = ""  # how the file was read, for the page: 「CSV（GBK 编码，逗号分隔）」

    @property
    def valid_rows(self) -> int:
        return sum(1 for row in self.rows if row.ok)

    @property
    def invalid_rows(self) -> int:
        return sum(1 for row in self.rows if not row.ok)

    @property
    def importable(self) -> list[ImportRow]:
        """The rows to save: none when the file itself has an error."""
        return [] if self.error else [row for row in self.rows if row.ok]


class _FileError(Exception):
    """The whole file cannot be read; the message is for the person who uploaded it."""

    def __init__(self, message: str | Promise) -> None:
        super().__init__(str(message))


class _Invalid(Exception):
    """One cell's value is wrong; the message names the problem and the value."""


# A row as read: 0-based column -> non-blank cell value (sparse, so a stray cell at column XFD costs nothing).
_Cells = dict[int, Any]


@dataclass
class _Table:
    rows: list[tuple[int, _Cells]]  # (line the user sees, cells), non-blank rows only
    read_as: str
    epoch: datetime = WINDOWS_EPOCH
    links: dict[tuple[int, int], str] = field(default_factory=dict)  # (line, column) -> hyperlink target
    covered: dict[int, int] = field(default_factory=dict)  # line -> last line a merged cell starting there spans


def posts_file_read(content: bytes, filename: str, *, now: datetime | None = None) -> ImportPreview:
    """Read an uploaded CSV or XLSX of posts. Never raises for the file's content: a file that cannot
    be read gives `error`; a bad cell gives that row an entry in `errors`. Saves nothing."""
    now = now or timezone.now()
    try:
        tables = _tables_read(content, filename)
        try:
            return _preview(tables, now)
        finally:
            tables.close()
    except _FileError as exc:
        return ImportPreview(error=str(exc))


# --- format


OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_BINARY_MAGICS = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"Rar!", b"\x1f\x8b", b"7z\xbc\xaf")


def _tables_read(content: bytes, filename: str) -> Generator[_Table, None, None]:
    if not content.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise _FileError(_("文件是空的。"))
    if len(content) > MAX_BYTES:
        raise _FileError(
            _("文件过大（%(size)s MB），一次最多导入 %(max)s MB，请分成几个文件导入。")
            % {"size": f"{len(content) / 1024 / 1024:.1f}", "max": MAX_BYTES // 1024 // 1024}
        )
    name = (filename or "").lower()
    if content.startswith(ZIP_MAGIC):
        return _xlsx_tables(content)
    if content.startswith(OLE2_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in content:
            raise _FileError(
                _(
                    "文件设置了打开密码，无法读取。"
                    "请在 Excel 中取消密码（文件 → 信息 → 保护工作簿），另存为 .xlsx 后再导入。"
                )
            )
        if "Workbook".encode("utf-16-le") in content or "Book".encode("utf-16-le") in content:
            raise _FileError(
                _(
                    "这是旧版 Excel（.xls）文件，无法直接导入。"
                    "请在 Excel 或 WPS 中打开，另存为“Excel 工作簿（*.xlsx）”后再导入。"
                )
            )
        raise _FileError(NOT_A_TABLE)
    if content.startswith(_BINARY_MAGICS):
        raise _FileError(NOT_A_TABLE)
    try:
        table = _csv_table(content)
    except _FileError:
        if name.endswith((".xlsx", ".xlsm")):
            raise _FileError(CORRUPT_WORKBOOK) from None
        raise
    return _one(table)


def _one(table: _Table) -> Generator[_Table, None, None]:
    yield table


NOT_A_TABLE = gettext_lazy("无法识别的文件格式：请上传 CSV 或 Excel（.xlsx）文件。")
CORRUPT_WORKBOOK = gettext_lazy("无法读取这个 Excel 文件，文件可能已损坏。请在 Excel 中打开后重新另存为 .xlsx 再导入。")
UNREADABLE_ENCODING = gettext_lazy(
    "无法识别文件的文字编码。请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后再导入。"
)


def _too_many_rows() -> str:
    return _("数据超过 %(max)s 行，一次最多导入 %(max)s 行，请分成几个文件导入。") % {"max": f"{MAX_ROWS:,}"}


# --- CSV


_DELIMITER_NAMES = {
    ",": gettext_lazy("逗号分隔"),
    "\t": gettext_lazy("制表符分隔"),
    ";": gettext_lazy("分号分隔"),
    "|": gettext_lazy("竖线分隔"),
}
_SEP_LINE = re.compile(r'"?sep=(.)"?\s*(?:\r\n|\n|\r)', re.IGNORECASE)


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def _csv_decode(content: bytes) -> tuple[str, str]:
    """The text and the encoding's name; _FileError when it is not text in a known encoding."""
    text, encoding = _csv_decoded(content)
    if _CONTROL.search(text, 0, 8192):
        raise _FileError(NOT_A_TABLE)  # control characters: a binary file that happens to decode
    return text, encoding


def _csv_decoded(content: bytes) -> tuple[str, str]:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise _FileError(UNREADABLE_ENCODING) from exc
    if b"\x00" in content:
        raise _FileError(NOT_A_TABLE)
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8"), "UTF-8"
        except UnicodeDecodeError as exc:
            raise _FileError(UNREADABLE_ENCODING) from exc
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030"), "GBK"
    except UnicodeDecodeError as exc:
        raise _FileError(UNREADABLE_ENCODING) from exc


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, _Cells]]:
    """(record number, non-blank cells) for every record, blank ones included."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 0
    try:
        for record in reader:
            line += 1
            yield line, {index: cell for index, cell in enumerate(record) if cell and not cell.isspace()}
    except csv.Error as exc:
        raise _FileError(
            _("第 %(line)s 行附近无法解析：可能是引号不配对，或某个单元格过长。请在 Excel 中打开检查后另存再导入。")
            % {"line": line + 1}
        ) from exc


def _csv_table(content: bytes) -> _Table:
    text, encoding = _csv_decode(content)
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html", "<table", "<?xml", "<meta")):
        raise _FileError(
            _("这个文件实际是网页或 XML 格式（某些系统导出的 .xls 就是这样），请在 Excel 中打开后另存为 .xlsx 再导入。")
        )
    hint = _SEP_LINE.match(text)
    if hint:
        # Excel reads the 「sep=」 line as an instruction and does not show it as a row.
        text = text[hint.end() :]
        delimiter = hint.group(1)
    else:
        delimiter = _csv_delimiter(text)
    rows: list[tuple[int, _Cells]] = []
    for line, cells in _csv_records(text, delimiter):
        if cells:
            rows.append((line, cells))
            if len(rows) > MAX_ROWS + HEADER_SCAN_ROWS:
                raise _FileError(_too_many_rows())
    described = _("CSV（%(encoding)s 编码，%(delimiter)s）") % {
        "encoding": encoding,
        "delimiter": _DELIMITER_NAMES.get(delimiter, delimiter),
    }
    return _Table(rows=rows, read_as=described)


def _csv_delimiter(text: str) -> str:
    """The separator whose first rows make the best header; comma when none does."""
    best, best_score = ",", 0
    for delimiter in (",", "\t", ";", "|"):
        try:
            rows = [row for row in islice(_csv_records(text, delimiter), 200) if row[1]][:HEADER_SCAN_ROWS]
        except _FileError:
            continue
        found = _header_find(rows)
        score = len(found[1]) if found else 0
        if score > best_score:
            best, best_score = delimiter, score
    return best


# --- XLSX


def _xlsx_tables(content: bytes) -> Generator[_Table, None, None]:
    """One table per sheet worth trying (the active one first); read lazily, so a workbook whose
    active sheet has a header parses no other sheet."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            inflated = sum(info.file_size for info in archive.infolist())
    except Exception as exc:  # zipfile raises more than BadZipFile (NotImplementedError, EOFError …)
        raise _FileError(CORRUPT_WORKBOOK) from exc
    if "xl/workbook.bin" in names:
        raise _FileError(_("不支持 Excel 二进制工作簿（.xlsb），请另存为“Excel 工作簿（*.xlsx）”后再导入。"))
    if "mimetype" in names:
        raise _FileError(_("不支持 OpenDocument 表格（.ods），请另存为“Excel 工作簿（*.xlsx）”后再导入。"))
    if not any(name.startswith("xl/") for name in names):
        raise _FileError(NOT_A_TABLE)
    if inflated > MAX_UNZIPPED_BYTES:
        raise _FileError(
            _("工作簿内容过多（解压后超过 %(max)s MB），请分成几个文件导入。") % {"max": MAX_UNZIPPED_BYTES >> 20}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, ValueError, XML errors) for a broken file
        raise _FileError(CORRUPT_WORKBOOK) from exc
    return _xlsx_sheet_tables(workbook)


def _xlsx_sheet_tables(workbook: Any) -> Generator[_Table, None, None]:
    try:
        sheets = list(workbook.worksheets)
        active = workbook.active
        ordered = [active] if active in sheets else []
        ordered += [sheet for sheet in sheets if sheet is not active and sheet.sheet_state == "visible"]
        for sheet in ordered:
            try:
                table = _xlsx_sheet_read(workbook, sheet)
            except _FileError:
                raise
            except Exception as exc:  # a broken sheet (bad XML, a shared string out of range) is a broken file
                raise _FileError(CORRUPT_WORKBOOK) from exc
            yield table
    finally:
        workbook.close()


def _xlsx_sheet_read(workbook: Any, sheet: Any) -> _Table:
    # openpyxl's read-only sheets stream rows but drop merged cells and hyperlinks, which follow the
    # rows in the sheet's XML; its own parser (pinned openpyxl 3.1.5) collects them as it streams.
    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        found: dict[int, _Cells] = {}
        for line, cells in parser.parse():
            values = {
                cell["column"] - 1: cell["value"]
                for cell in cells
                if cell["value"] is not None and not (isinstance(cell["value"], str) and not cell["value"].strip())
            }
            if values:
                found[line] = values
                if len(found) > MAX_ROWS + HEADER_SCAN_ROWS:
                    raise _FileError(_too_many_rows())
    covered = _xlsx_merged_fill(found, parser.merged_cells.mergeCell if parser.merged_cells else [])
    links = _xlsx_links(workbook, sheet, parser.hyperlinks.hyperlink, found)
    return _Table(
        rows=sorted(found.items()),
        read_as=_("Excel 工作表「%(sheet)s」") % {"sheet": sheet.title},
        epoch=workbook.epoch,
        links=links,
        covered=covered,
    )


def _xlsx_merged_fill(found: dict[int, _Cells], merged: Iterable[Any]) -> dict[int, int]:
    """Copy each merged cell's value down its first column, into rows that have cells of their own;
    return, per starting line, the last line its merged cells span (data starts below a header's)."""
    covered: dict[int, int] = {}
    for ranged in merged:
        try:
            min_col, min_row, _max_col, max_row = range_boundaries(ranged.ref)
        except (TypeError, ValueError):
            continue
        if min_row is None or max_row is None or min_col is None:
            continue
        covered[min_row] = max(covered.get(min_row, min_row), max_row)
        value = found.get(min_row, {}).get(min_col - 1)
        if value is None or max_row == min_row:
            continue
        lines = range(min_row + 1, max_row + 1) if max_row - min_row < len(found) else sorted(found)
        for line in lines:
            if min_row < line <= max_row and line in found:
                found[line].setdefault(min_col - 1, value)
    return covered


def _xlsx_links(
    workbook: Any, sheet: Any, hyperlinks: Iterable[Any], found: dict[int, _Cells]
) -> dict[tuple[int, int], str]:
    links: dict[tuple[int, int], str] = {}
    hyperlinks = list(hyperlinks)
    if not hyperlinks:
        return links
    rels_path = get_rels_path(sheet._worksheet_path)
    if rels_path not in workbook._archive.namelist():
        return links
    relations = get_dependents(workbook._archive, rels_path)
    for link in hyperlinks:
        if not link.id:
            continue  # a link to a place inside the workbook
        try:
            target = relations.get(link.id).Target
            min_col, min_row, max_col, max_row = range_boundaries(link.ref)
        except (KeyError, TypeError, ValueError):
            continue
        for line in range(min_row, min(max_row, min_row + MAX_ROWS + HEADER_SCAN_ROWS) + 1):
            if line in found:
                for column in range(min_col, min(max_col, min_col + 50) + 1):
                    links[(line, column - 1)] = str(target)
    return links


# --- header


def _key(text: str) -> str:
    """How names are compared: full-width as half-width, any case, without spaces, _ - * : . or
    notes in brackets."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _KEY_NOISE.sub("", text)


_KEY_NOISE = re.compile(r"\(.*?\)|\[.*?\]|【.*?】|〔.*?〕|<.*?>|[\s\ufeff\u200b_\-*:.·]+")
_KEY_PARTS = re.compile(r"[/|、]")
_ALIASES: dict[str, tuple[str, int]] = {
    _key(alias): (column.field, rank) for column in COLUMNS for rank, alias in enumerate(column.aliases)
}
_PLATFORM_INDEX: dict[str, str] = {
    **{_key(code): str(code) for code in Platform.values},
    **{_key(name): str(code) for code, names in PLATFORM_NAMES.items() for name in names.split()},
}


def _alias_find(header: str) -> tuple[str, int] | None:
    """(field, rank) a header names; 「链接/URL」 names what either half names."""
    key = _key(header)
    known = _ALIASES.get(key)
    if known is None and _KEY_PARTS.search(key):
        known = next((_ALIASES[part] for part in _KEY_PARTS.split(key) if part in _ALIASES), None)
    return known


def _header_map(cells: _Cells) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """(column -> field, header -> field, ignored headers) for one candidate header row."""
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, column)
    for column in sorted(cells):
        known = _alias_find(_cell_text(cells[column]))
        if known is None:
            continue
        name, rank = known
        if name not in best or rank < best[name][0]:
            best[name] = (rank, column)
    mapping = {column: name for name, (_rank, column) in best.items()}
    columns, ignored = {}, []
    for column in sorted(cells):
        header = _cell_text(cells[column])
        if column in mapping:
            columns[header] = mapping[column]
        elif header:
            ignored.append(header)
    return mapping, columns, ignored


def _header_find(rows: list[tuple[int, _Cells]]) -> tuple[int, dict[int, str]] | None:
    """(position in rows, column -> field) of the row naming the most known fields; first one on a tie."""
    best: tuple[int, dict[int, str]] | None = None
    for position, (_line, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapping = _header_map(cells)[0]
        if mapping and (best is None or len(mapping) > len(best[1])):
            best = (position, mapping)
    return best


# --- rows


def _preview(tables: Iterator[_Table], now: datetime) -> ImportPreview:
    table = None
    found = None
    for candidate in tables:
        table = candidate
        found = _header_find(candidate.rows)
        if found:
            break
    if table is None or not table.rows:
        raise _FileError(_("文件是空的。"))
    if found is None:
        raise _FileError(
            _("没有找到表头。请在第一行填写列名，例如：%(names)s。")
            % {"names": "、".join(str(column.label) for column in COLUMNS)}
        )
    position, mapping = found
    header_line, header_cells = table.rows[position]
    _mapping, columns, ignored = _header_map(header_cells)
    preview = ImportPreview(columns=columns, ignored_columns=ignored, header_line=header_line, read_as=table.read_as)
    mapped = set(mapping.values())
    preview.missing = [column.field for column in COLUMNS if column.required and column.field not in mapped]
    if preview.missing:
        preview.error = _("缺少必填的列：%(names)s。") % {
            "names": "；".join(
                _("%(label)s（列名可写作：%(aliases)s）")
                % {"label": column.label, "aliases": "、".join(column.aliases[:4])}
                for column in COLUMNS
                if column.field in preview.missing
            )
        }
        return preview
    # Rows still inside a merged header cell (a two-row header) are part of the header.
    data_from = max([header_line, *(end for start, end in table.covered.items() if start <= header_line)])
    data = [(line, cells) for line, cells in table.rows[position + 1 :] if line > data_from]
    if not data:
        preview.error = _("文件中只有表头，没有数据行。")
        return preview
    if len(data) > MAX_ROWS:
        preview.error = _too_many_rows()
        return preview
    context = _Context(now=now, epoch=table.epoch, links=table.links)
    preview.rows = [_row_read(line, cells, mapping, context) for line, cells in data]
    _duplicates_flag(preview.rows)
    return preview


@dataclass
class _Context:
    now: datetime
    epoch: datetime
    links: dict[tuple[int, int], str]


def _row_read(line: int, cells: _Cells, mapping: dict[int, str], context: _Context) -> ImportRow:
    row = ImportRow(line=line)
    cell_of = {name: cells.get(column) for column, name in mapping.items()}
    row.raw = {name: _cell_text(cell_of.get(name)) for name in FIELDS}
    for name in FIELDS:
        try:
            row.values[name] = _field_clean(name, cell_of.get(name), row.raw[name], context)
        except _Invalid as exc:
            row.errors[name] = str(exc)
    url_column = next((column for column, name in mapping.items() if name == "url"), None)
    link = context.links.get((line, url_column)) if url_column is not None else None
    if link and "url" in row.errors:
        # The cell shows 「查看原文」 and links to the post: the link is the URL.
        try:
            row.values["url"] = http_url_check(link, field="url")
            del row.errors["url"]
        except DomainError:
            pass
    if "platform" in row.values and not row.values["platform"]:
        row.values["platform"] = _platform_from_url(row.values.get("url", ""))
    return row


def _field_clean(name: str, value: Any, text: str, context: _Context) -> Any:
    if name == "text":
        if not text:
            raise _Invalid(_("内容为空。"))
        return _length_checked(text, MAX_TEXT_CHARS, name)
    if name == "title":
        return _length_checked(text, MAX_TITLE_CHARS, name)
    if name == "author":
        return _length_checked(text, MAX_AUTHOR_CHARS, name)
    if name == "url":
        if not text:
            return ""
        try:
            return http_url_check(text, field="url")
        except DomainError as exc:
            raise _Invalid(str(exc.message)) from exc
    if name == "platform":
        return _platform_clean(text)
    if name == "published_at":
        return _published_at_clean(value, text, context)
    if name == "external_id":
        return _external_id_clean(value, text)
    raise AssertionError(name)


def _length_checked(text: str, limit: int, name: str) -> str:
    if len(text) > limit:
        raise _Invalid(
            _("%(label)s过长：%(n)s 字，最多 %(max)s 字（开头：「%(start)s…」）。")
            % {"label": _LABELS[name], "n": f"{len(text):,}", "max": f"{limit:,}", "start": text[:20]}
        )
    return text


def _platform_clean(text: str) -> str:
    if not text:
        return ""  # guessed from the link once the link is read
    code = _PLATFORM_INDEX.get(_key(text))
    if code is None:
        raise _Invalid(
            _("无法识别的平台「%(value)s」，可填写：%(names)s。")
            % {"value": text[:50], "names": "、".join(str(label) for label in Platform.labels)}
        )
    return code


def _platform_from_url(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower() if url else ""
    while host:
        if host in PLATFORM_HOSTS:
            return str(PLATFORM_HOSTS[host])
        host = host.partition(".")[2]
    return str(Platform.OTHER)


_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE]\+\d+")


def _external_id_clean(value: Any, text: str) -> str:
    too_long_for_excel = isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e15
    if _SCIENTIFIC.fullmatch(text) or too_long_for_excel:
        raise _Invalid(
            _("编号「%(value)s」是被 Excel 当作数字保存的长数字，末几位已经丢失。请把该列设为“文本”格式后重新填写。")
            % {"value": text}
        )
    return _length_checked(text, MAX_EXTERNAL_ID_CHARS, "external_id")


# --- times


_DATETIME = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*T?\s*(?:星期.|周.)?\s*(?P<ap>上午|下午|晚上|凌晨|早上|中午)?\s*"
    r"(?P<h>\d{1,2})\s*[:时点]\s*(?P<mi>\d{1,2})\s*分?"
    r"(?:\s*:\s*(?P<s>\d{1,2})(?:[.,](?P<f>\d{1,9}))?|\s*(?P<s2>\d{1,2})\s*秒)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2}|[+-]\d{1,2}|(?:UTC|GMT)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?)?",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})?")
_TEXT_FORMATS = ("%a %b %d %H:%M:%S %z %Y", "%a, %d %b %Y %H:%M:%S %z")  # Weibo's API; RFC 2822


def _published_at_clean(value: Any, text: str, context: _Context) -> datetime | None:
    if not text:
        return None
    moment = _moment(value, text, context.epoch)
    if moment is None:
        raise _Invalid(_("无法识别的时间「%(value)s」，请写成 2026-11-27 10:30 这样的格式。") % {"value": text[:50]})
    if moment > context.now + FUTURE_TOLERANCE:
        raise _Invalid(_("发布时间「%(value)s」晚于当前时间，请检查。") % {"value": _shown(moment)})
    if moment < EARLIEST_PUBLISHED:
        raise _Invalid(_("发布时间「%(value)s」早于 1990 年，请检查。") % {"value": _shown(moment)})
    return moment


def _shown(moment: datetime) -> str:
    return moment.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


def _moment(value: Any, text: str, epoch: datetime) -> datetime | None:
    """The aware UTC datetime a cell means, or None when it means no point in time."""
    if isinstance(value, datetime):
        return _local(_whole_second(value))
    if isinstance(value, date):
        return _local(datetime.combine(value, time()))
    if isinstance(value, bool) or isinstance(value, time | timedelta):
        return None
    if isinstance(value, int | float):
        return _from_number(float(value), epoch)
    text = unicodedata.normalize("NFKC", text).strip()
    if _NUMBER.fullmatch(text):
        return _from_number(float(text), epoch)
    match = _DATETIME.fullmatch(text)
    if match:
        return _from_match(match)
    for layout in _TEXT_FORMATS:
        try:
            return datetime.strptime(text, layout).astimezone(UTC)
        except ValueError:
            continue
    return None


def _from_number(number: float, epoch: datetime) -> datetime | None:
    try:
        if 1e9 <= number < 1e10:
            return datetime.fromtimestamp(number, UTC)
        if 1e12 <= number < 1e13:
            return datetime.fromtimestamp(number / 1000, UTC)
        if 20_000 <= number < 100_000:  # an Excel serial day: 1954 to 2173
            moment = from_excel(number, epoch)
            return _local(_whole_second(moment)) if isinstance(moment, datetime) else None
    except (OverflowError, ValueError, OSError):
        return None
    return None


def _from_match(match: re.Match[str]) -> datetime | None:
    parts = match.groupdict()
    hour = int(parts["h"] or 0)
    marker = parts["ap"]
    if marker in ("下午", "晚上") and hour < 12:
        hour += 12
    elif marker in ("上午", "凌晨", "早上") and hour == 12:
        hour = 0
    elif marker == "中午" and hour < 11:
        hour += 12
    year, month, day, minute = (int(parts[name] or 0) for name in ("y", "mo", "d", "mi"))
    second, fraction = int(parts["s"] or parts["s2"] or 0), int((parts["f"] or "")[:6].ljust(6, "0"))
    try:
        moment = datetime(year, month, day, hour, minute, second, fraction)
    except ValueError:
        return None
    zone = parts["tz"]
    if not zone:
        return _local(moment)
    offset = _OFFSET.search(zone)
    if offset is None:  # Z, UTC, GMT
        return moment.replace(tzinfo=UTC)
    sign, hours, minutes = offset.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= timedelta(hours=24):
        return None
    return moment.replace(tzinfo=dt_timezone(-delta if sign == "-" else delta)).astimezone(UTC)


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_ZONE)
    return moment.astimezone(UTC)


def _whole_second(moment: datetime) -> datetime:
    # Excel keeps times as fractions of a day: 10:30 may come back as 10:29:59.999.
    if moment.microsecond >= 500_000:
        moment += timedelta(seconds=1)
    return moment.replace(microsecond=0)


# --- cells and duplicates


def _cell_text(value: Any) -> str:
    """A cell as the text the user sees: numbers without a trailing .0, times as Excel shows them."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip().strip("\ufeff\u200b\u200c\u200d").strip()


def _duplicates_flag(rows: list[ImportRow]) -> None:
    by_external_id: dict[str, int] = {}
    by_post: dict[tuple[str, str], int] = {}
    for row in rows:
        external_id = row.values.get("external_id") or ""
        if external_id:
            if external_id in by_external_id:
                row.errors.setdefault(
                    "external_id",
                    _("编号「%(value)s」与第 %(line)s 行重复。")
                    % {"value": external_id[:50], "line": by_external_id[external_id]},
                )
            else:
                by_external_id[external_id] = row.line
        text = row.values.get("text") or ""
        if text:
            post = (row.values.get("url", row.raw["url"]), " ".join(text.split()))
            if post in by_post:
                row.errors.setdefault(
                    "text", _("与第 %(line)s 行的链接和内容相同，是重复的信息。") % {"line": by_post[post]}
                )
            else:
                by_post[post] = row.line
