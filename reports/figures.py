"""The figures of a monitoring report's period, counted once when the report is issued and kept with
it (MonitoringReport.figures, plain JSON), so that the document reads the same whenever it is opened.

What counts: the unit's own incidents and — for a superior unit's report that covers its
subordinates — those its subordinate units escalated or reported to it (what the superior may see
anyway, incidents.selectors.incidents_visible_to); drills and merged duplicates never. Posts and
alerts are the unit's own monitoring. A fixed number of queries, whatever the period's size.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import OPEN_STATES, Deadline, Incident, Platform, State
from incidents.selectors import unit_and_reported_up
from monitoring.models import Alert, Mention
from organizations.models import Organization

MAIN_INCIDENTS = 15
LATE_CLOCKS_LISTED = 20
HOURLY_UP_TO = timedelta(days=2)  # a period this short is drawn by the hour, a longer one by the day


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _scope(organization: Organization, includes_subordinates: bool) -> tuple[Q, dict[int, str]]:
    units = {organization.pk: organization.name}
    if includes_subordinates:
        units.update(Organization.objects.filter(parent_id=organization.pk).values_list("pk", "name"))
    return unit_and_reported_up(organization.pk, [pk for pk in units if pk != organization.pk]), units


def _counted(queryset: QuerySet[Incident], field: str, labels: dict[str, str], empty: str) -> list[list[Any]]:
    rows = queryset.values(field).annotate(n=Count("pk")).order_by("-n", field)
    return [[labels.get(row[field], row[field]) if row[field] else empty, row["n"]] for row in rows]


def _buckets(start: datetime, end: datetime) -> tuple[Any, list[datetime], str]:
    tz = timezone.get_current_timezone()
    trunc: type[TruncHour] | type[TruncDay]
    if end - start <= HOURLY_UP_TO:
        first = timezone.localtime(start).replace(minute=0, second=0, microsecond=0)
        step, trunc, fmt = timedelta(hours=1), TruncHour, "%d日%H时"
    else:
        first = timezone.localtime(start).replace(hour=0, minute=0, second=0, microsecond=0)
        step, trunc, fmt = timedelta(days=1), TruncDay, "%m-%d"
    points: list[datetime] = []
    at = first
    while at < end and len(points) < 800:
        points.append(at)
        at = (at + step).astimezone(tz)
    return trunc, points, fmt


def _series(queryset: QuerySet[Any], field: str, trunc: Any, points: list[datetime]) -> list[int]:
    tz = timezone.get_current_timezone()
    counted = {
        timezone.localtime(row["at"]).replace(tzinfo=None): row["n"]
        for row in queryset.annotate(at=trunc(field, tzinfo=tz)).values("at").annotate(n=Count("pk")).order_by()
    }
    return [counted.get(point.replace(tzinfo=None), 0) for point in points]


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return _("%(n)s 分钟") % {"n": max(minutes, 1)}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)s 小时 %(m)s 分钟") % {"h": hours, "m": minutes} if minutes else _("%(h)s 小时") % {"h": hours}
    return _("%(d)s 天") % {"d": round(hours / 24)}


def _clocks(scoped: QuerySet[Incident], start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    due = Deadline.objects.filter(incident__in=scoped.values("pk"), due_at__gte=start, due_at__lt=end)
    counts = dict(due.values_list("status").annotate(n=Count("pk")).order_by())
    met, late = counts.get(Deadline.Status.MET, 0), counts.get(Deadline.Status.LATE, 0)
    missed = counts.get(Deadline.Status.MISSED, 0)
    listed = []
    for deadline in (
        due.filter(status__in=[Deadline.Status.LATE, Deadline.Status.MISSED])
        .select_related("incident")
        .order_by("due_at", "pk")[:LATE_CLOCKS_LISTED]
    ):
        if deadline.status == Deadline.Status.LATE and deadline.met_at:
            how = _("逾期 %(d)s 后完成") % {"d": _ago(deadline.met_at - deadline.due_at)}
        else:
            how = _("已逾期 %(d)s，尚未完成") % {"d": _ago(now - deadline.due_at)}
        listed.append(
            {
                "reference": deadline.incident.reference,
                "title": deadline.incident.title,
                "clock": deadline.name,
                "due_at": _local(deadline.due_at),
                "outcome": how,
            }
        )
    decided = met + late + missed
    return {
        "due": sum(counts.values()),
        "met": met,
        "late": late,
        "missed": missed,
        "waived": counts.get(Deadline.Status.WAIVED, 0) + counts.get(Deadline.Status.CANCELLED, 0),
        "pending": counts.get(Deadline.Status.PENDING, 0),
        "on_time_rate": round(100 * met / decided, 1) if decided else None,
        "late_or_missed": listed,
    }


def period_figures(
    *, organization: Organization, start: datetime, end: datetime, includes_subordinates: bool = False
) -> dict[str, Any]:
    """Everything a monitoring report says about [start, end), as plain JSON."""
    now = timezone.now()
    scope, units = _scope(organization, includes_subordinates)
    scoped = Incident.objects.filter(scope, is_drill=False, merged_into__isnull=True)
    new = scoped.filter(discovered_at__gte=start, discovered_at__lt=end)
    state_labels = {str(value): str(label) for value, label in State.choices}
    platform_labels = {str(value): str(label) for value, label in Platform.choices}

    level_rows = (
        new.values("level__name", "level__rank").annotate(n=Count("pk")).order_by(F("level__rank").asc(nulls_last=True))
    )
    by_level = [[row["level__name"] or _("未定级"), row["n"]] for row in level_rows]

    main = (
        scoped.filter(Q(discovered_at__gte=start, discovered_at__lt=end) | Q(closed_at__gte=start, closed_at__lt=end))
        .select_related("level", "organization")
        .order_by(F("level__rank").asc(nulls_last=True), "-discovered_at")[:MAIN_INCIDENTS]
    )
    main_incidents = [
        {
            "reference": incident.reference,
            "unit": incident.organization.name,
            "title": incident.title,
            "level": incident.level.name if incident.level else _("未定级"),
            "state": state_labels.get(incident.state, incident.state),
            "discovered_at": _local(incident.discovered_at),
        }
        for incident in main
    ]

    per_unit = []
    if len(units) > 1:
        rows = {
            row["organization_id"]: row
            for row in scoped.values("organization_id")
            .annotate(
                new=Count("pk", filter=Q(discovered_at__gte=start, discovered_at__lt=end)),
                open=Count("pk", filter=Q(state__in=OPEN_STATES, discovered_at__lt=end)),
                closed=Count("pk", filter=Q(closed_at__gte=start, closed_at__lt=end)),
            )
            .order_by()
        }
        for unit_id, name in units.items():
            row = rows.get(unit_id, {})
            per_unit.append([name, row.get("new", 0), row.get("closed", 0), row.get("open", 0)])

    posts = Mention.objects.filter(organization_id=organization.pk, captured_at__gte=start, captured_at__lt=end)
    trunc, points, fmt = _buckets(start, end)
    return {
        "units": list(units.values()),
        "counted_at": now.isoformat(),
        "new": new.count(),
        "closed": scoped.filter(closed_at__gte=start, closed_at__lt=end).count(),
        "open_at_issue": scoped.filter(state__in=OPEN_STATES, discovered_at__lt=end).count(),
        "by_level": by_level,
        "by_category": _counted(new, "category__name", {}, _("未分类")),
        "by_platform": _counted(new, "platform", platform_labels, _("其他")),
        "by_state": _counted(new, "state", state_labels, "—"),
        "main_incidents": main_incidents,
        "clocks": _clocks(scoped, start, end, now),
        "per_unit": per_unit,
        "posts": posts.count(),
        "posts_by_platform": [
            [platform_labels.get(row["platform"], row["platform"]), row["n"]]
            for row in posts.values("platform").annotate(n=Count("pk")).order_by("-n", "platform")
        ],
        "alerts": Alert.objects.filter(
            organization_id=organization.pk, raised_at__gte=start, raised_at__lt=end
        ).count(),
        "trend": {
            "labels": [point.strftime(fmt) for point in points],
            "incidents": _series(new, "discovered_at", trunc, points),
            "posts": _series(posts, "captured_at", trunc, points),
        },
    }
