"""Is an incident's record intact? One read-only check, used by the incident page and by
`manage.py verify_record`.

The record is the incident's hash chain of timeline entries (TimelineEntry.seq / prev_hash /
hash, incidents.models.chain) and the approvals anchored in it (incidents.models.Approval). The
check recomputes every hash, follows the numbers and links from 1 to the head, and holds the
pages' decision fields (StatementVersion.decided_by …, Report.signed_off_by …) to the approvals
that attest them. It reads three queries whatever the number of rows, and never raises for
damaged data: damage is what it reports.

What it cannot see: entries removed from the end of a chain (nothing after them points back),
unless they recorded an approval. The database's triggers refuse that to the application; the
head hashes that `verify_record -v 2` prints can be kept outside to catch it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, Q, QuerySet, Value
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.models import Approval, Incident, Report, StatementVersion, TimelineEntry
from incidents.models.chain import APPROVAL_KEY, GENESIS, report_content_sha256, text_sha256
from opinion_ops.db import compiled

CONTENT_CHANGED = "content_changed"
ENTRY_MISSING = "entry_missing"
LINK_BROKEN = "link_broken"
APPROVAL_DISAGREES = "approval_disagrees"
APPROVAL_MISSING = "approval_missing"

PROBLEMS = {
    CONTENT_CHANGED: gettext_lazy("内容被改动"),
    ENTRY_MISSING: gettext_lazy("记录缺失"),
    LINK_BROKEN: gettext_lazy("链接断开"),
    APPROVAL_DISAGREES: gettext_lazy("与审定记录不符"),
    APPROVAL_MISSING: gettext_lazy("审定记录缺失"),
}


@dataclass(frozen=True)
class RecordBreak:
    """One place where the record is not what was written: which entry (by its number in the
    chain and its row id, when it has them; for a missing entry, the id of the one after the gap),
    what kind of damage, and what exactly differs."""

    problem: str
    seq: int | None
    entry_id: int | None
    explanation: str

    @property
    def label(self) -> str:
        return str(PROBLEMS[self.problem])

    @property
    def where(self) -> str:
        if self.seq is not None and self.entry_id is not None and self.problem != ENTRY_MISSING:
            return _("第 %(seq)s 条（记录 id %(id)s）") % {"seq": self.seq, "id": self.entry_id}
        if self.seq is not None:
            return _("第 %(seq)s 条") % {"seq": self.seq}
        return _("审定记录")

    @property
    def description(self) -> str:
        """'第 5 条（记录 id 123）：内容被改动——…' in the reader's words."""
        return _("%(where)s：%(label)s——%(explanation)s") % {
            "where": self.where,
            "label": self.label,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class RecordCheck:
    incident_id: int
    reference: str
    entries: int
    approvals: int
    head_seq: int
    head_hash: str
    breaks: tuple[RecordBreak, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> RecordBreak | None:
        return self.breaks[0] if self.breaks else None


def _recomputed(row: Any) -> str | None:
    try:
        return str(row.compute_hash())
    except (TypeError, ValueError, AttributeError):  # a value no service writes: changed outside
        return None


def _chain_breaks(entries: list[TimelineEntry]) -> list[RecordBreak]:
    """Numbers 1, 2, 3 … without gaps, each entry linked to the one before, each hash recomputed."""
    breaks: list[RecordBreak] = []
    if not entries:
        return [RecordBreak(ENTRY_MISSING, 1, None, _("没有任何处置记录，至少应有登记记录。"))]
    expected, prev = 1, GENESIS
    for entry in entries:
        if entry.seq > expected:
            missing = (
                _("第 %(n)s 条不存在") % {"n": expected}
                if entry.seq == expected + 1
                else _("第 %(a)s 至 %(b)s 条不存在") % {"a": expected, "b": entry.seq - 1}
            )
            breaks.append(
                RecordBreak(
                    ENTRY_MISSING,
                    expected,
                    entry.pk,
                    _("%(missing)s，下一条为第 %(seq)s 条（记录 id %(id)s）：记录被删除。")
                    % {"missing": missing, "seq": entry.seq, "id": entry.pk},
                )
            )
        elif entry.prev_hash != prev:
            breaks.append(
                RecordBreak(
                    LINK_BROKEN,
                    entry.seq,
                    entry.pk,
                    _("本条记下的上一条哈希与第 %(prev)s 条不符：第 %(prev)s 条被改动后重算了哈希，或本条被替换。")
                    % {"prev": entry.seq - 1},
                )
            )
        if _recomputed(entry) != entry.hash:
            breaks.append(
                RecordBreak(
                    CONTENT_CHANGED,
                    entry.seq,
                    entry.pk,
                    _("按本条现存内容重算的哈希与写入时的哈希不符：摘要、详情、时间或操作人等被改动。"),
                )
            )
        expected, prev = entry.seq + 1, entry.hash
    return breaks


def _details_claim(entry: TimelineEntry) -> str | None:
    details = entry.details
    claim = details.get(APPROVAL_KEY) if isinstance(details, dict) else None
    return str(claim) if claim else None


def _agreement(approval: Approval) -> list[str]:
    """What of the page's decision fields no longer says what the latest approval attests."""
    wrong = []
    if approval.statement_version is not None:
        version = approval.statement_version
        if version.decision != approval.decision:
            wrong.append(_("审定结果"))
        if version.decided_by_id != approval.actor_id:
            wrong.append(_("审定人"))
        if version.decided_at != approval.decided_at:
            wrong.append(_("审定时间"))
        if version.decision_comment != approval.comment:
            wrong.append(_("审定意见"))
    elif approval.report is not None:
        if approval.report.signed_off_by_id != approval.actor_id:
            wrong.append(_("审阅领导"))
        if approval.report.signed_off_at != approval.decided_at:
            wrong.append(_("审阅时间"))
    return wrong


def _subject(approval: Approval) -> str:
    if approval.statement_version is not None:
        return _("回应稿版本（id %(id)s，第 %(n)s 版）") % {
            "id": approval.statement_version_id,
            "n": approval.statement_version.number,
        }
    return _("报告（id %(id)s）") % {"id": approval.report_id}


def _approval_row_breaks(approval: Approval, anchor: TimelineEntry | None) -> list[RecordBreak]:
    """The approval's own hash, its link to the entry that records it, and the content it attests."""
    breaks: list[RecordBreak] = []
    seq, entry_id = (anchor.seq, anchor.pk) if anchor is not None else (None, approval.entry_id)
    if _recomputed(approval) != approval.hash:
        breaks.append(
            RecordBreak(
                CONTENT_CHANGED,
                seq,
                entry_id,
                _("审定记录 id %(id)s 的内容（审定人、结果、时间或意见）被改动。") % {"id": approval.pk},
            )
        )
    if approval.entry_id is not None and anchor is None:
        breaks.append(
            RecordBreak(
                LINK_BROKEN,
                None,
                approval.entry_id,
                _("审定记录 id %(id)s 所在的处置记录（id %(entry)s）已不存在。")
                % {"id": approval.pk, "entry": approval.entry_id},
            )
        )
    elif anchor is not None and _details_claim(anchor) != approval.hash:
        breaks.append(
            RecordBreak(
                LINK_BROKEN,
                seq,
                entry_id,
                _("审定记录 id %(id)s 与本条记录中写入的审定哈希不符：审定记录被替换。") % {"id": approval.pk},
            )
        )
    version, report = approval.statement_version, approval.report
    if version is not None and (
        text_sha256(version.text) != approval.content_sha256 or version.number != approval.version_number
    ):
        explanation = _("%(subject)s的正文已不是审定时的正文。") % {"subject": _subject(approval)}
        breaks.append(RecordBreak(APPROVAL_DISAGREES, seq, entry_id, explanation))
    if report is not None and report_content_sha256(report) != approval.content_sha256:
        explanation = _("%(subject)s的内容已不是审阅时的内容。") % {"subject": _subject(approval)}
        breaks.append(RecordBreak(APPROVAL_DISAGREES, seq, entry_id, explanation))
    return breaks


def _latest_per_record(approvals: list[Approval]) -> list[Approval]:
    """The last decision on each statement version and report: the one the page's fields must show."""
    latest: dict[tuple[int | None, int | None], Approval] = {}
    for approval in approvals:
        key = (approval.statement_version_id, approval.report_id)
        current = latest.get(key)
        if current is None or (approval.decided_at, approval.pk) > (current.decided_at, current.pk):
            latest[key] = approval
    return list(latest.values())


def _approval_breaks(
    approvals: list[Approval], entries: list[TimelineEntry], unattested: Iterable[tuple[int, str]]
) -> list[RecordBreak]:
    breaks: list[RecordBreak] = []
    by_id = {entry.pk: entry for entry in entries}
    anchored = {approval.entry_id for approval in approvals if approval.entry_id is not None}
    for entry in entries:
        if _details_claim(entry) and entry.pk not in anchored:
            explanation = _("本条记录的审定（审定记录）已不存在：审定记录被删除。")
            breaks.append(RecordBreak(APPROVAL_MISSING, entry.seq, entry.pk, explanation))
    anchors = {approval.pk: by_id.get(approval.entry_id or 0) for approval in approvals}
    for approval in approvals:
        breaks.extend(_approval_row_breaks(approval, anchors[approval.pk]))
    for approval in _latest_per_record(approvals):
        wrong = _agreement(approval)
        if not wrong:
            continue
        anchor = anchors[approval.pk]
        breaks.append(
            RecordBreak(
                APPROVAL_DISAGREES,
                anchor.seq if anchor is not None else None,
                anchor.pk if anchor is not None else approval.entry_id,
                _("%(subject)s页面上的%(fields)s与审定记录 id %(id)s（用户 id %(who)s，%(at)s）不符。")
                % {
                    "subject": _subject(approval),
                    "fields": "、".join(wrong),
                    "id": approval.pk,
                    "who": approval.actor_id,
                    "at": approval.decided_at.isoformat(),
                },
            )
        )
    for pk, kind in unattested:
        subject = (_("回应稿版本（id %(id)s）") if kind == "version" else _("报告（id %(id)s）")) % {"id": pk}
        explanation = _("%(subject)s记有审定结果，但没有对应的审定记录。") % {"subject": subject}
        breaks.append(RecordBreak(APPROVAL_MISSING, None, None, explanation))
    return breaks


@compiled
def _unattested(incident_id: int) -> QuerySet[StatementVersion, tuple[int, str]]:
    """Decided versions and signed reports that no approval attests (one query): (pk, "version" or "report")."""
    versions = (
        StatementVersion.objects.filter(statement__incident_id=incident_id, approvals__isnull=True)
        .filter(~Q(decision="") | Q(decided_by__isnull=False) | Q(decided_at__isnull=False))
        .annotate(subject=Value("version", output_field=CharField()))
        .order_by()
        .values_list("pk", "subject")
    )
    reports = (
        Report.objects.filter(incident_id=incident_id, approvals__isnull=True)
        .filter(Q(signed_off_by__isnull=False) | Q(signed_off_at__isnull=False))
        .annotate(subject=Value("report", output_field=CharField()))
        .order_by()
        .values_list("pk", "subject")
    )
    return versions.union(reports, all=True)


@compiled
def _approvals(incident_id: int) -> QuerySet[Approval]:
    return Approval.objects.filter(incident_id=incident_id).select_related("statement_version", "report").order_by("id")


def incident_record_verify(*, incident: Incident, entries: list[TimelineEntry] | None = None) -> RecordCheck:
    """Check the incident's whole record; the breaks come in chain order, the first one first.
    `entries`: every entry of the record when the caller has read them already (in any order)."""
    if entries is None:
        entries = list(TimelineEntry.objects.filter(incident_id=incident.pk).order_by("seq", "id"))
    else:
        entries = sorted(entries, key=lambda entry: (entry.seq, entry.pk))
    approvals = _approvals(incident.pk)
    found = _chain_breaks(entries) + _approval_breaks(approvals, entries, _unattested(incident.pk))
    # Chain order; breaks that belong to no entry (sealed approvals, unattested decisions) last.
    ordered = sorted(enumerate(found), key=lambda item: (item[1].seq is None, item[1].seq or 0, item[0]))
    head = entries[-1] if entries else None
    return RecordCheck(
        incident_id=incident.pk,
        reference=incident.reference,
        entries=len(entries),
        approvals=len(approvals),
        head_seq=head.seq if head else 0,
        head_hash=head.hash if head else "",
        breaks=tuple(item for _index, item in ordered),
    )
