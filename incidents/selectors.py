"""Reads of the incident domain, always scoped to what the user may see."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Extract, TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from incidents.models import (
    OPEN_STATES,
    Assessment,
    Deadline,
    DeadlineRule,
    HandlingCategory,
    Incident,
    Report,
    State,
    Statement,
    StatementVersion,
    Task,
    WarningLevel,
)
from incidents.policies import PUBLISHERS
from organizations.models import GroupMember, Organization
from organizations.roles import Role, user_organization_id


def incidents_visible_to(user: Any) -> QuerySet[Incident]:
    """The user's unit's incidents, plus those its direct subordinate units escalated to it.

    Phrased without a join on Organization so PostgreSQL can use the (organization, …) indexes.
    """
    organization_id = user_organization_id(user)
    if organization_id is None:
        return Incident.objects.none()
    visible = Q(organization_id=organization_id)
    subordinates = list(Organization.objects.filter(parent_id=organization_id).values_list("pk", flat=True))
    if subordinates:
        visible |= Q(organization_id__in=subordinates, escalated_at__isnull=False)
    return Incident.objects.filter(visible)


def organization_of(user: Any) -> Organization | None:
    organization_id = user_organization_id(user)
    return Organization.objects.filter(pk=organization_id).first() if organization_id else None


# --- The leadership dashboard. Statistics exclude drills; lists show them, marked as drills.

AT_RISK_WINDOW = timedelta(minutes=30)
RATE_KINDS = (DeadlineRule.Kind.ORAL_REPORT, DeadlineRule.Kind.WRITTEN_REPORT, DeadlineRule.Kind.PUBLIC_RESPONSE)
STATS_PERIOD = timedelta(days=90)
CHART_DAYS = 30
WAITING_LIMIT = 20


def dashboard_waiting(user: Any, organization_id: int, roles: frozenset[Role]) -> dict[str, list[Any]]:
    """What waits for this user: approvals, warning decisions, sign-offs, publishing, own tasks."""
    own = Incident.objects.filter(organization_id=organization_id)
    waiting: dict[str, list[Any]] = {}
    if Role.LEADER in roles:
        waiting["approvals"] = list(
            Statement.objects.filter(incident__organization_id=organization_id, status=Statement.Status.SUBMITTED)
            .select_related("incident", "incident__level", "created_by")
            .prefetch_related(
                Prefetch("versions", queryset=StatementVersion.objects.select_related("author").order_by("number"))
            )
            .order_by("created_at")[:WAITING_LIMIT]
        )
        latest = Assessment.objects.filter(incident=OuterRef("pk")).order_by("-created_at", "-id")
        waiting["warnings"] = list(
            own.filter(state=State.ASSESSING)
            .filter(Exists(Assessment.objects.filter(incident=OuterRef("pk"))))
            .annotate(
                proposed_level_name=Subquery(latest.values("proposed_level__name")[:1]),
                proposed_level_color=Subquery(latest.values("proposed_level__color")[:1]),
                risk=Subquery(latest.values("risk")[:1]),
            )
            .order_by("discovered_at")[:WAITING_LIMIT]
        )
        waiting["sign_offs"] = list(
            Report.objects.filter(
                incident__organization_id=organization_id, kind=Report.Kind.WRITTEN, signed_off_at__isnull=True
            )
            .select_related("incident", "reported_by")
            .order_by("occurred_at")[:WAITING_LIMIT]
        )
    if roles & set(PUBLISHERS):
        waiting["to_publish"] = list(
            Statement.objects.filter(incident__organization_id=organization_id, status=Statement.Status.APPROVED)
            .select_related("incident")
            .order_by("created_at")[:WAITING_LIMIT]
        )
    if roles:
        group_ids = GroupMember.objects.filter(user_id=user.pk).values("group_id")
        waiting["tasks"] = list(
            Task.objects.filter(incident__organization_id=organization_id, status=Task.Status.OPEN)
            .filter(Q(assignee_id=user.pk) | Q(assignee_group_id__in=group_ids))
            .select_related("incident", "assignee_group")
            .order_by(F("due_at").asc(nulls_last=True), "id")[:WAITING_LIMIT]
        )
    return waiting


def deadlines_at_risk(organization_id: int, now: datetime | None = None) -> list[Deadline]:
    """Open clocks of the unit that are overdue or due within 30 minutes, soonest first."""
    now = now or timezone.now()
    return list(
        Deadline.objects.filter(incident__organization_id=organization_id, incident__state__in=OPEN_STATES)
        # A missed clock is always past due, so one range covers "due soon" and "overdue".
        .filter(status__in=[Deadline.Status.PENDING, Deadline.Status.MISSED], due_at__lte=now + AT_RISK_WINDOW)
        .select_related("incident", "incident__level", "owner_group")
        .order_by("due_at", "id")[:50]
    )


def active_incidents_by_level_and_state(organization_id: int) -> dict[str, Any]:
    """Open, non-drill incidents counted by level (rows) and state (columns)."""
    rows = (
        Incident.objects.filter(organization_id=organization_id, state__in=OPEN_STATES, is_drill=False)
        .values("state", "level_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[int | None, str], int] = {(r["level_id"], r["state"]): r["n"] for r in rows}
    plan_levels = list(
        WarningLevel.objects.filter(plan__organization_id=organization_id, plan__status="active").order_by("rank")
    )
    level_ids = [level.pk for level in plan_levels]
    extra_ids = sorted({lid for lid, _state in counts if lid is not None and lid not in level_ids})
    levels: list[tuple[int | None, Any]] = [(level.pk, level) for level in plan_levels]
    levels += [(pk, level) for pk, level in WarningLevel.objects.in_bulk(extra_ids).items()]
    levels.append((None, None))
    table = []
    for level_id, level in levels:
        cells = [counts.get((level_id, state), 0) for state in OPEN_STATES]
        table.append({"level": level, "cells": cells, "total": sum(cells)})
    return {
        "states": [State(s).label for s in OPEN_STATES],
        "rows": table,
        "totals": [sum(row["cells"][i] for row in table) for i in range(len(OPEN_STATES))],
        "total": sum(counts.values()),
    }


def on_time_rates(organization_id: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """For the oral / written report and public response clocks due in the period: met vs late + missed."""
    since = (now or timezone.now()) - STATS_PERIOD
    met = Deadline.Status.MET
    rows = {
        r["kind"]: r
        for r in Deadline.objects.filter(
            incident__organization_id=organization_id,
            incident__is_drill=False,
            kind__in=RATE_KINDS,
            status__in=[met, Deadline.Status.LATE, Deadline.Status.MISSED],
            due_at__gte=since,
        )
        .values("kind")
        .annotate(met=Count("id", filter=Q(status=met)), total=Count("id"))
        .order_by()
    }
    result = []
    for kind in RATE_KINDS:
        row = rows.get(kind, {"met": 0, "total": 0})
        total = row["total"]
        result.append(
            {
                "kind": kind,
                "label": DeadlineRule.Kind(kind).label,
                "met": row["met"],
                "late": total - row["met"],
                "total": total,
                "rate": round(100 * row["met"] / total) if total else None,
            }
        )
    return result


class _Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def median_minutes_to_first_response(organization_id: int, now: datetime | None = None) -> float | None:
    """Median minutes from discovery to the first published statement, incidents discovered in the period."""
    since = (now or timezone.now()) - STATS_PERIOD
    # Driven from the (few) published statements, not from every incident of the period.
    firsts = (
        Statement.objects.filter(
            published_at__isnull=False,
            incident__organization_id=organization_id,
            incident__is_drill=False,
            incident__discovered_at__gte=since,
        )
        .values("incident_id", "incident__discovered_at")
        .annotate(first=Min("published_at"))
        .order_by()
    )
    delay = ExpressionWrapper(F("first") - F("incident__discovered_at"), output_field=DurationField())
    if connection.vendor == "postgresql":
        seconds = firsts.annotate(d=Extract(delay, "epoch")).aggregate(m=_Median("d"))["m"]
        return round(seconds / 60, 1) if seconds is not None else None
    values = sorted(d.total_seconds() for d in firsts.annotate(d=delay).values_list("d", flat=True))
    if not values:
        return None
    middle = len(values) // 2
    seconds = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return round(seconds / 60, 1)


def incidents_over_time(organization_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Non-drill incidents discovered per day over the last 30 days, by level and by category."""
    today = timezone.localdate(now or timezone.now())
    first_day = today - timedelta(days=CHART_DAYS - 1)
    start = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    days = [first_day + timedelta(days=i) for i in range(CHART_DAYS)]
    base = Incident.objects.filter(organization_id=organization_id, is_drill=False, discovered_at__gte=start).annotate(
        day=TruncDate("discovered_at", tzinfo=timezone.get_current_timezone())
    )

    def series(name_field: str, color_field: str | None, order_field: str) -> list[dict[str, Any]]:
        fields = ["day", name_field, order_field] + ([color_field] if color_field else [])
        per: dict[str, dict[Any, int]] = {}
        colors: dict[str, str] = {}
        order: dict[str, Any] = {}
        for row in base.values(*fields).annotate(n=Count("id")).order_by():
            name = row[name_field] or str(_("未定级") if name_field.startswith("level") else _("未分类"))
            per.setdefault(name, {})[row["day"]] = per.get(name, {}).get(row["day"], 0) + row["n"]
            order[name] = row[order_field] if row[order_field] is not None else 999
            if color_field and row[color_field]:
                colors[name] = row[color_field]
        return [
            {
                "name": name,
                "color": colors.get(name, "#8f959e" if color_field else None),
                "data": [per[name].get(day, 0) for day in days],
            }
            for name in sorted(per, key=lambda n: (order[n], n))
        ]

    return {
        "days": [day.strftime("%m-%d") for day in days],
        "by_level": series("level__name", "level__color", "level__rank"),
        "by_category": series("category__name", None, "category__order"),
    }


STATS_CACHE_SECONDS = 60


def dashboard_statistics(organization_id: int) -> dict[str, Any]:
    """On-time rates, median time to first response and the charts for a unit, cached per language
    until something changes (see dashboard_statistics_forget) and at most a minute."""
    key = f"dashboard-stats:{organization_id}:{get_language() or settings.LANGUAGE_CODE}"
    cached = cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    charts = incidents_over_time(organization_id)
    rates = [{**rate, "label": str(rate["label"])} for rate in on_time_rates(organization_id)]
    statistics = {
        "rates": rates,
        "median_minutes": median_minutes_to_first_response(organization_id),
        "charts": charts,
        "computed_at": timezone.now(),
    }
    cache.set(key, statistics, STATS_CACHE_SECONDS)
    return statistics


def _statistics_keys(organization_id: int) -> list[str]:
    return [f"dashboard-stats:{organization_id}:{code}" for code, _name in settings.LANGUAGES]


def dashboard_statistics_forget(event: str, payload: dict[str, Any]) -> None:
    """Event listener: any change to a unit's incidents or clocks drops its cached statistics,
    so the dashboard is current after a write and cached while nothing changes."""
    organization_id = payload.get("organization_id")
    if organization_id is None and payload.get("incident_id") is not None:
        organization_id = (
            Incident.objects.filter(pk=payload["incident_id"]).values_list("organization_id", flat=True).first()
        )
    if organization_id is not None:
        cache.delete_many(_statistics_keys(organization_id))


# Levels and categories that incidents point to belong to active or superseded plan versions,
# which are frozen (a change makes a new version), so each process may keep them once read.
_frozen_parts: dict[tuple[type, int], Any] = {}


def frozen_plan_parts(model: type[WarningLevel] | type[HandlingCategory], ids: set[int]) -> dict[int, Any]:
    """The given levels or categories by id, read from the database at most once per process."""
    missing = {pk for pk in ids if (model, pk) not in _frozen_parts}
    if missing:
        for part in model.objects.filter(pk__in=missing, plan__status__in=["active", "superseded"]):
            _frozen_parts[(model, part.pk)] = part
    return {pk: _frozen_parts[(model, pk)] for pk in ids if (model, pk) in _frozen_parts}


def frozen_plan_parts_forget() -> None:
    """Tests that reuse ids across rolled-back transactions start from an empty memo."""
    _frozen_parts.clear()
