"""An official document (公文, GB/T 9704) as plain parts — who issues it, its number, 份号 and 密级,
title, addressee, numbered sections (paragraphs, numbered entries, a table, a chart), the leader's
instruction, date, signature and copy line — so the Word and the PDF export lay out the very same
text. The written report (reports.documents) and the monitoring reports (reports.monitoring) are
both made of these parts."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

NUMERALS = "一二三四五六七八九十"
# The 版心 is 156 mm wide (GB/T 9704); the issuer's mark is set as large as fits on one line.
LINE_WIDTH_PT = 156 / 25.4 * 72
ISSUER_MAX_PT, ISSUER_MIN_PT = 42, 22


@dataclass(frozen=True)
class Figure:
    """A chart: the same drawing as PNG (Word) and SVG (PDF), with its caption."""

    caption: str
    png: bytes
    svg: str


@dataclass(frozen=True)
class Section:
    """One numbered part of the body: its paragraphs, then numbered entries, then a table (the
    first row its header), then charts, then a closing line."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    closing: str = ""
    table: list[list[str]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)

    @property
    def has_content(self) -> bool:
        return bool(self.paragraphs or self.items or self.table or self.figures)


@dataclass(frozen=True)
class OfficialDocument:
    issuer: str  # 发文机关标志
    number: str  # 发文字号 (or 期号 of a periodic report), "" when there is none
    title: str
    addressee: str  # 主送, "" for a report that names none (a 舆情日报 goes to its subscribers)
    sections: list[Section]
    date: str  # 成文日期
    signature: str  # 落款
    filename_stem: str  # 2026-0042-书面报告
    instruction: str = ""  # 领导批示 ("" when not signed)
    instruction_signature: str = ""  # who signed and when ("" when not signed)
    copy_to: str = ""  # 抄送 ("" when not sent up)
    copy_number: str = ""  # 份号, printed top left when set
    classification: str = ""  # 密级, printed under the 份号 when set

    @property
    def issuer_size_pt(self) -> int:
        return issuer_size_pt(self.issuer)


def issuer_size_pt(name: str) -> int:
    """The issuer's mark: large, but one line of the 版心 for any unit name."""
    return max(ISSUER_MIN_PT, min(ISSUER_MAX_PT, int(LINE_WIDTH_PT / max(len(name), 1))))


def chinese_date(at: datetime) -> str:
    """2026年11月7日 in Asia/Shanghai (GB/T 9704: Arabic numerals, no leading zeros)."""
    local = timezone.localtime(at)
    return _("%(y)s年%(m)s月%(d)s日") % {"y": local.year, "m": local.month, "d": local.day}


def numbered(sections: list[tuple[str, Section]]) -> list[Section]:
    """Number the sections that have something to say (一、二、…); empty ones are left out."""
    kept = [(title, s) for title, s in sections if s.has_content]
    return [
        Section(f"{NUMERALS[n]}、{title}", s.paragraphs, s.items, s.closing, s.table, s.figures)
        for n, (title, s) in enumerate(kept)
    ]
