"""A written report (书面报告) as the parts of a Chinese official document (reports.official): who
issues it, its number, 份号 and 密级, title, addressee, numbered sections, the leader's instruction,
date, signature and copy line.

The document is the report as of its date: measures, published statements and timeline entries
after the report's time are left out, as is the state the incident reached since.
"""

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Measure, Report, State, Statement, TimelineEntry
from incidents.selectors import incidents_visible_to, report_readable
from opinion_ops.errors import DomainError
from organizations.roles import user_organization_id
from organizations.selectors import person_name
from reports.official import OfficialDocument, Section, chinese_date, numbered

TIMELINE_EXCERPT = 20


def _short_time(at: datetime) -> str:
    local = timezone.localtime(at)
    return _("%(m)s月%(d)s日 %(hm)s") % {"m": local.month, "d": local.day, "hm": local.strftime("%H:%M")}


def _person(user: Any) -> str:
    return person_name(user) or _("系统")  # an entry without an actor was the system's


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def written_report_for(user: Any, report_id: int) -> Report:
    """The written report if the user may see it, else 404 (as the incident page): any written
    report of the user's own unit; of a subordinate unit's escalated incident, only those sent up
    to the superior (同时报上级), as on the superior's page (incidents.views.superior)."""
    report = (
        Report.objects.select_related("incident__organization__parent", "reported_by", "signed_off_by")
        .filter(pk=report_id, kind=Report.Kind.WRITTEN, incident__in=incidents_visible_to(user).values("pk"))
        .first()
    )
    if report is None or not report_readable(report, user_organization_id(user)):
        raise Http404(_("报告不存在或您无权查看。"))
    return report


def _ordinal(report: Report) -> int:
    """Which written report of its incident this is (1 for the first), by time."""
    earlier = Report.objects.filter(incident_id=report.incident_id, kind=Report.Kind.WRITTEN).filter(
        Q(occurred_at__lt=report.occurred_at) | Q(occurred_at=report.occurred_at, pk__lt=report.pk)
    )
    return earlier.count() + 1


def _state_at(report: Report, cutoff: datetime) -> str:
    """The incident's state at the report's time: the last state change recorded by then."""
    entry = (
        TimelineEntry.objects.filter(incident_id=report.incident_id)
        .exclude(to_state="")
        .annotate(at=Coalesce("occurred_at", "recorded_at"))
        .filter(at__lte=cutoff)
        .order_by("-seq")
        .values_list("to_state", flat=True)
        .first()
    )
    return str(State(entry or report.incident.state).label)


def _handling(report: Report, cutoff: datetime) -> Section:
    measures = Measure.objects.filter(incident_id=report.incident_id, taken_at__lte=cutoff).order_by("taken_at", "id")
    items = []
    for measure in measures:
        text = _("%(at)s　%(kind)s：%(what)s") % {
            "at": _short_time(measure.taken_at),
            "kind": measure.get_kind_display(),
            "what": measure.description.strip().rstrip("。"),
        }
        extra = []
        if measure.target:
            extra.append(_("对象：%(who)s") % {"who": measure.target})
        if measure.outcome.strip():
            extra.append(_("结果：%(outcome)s") % {"outcome": measure.outcome.strip().rstrip("。")})
        items.append(text + (_("（%(extra)s）") % {"extra": "；".join(extra)} if extra else "") + "。")
    closing = _("截至报告时，该舆情处于“%(state)s”阶段。") % {"state": _state_at(report, cutoff)}
    return Section("", _lines(report.measures_taken), items, closing)


def _statements(report: Report, cutoff: datetime) -> Section:
    published = Statement.objects.filter(
        incident_id=report.incident_id, status=Statement.Status.PUBLISHED, published_at__lte=cutoff
    ).order_by("published_at", "id")
    items = []
    for statement in published:
        assert statement.published_at is not None  # the filter above: published ones carry their time
        text = _("%(at)s　在%(channel)s发布%(kind)s《%(title)s》") % {
            "at": _short_time(statement.published_at),
            "channel": statement.published_channel,
            "kind": statement.get_kind_display(),
            "title": statement.title,
        }
        if statement.published_url:
            text += _("（链接：%(url)s）") % {"url": statement.published_url}
        items.append(text + "。")
    return Section("", [], items)


def _timeline(report: Report, cutoff: datetime) -> Section:
    entries = list(
        TimelineEntry.objects.filter(incident_id=report.incident_id)
        .annotate(at=Coalesce("occurred_at", "recorded_at"))
        .filter(at__lte=cutoff)
        .exclude(kind=TimelineEntry.Kind.REPORT, details__report_id=report.pk)  # the report itself
        .select_related("actor")
        .order_by("-at", "-seq")[:TIMELINE_EXCERPT]
    )
    items = [
        _("%(at)s · %(who)s · %(what)s") % {"at": _short_time(e.at), "who": _person(e.actor), "what": e.summary}
        for e in reversed(entries)
    ]
    return Section("", [], items)


def written_report_document(report: Report) -> OfficialDocument:
    """The parts of the written report's document; DomainError for an oral report."""
    if report.kind != Report.Kind.WRITTEN:
        raise DomainError(_("只有书面报告可以导出为公文。"), field="report")
    incident = report.incident
    unit = incident.organization
    cutoff = report.occurred_at
    ordinal = _ordinal(report)
    suffix = f"-{ordinal}" if ordinal > 1 else ""
    # 发文字号: the year in 〔〕 (GB/T 9704), then the incident's own number, so the receiving office
    # can quote it back and find the incident; a second written report of the same incident adds -2.
    # The unit keeps no document register here, hence no 机关代字 or register number of its own.
    number = ""
    if incident.reference:
        number = _("〔%(year)s〕%(ref)s号") % {
            "year": timezone.localtime(report.occurred_at).year,
            "ref": incident.reference + suffix,
        }
    sections = numbered(
        [
            (_("事情原由"), Section("", _lines(report.cause))),
            (_("基本事实"), Section("", _lines(report.facts))),
            (_("处置情况"), _handling(report, cutoff)),
            (_("回应发布情况"), _statements(report, cutoff)),
            (_("时间线摘录"), _timeline(report, cutoff)),
        ]
    )
    instruction = signature = ""
    if report.signed_off_at is not None:
        instruction = report.sign_off_comment.strip() or _("（已审阅，未作批示。）")
        signature = _("%(who)s　%(date)s") % {
            "who": _person(report.signed_off_by),
            "date": chinese_date(report.signed_off_at),
        }
    superior = unit.parent if report.to_superior else None
    stem = _("%(ref)s-书面报告") % {"ref": incident.reference or incident.pk} + suffix
    return OfficialDocument(
        issuer=unit.name,
        number=number,
        title=_("关于%(title)s的书面报告") % {"title": incident.title.strip().rstrip("。")},
        addressee=report.reported_to.strip(),
        sections=sections,
        instruction=instruction,
        instruction_signature=signature,
        date=chinese_date(report.occurred_at),
        signature=unit.name,
        copy_to=superior.name if superior is not None else "",
        filename_stem=stem,
        copy_number=report.copy_number,
        classification=report.get_classification_display() if report.classification else "",
    )
