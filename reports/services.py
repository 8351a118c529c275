"""Issuing monitoring reports (舆情日报、周报、月报、专报) on demand and on a schedule.

On demand: a member who may issue reports picks the kind and any period. On a schedule: a unit's
ReportSchedule row names its next due time; the sweeper (ticked by the one beat schedule) claims due
rows with SKIP LOCKED, issues the period each names, and moves it on, so two workers never issue a
period twice (and the unique (schedule, period_start) would refuse it if they did). A failure is
recorded on the row and retried with backoff for the same period; a worker that was down catches
up period by period. Each report is numbered 第 N 期 of its kind and year, sent to its subscribers
and groups through the notification routing, and audited.
"""

import logging
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events
from incidents.selectors import subordinate_unit_ids
from opinion_ops.db import retry_on_conflict
from opinion_ops.errors import DomainError
from opinion_ops.links import absolute_reverse
from organizations.audit import audit_record
from organizations.models import Organization, ResponseGroup
from organizations.policies import unit_require
from organizations.roles import user_organization_id
from reports.figures import period_figures
from reports.models import SCHEDULED_KINDS, Kind, MonitoringReport, ReportSchedule
from reports.monitoring import period_label, report_title
from reports.periods import next_due, period_for

logger = logging.getLogger(__name__)

LONGEST_PERIOD = timedelta(days=366)
COMMENTARY_MAX = 10_000
TITLE_MAX = 200
RETRY_MAX = timedelta(hours=1)
SWEEP_BATCH = 20


def _members(organization_id: int, user_ids: list[int], field: str) -> list[int]:
    """The ids, all of them active people of the unit, else a DomainError naming the field."""
    ids = sorted({int(pk) for pk in user_ids})
    found = set(
        get_user_model()
        .objects.filter(pk__in=ids, is_active=True, membership__organization_id=organization_id)
        .values_list("pk", flat=True)
    )
    if len(found) != len(ids):
        raise DomainError(_("接收人须为本单位在职人员。"), field=field)
    return ids


def _groups(organization_id: int, group_ids: list[int]) -> list[int]:
    ids = sorted({int(pk) for pk in group_ids})
    if ResponseGroup.objects.filter(pk__in=ids, organization_id=organization_id).count() != len(ids):
        raise DomainError(_("接收工作组须为本单位的工作组。"), field="groups")
    return ids


def _publish(report: MonitoringReport, users: list[int], groups: list[int]) -> None:
    if not users and not groups:
        return
    figures = report.figures
    events.publish(
        events.MONITORING_REPORT_ISSUED,
        {
            "organization_id": report.organization_id,
            "organization_name": report.organization.name,
            "monitoring_report_id": report.pk,
            "kind": report.get_kind_display(),
            "title": report.title,
            "number": _("%(year)s年第%(n)s期") % {"year": report.year, "n": report.number},
            "new": figures["new"],
            "open": figures["open_at_issue"],
            "missed": figures["clocks"]["missed"] + figures["clocks"]["late"],
            "users": users,
            "groups": groups,
            "url": absolute_reverse("reports:monitoring_detail", report.pk),
            "key": f"monitoring-report:{report.pk}:issued",
        },
    )


def _issue(
    *,
    organization: Organization,
    actor: Any,
    kind: str,
    start: datetime,
    end: datetime,
    title: str,
    commentary: str,
    includes_subordinates: bool,
    schedule: ReportSchedule | None,
) -> MonitoringReport:
    """Count, number and save the report; call inside a transaction."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()  # numbers one at a time
    year = timezone.localtime(end - timedelta(microseconds=1)).year
    last = MonitoringReport.objects.filter(organization=organization, kind=kind, year=year).aggregate(n=Max("number"))
    report = MonitoringReport(
        organization=organization,
        kind=kind,
        year=year,
        number=(last["n"] or 0) + 1,
        period_start=start,
        period_end=end,
        includes_subordinates=includes_subordinates,
        commentary=commentary,
        schedule=schedule,
        created_by=actor if getattr(actor, "pk", None) else None,
        figures=period_figures(
            organization=organization, start=start, end=end, includes_subordinates=includes_subordinates
        ),
    )
    report.title = title or report_title(organization.name, kind, period_label(report))
    report.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="report.monitoring_issue",
        target=report,
        summary=_("生成%(kind)s《%(title)s》（%(year)s年第%(n)s期）")
        % {"kind": report.get_kind_display(), "title": report.title, "year": year, "n": report.number},
        after={"kind": kind, "start": start, "end": end, "includes_subordinates": includes_subordinates},
    )
    return report


def _checked(kind: str, start: datetime | None, end: datetime | None, title: str, commentary: str) -> tuple[str, str]:
    """The kind and period of an on-demand report, checked; the title and commentary trimmed."""
    if kind not in Kind.values:
        raise DomainError(_("请选择报告类型。"), field="kind")
    if start is None:
        raise DomainError(_("请填写统计起始时间。"), field="start")
    if end is None:
        raise DomainError(_("请填写统计截止时间。"), field="end")
    now = timezone.now()
    if end <= start:
        raise DomainError(_("统计截止时间须晚于起始时间。"), field="end")
    if start >= now:
        raise DomainError(_("统计起始时间不能晚于当前时间。"), field="start")
    if end - start > LONGEST_PERIOD:
        raise DomainError(_("统计时段不能超过一年。"), field="end")
    title, commentary = (title or "").strip(), (commentary or "").strip()
    if len(title) > TITLE_MAX:
        raise DomainError(_("标题不超过 %(n)s 个字。") % {"n": TITLE_MAX}, field="title")
    if kind == Kind.SPECIAL and not title:
        raise DomainError(_("舆情专报须填写标题，写明所报事项。"), field="title")
    if len(commentary) > COMMENTARY_MAX:
        raise DomainError(_("研判意见不超过 %(n)s 个字。") % {"n": COMMENTARY_MAX}, field="commentary")
    return title, commentary


@retry_on_conflict
def monitoring_report_issue(
    *,
    actor: Any,
    kind: str,
    start: datetime | None,
    end: datetime | None,
    title: str = "",
    commentary: str = "",
    includes_subordinates: bool = False,
    recipients: list[int] | None = None,
    groups: list[int] | None = None,
) -> MonitoringReport:
    """Issue a report of the actor's unit for [start, end) now, and send it to `recipients` and
    `groups` (people and groups of the unit) if any are named."""
    organization_id = user_organization_id(actor)
    unit_require("issue_monitoring_reports", actor, organization_id)
    assert organization_id is not None  # unit_require refuses a person of no unit
    title, commentary = _checked(kind, start, end, title, commentary)
    assert start is not None and end is not None  # _checked refuses a missing time
    if includes_subordinates and not subordinate_unit_ids(organization_id):
        raise DomainError(_("本单位没有下级单位，不能汇总下级单位。"), field="includes_subordinates")
    users = _members(organization_id, recipients or [], "recipients")
    group_ids = _groups(organization_id, groups or [])
    with transaction.atomic():
        organization = Organization.objects.get(pk=organization_id)
        report = _issue(
            organization=organization,
            actor=actor,
            kind=kind,
            start=start,
            end=min(end, timezone.now()),  # a period still running is counted up to now
            title=title,
            commentary=commentary,
            includes_subordinates=includes_subordinates,
            schedule=None,
        )
        _publish(report, users, group_ids)
    return report


def monitoring_report_issue_for_unit(
    *, organization_id: int, kind: str, start: datetime | None, end: datetime | None, title: str = ""
) -> MonitoringReport:
    """Issue a report of a unit as the system (the `monitoring_report` command: operators' code, no
    user), with the same checks of kind and period as on the page; audited without an actor."""
    title, _commentary = _checked(kind, start, end, title, "")
    assert start is not None and end is not None
    with transaction.atomic():
        organization = Organization.objects.get(pk=organization_id)
        return _issue(
            organization=organization,
            actor=None,
            kind=kind,
            start=start,
            end=min(end, timezone.now()),
            title=title,
            commentary="",
            includes_subordinates=False,
            schedule=None,
        )


def report_schedule_save(
    *,
    actor: Any,
    kind: str,
    enabled: bool,
    send_time: time | None,
    includes_subordinates: bool = False,
    recipients: list[int] | None = None,
    groups: list[int] | None = None,
) -> ReportSchedule:
    """Set the unit's daily, weekly or monthly report: when it is issued and who receives it. The
    next report is the first issue time from now on."""
    organization_id = user_organization_id(actor)
    unit_require("issue_monitoring_reports", actor, organization_id)
    assert organization_id is not None
    if kind not in SCHEDULED_KINDS:
        raise DomainError(_("定期报送只有日报、周报和月报。"), field="kind")
    if send_time is None:
        raise DomainError(_("请填写报送时间。"), field="send_time")
    if includes_subordinates and not subordinate_unit_ids(organization_id):
        raise DomainError(_("本单位没有下级单位，不能汇总下级单位。"), field="includes_subordinates")
    users = _members(organization_id, recipients or [], "recipients")
    group_ids = _groups(organization_id, groups or [])
    if enabled and not users and not group_ids:
        raise DomainError(_("请至少选择一位接收人或一个接收工作组。"), field="recipients")
    with transaction.atomic():
        schedule = ReportSchedule.objects.select_for_update().filter(organization_id=organization_id, kind=kind).first()
        before = None
        if schedule is None:
            schedule = ReportSchedule(organization_id=organization_id, kind=kind, created_by=actor)
        else:
            before = {
                "enabled": schedule.enabled,
                "send_time": schedule.send_time,
                "includes_subordinates": schedule.includes_subordinates,
                "recipients": sorted(schedule.subscribers.values_list("pk", flat=True)),
                "groups": sorted(schedule.groups.values_list("pk", flat=True)),
            }
        schedule.enabled = enabled
        schedule.send_time = send_time
        schedule.includes_subordinates = includes_subordinates
        schedule.next_due_at = next_due(kind, send_time, timezone.now()) if enabled else None
        schedule.retry_at = None
        schedule.failures = 0
        schedule.last_error = ""
        schedule.save()
        schedule.subscribers.set(users)
        schedule.groups.set(group_ids)
        after = {
            "enabled": enabled,
            "send_time": send_time,
            "includes_subordinates": includes_subordinates,
            "recipients": users,
            "groups": group_ids,
        }
        audit_record(
            organization=organization_id,
            actor=actor,
            action="report.schedule_save",
            target=schedule,
            summary=(
                _("设置%(kind)s定期报送：每期 %(time)s")
                % {"kind": schedule.get_kind_display(), "time": send_time.strftime("%H:%M")}
                if enabled
                else _("停用%(kind)s定期报送") % {"kind": schedule.get_kind_display()}
            ),
            before=before,
            after=after,
        )
    return schedule


def report_schedules_claimable(now: datetime, size: int) -> Any:
    return (
        ReportSchedule.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(enabled=True, next_due_at__lte=now)
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .select_related("organization")
        .order_by("next_due_at")[:size]
    )


def _issue_scheduled(schedule: ReportSchedule) -> MonitoringReport | None:
    assert schedule.next_due_at is not None  # claimed by next_due_at
    start, end = period_for(schedule.kind, schedule.next_due_at)
    if MonitoringReport.objects.filter(schedule=schedule, period_start=start).exists():
        return None  # issued already (the row moved on in a transaction that was lost)
    includes = schedule.includes_subordinates and bool(subordinate_unit_ids(schedule.organization_id))
    report = _issue(
        organization=schedule.organization,
        actor=None,
        kind=schedule.kind,
        start=start,
        end=end,
        title="",
        commentary="",
        includes_subordinates=includes,
        schedule=schedule,
    )
    users = list(
        schedule.subscribers.filter(is_active=True, membership__organization_id=schedule.organization_id).values_list(
            "pk", flat=True
        )
    )
    _publish(report, users, list(schedule.groups.values_list("pk", flat=True)))
    return report


@retry_on_conflict
def report_schedules_sweep(*, now: datetime | None = None, size: int = SWEEP_BATCH) -> int:
    """Issue every scheduled report that is due; returns how many were issued."""
    at = now or timezone.now()
    issued = 0
    with transaction.atomic():
        for schedule in report_schedules_claimable(at, size):
            assert schedule.next_due_at is not None
            try:
                with transaction.atomic():  # a savepoint: one unit's failure leaves the others issued
                    if _issue_scheduled(schedule) is not None:
                        issued += 1
            except Exception as error:
                logger.exception("Scheduled report %s failed", schedule.pk)
                schedule.failures += 1
                schedule.last_error = f"{type(error).__name__}: {error}"[:500]
                schedule.retry_at = at + min(timedelta(minutes=2**schedule.failures), RETRY_MAX)
                schedule.save(update_fields=["failures", "last_error", "retry_at"])
                continue
            schedule.last_issued_at = at
            schedule.failures = 0
            schedule.last_error = ""
            schedule.retry_at = None
            schedule.next_due_at = next_due(schedule.kind, schedule.send_time, schedule.next_due_at)
            schedule.save(update_fields=["last_issued_at", "failures", "last_error", "retry_at", "next_due_at"])
    return issued
