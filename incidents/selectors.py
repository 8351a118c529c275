"""Reads of the incident domain, always scoped to what the user may see."""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Extract, RowNumber, TruncDate
from django.utils import timezone
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
from incidents.models.incident import URGENCY_CLOSED, URGENCY_DUE_MINUTE
from incidents.policies import LEGAL_REVIEWERS, PUBLISHERS
from opinion_ops.db import compiled
from organizations.models import GroupMember, Organization, ResponseGroup
from organizations.roles import Role, user_organization, user_organization_id


@compiled
def _subordinates(organization_id: int) -> QuerySet[Organization, int]:
    return Organization.objects.filter(parent_id=organization_id).values_list("pk", flat=True)


def subordinate_unit_ids(organization_id: int | None) -> list[int]:
    """The units directly below this one (下级单位)."""
    if organization_id is None:
        return []
    return _subordinates(organization_id)


def user_subordinate_unit_ids(user: Any) -> list[int]:
    """The units directly below the user's unit, read once per request (the user object lives as
    long as the request)."""
    subordinates = getattr(user, "_subordinate_unit_ids", None)
    if subordinates is None:
        subordinates = subordinate_unit_ids(user_organization_id(user))
        user._subordinate_unit_ids = subordinates
    return subordinates  # type: ignore[no-any-return]


PERSON_FIELDS = ("username", "first_name", "last_name")


def people_attach(lists: Iterable[tuple[Iterable[Any], Sequence[str]]]) -> None:
    """Fill the user fields (`fields`) of the rows of each list from one read of the people they
    name, names only: joining auth_user into every list's query cost as much as the lists."""
    pairs = [(list(rows), fields) for rows, fields in lists]
    ids = {getattr(row, f"{name}_id") for rows, fields in pairs for row in rows for name in fields}
    ids.discard(None)
    people = get_user_model().objects.only(*PERSON_FIELDS).in_bulk(ids) if ids else {}
    for rows, fields in pairs:
        for row in rows:
            for name in fields:
                person_id = getattr(row, f"{name}_id")
                setattr(row, name, people.get(person_id) if person_id is not None else None)


def plan_parts_attach(rows: Iterable[Any], model: type[WarningLevel] | type[HandlingCategory], field: str) -> None:
    """Fill `field` (a level or a category) of each row from the per-process memo of frozen plan
    parts; a part the memo does not hold is left to load as usual."""
    rows = list(rows)
    parts = frozen_plan_parts(model, {getattr(row, f"{field}_id") for row in rows} - {None})
    for row in rows:
        part = parts.get(getattr(row, f"{field}_id"))
        if part is not None:
            setattr(row, field, part)


def incidents_visible_to(user: Any, subordinates: list[int] | None = None) -> QuerySet[Incident]:
    """The user's unit's incidents, plus those its direct subordinate units escalated to it
    (`subordinates`: the unit's subordinate_unit_ids, when the caller has read them already).

    Phrased without a join on Organization so PostgreSQL can use the (organization, …) indexes.
    """
    organization_id = user_organization_id(user)
    if organization_id is None:
        return Incident.objects.none()
    if subordinates is None:
        subordinates = user_subordinate_unit_ids(user)
    return incidents_seen_by_unit(organization_id, subordinates)


def incidents_seen_by_unit(organization_id: int, subordinates: Sequence[int]) -> QuerySet[Incident]:
    """What incidents_visible_to gives a person of this unit (`subordinates`: its subordinate_unit_ids)."""
    return Incident.objects.filter(unit_and_reported_up(organization_id, list(subordinates)))


def unit_and_reported_up(organization_id: int, subordinates: list[int]) -> Q:
    """The unit's own incidents and those of these subordinate units escalated or reported up to it:
    what a superior unit may see of its subordinates, and nothing else of theirs."""
    visible = Q(organization_id=organization_id)
    if subordinates:
        visible |= Q(organization_id__in=subordinates, escalated_at__isnull=False)
    return visible


def organization_of(user: Any) -> Organization | None:
    return user_organization(user)  # type: ignore[no-any-return]


def incidents_mine(queryset: QuerySet[Incident], user: Any) -> QuerySet[Incident]:
    """「与我有关」: incidents the user logged, holds a task on (theirs or their group's), or whose
    open clocks they or their group own."""
    if user is None or not getattr(user, "is_authenticated", False):
        return queryset.none()
    groups = GroupMember.objects.filter(user_id=user.pk).values("group_id")
    tasks = Task.objects.filter(incident=OuterRef("pk")).filter(
        Q(assignee_id=user.pk) | Q(assignee_group_id__in=groups)
    )
    clocks = Deadline.objects.filter(incident=OuterRef("pk"), status__in=Deadline.OPEN).filter(
        Q(owner_id=user.pk) | Q(owner_group_id__in=groups)
    )
    return queryset.filter(Q(reporter_id=user.pk) | Exists(tasks) | Exists(clocks))


def incidents_by_urgency(queryset: QuerySet[Incident]) -> QuerySet[Incident]:
    """「按紧急程度排序」: open before closed; then the nearest open clock, overdue ones first (clocks
    falling due in the same minute are equally near), then the most severe level, then the newest.
    Each row carries `next_due`, the due time of its nearest open clock (None when none is open).

    The first two keys are the expressions of the index incident_unit_urgency, on the stored
    Incident.next_due_at: a page is read from the index in order, whatever the number of incidents."""
    return queryset.annotate(
        next_due=F("next_due_at"),
        _closed=URGENCY_CLOSED,
        _due_minute=URGENCY_DUE_MINUTE,
        _rank=Case(When(level__isnull=True, then=Value(99)), default="level__rank", output_field=IntegerField()),
    ).order_by("_closed", F("_due_minute").asc(nulls_last=True), "_rank", "-discovered_at", "-id")


# --- The superior unit's view (上级主管部门): what its direct subordinate units reported up to it.


def incidents_reported_up_to(user: Any) -> QuerySet[Incident]:
    """Incidents the user's direct subordinate units escalated or reported up to the user's unit:
    nothing else of theirs."""
    subordinates = subordinate_unit_ids(user_organization_id(user))
    return Incident.objects.filter(organization_id__in=subordinates, escalated_at__isnull=False)


def report_readable(report: Report, organization_id: int | None) -> bool:
    """Of an incident the reader may see, a report is theirs to read in full (and download) when it
    is their own unit's, or when it was sent up to them (同时报上级) on an incident reported up."""
    return report.to_superior or report.incident.organization_id == organization_id


def reports_sent_up(user: Any, limit: int = 100) -> list[Report]:
    """Reports marked 同时报上级 on incidents reported up to the user's unit: awaiting 签收 first,
    then the most recent."""
    return list(
        Report.objects.filter(to_superior=True, incident__in=incidents_reported_up_to(user).values("pk"))
        .select_related("incident__organization", "incident__level", "reported_by", "received_by")
        .annotate(_received=Case(When(received_at__isnull=True, then=Value(0)), default=Value(1)))
        .order_by("_received", "-occurred_at", "-id")[:limit]
    )


def clocks_missed_reported_up(user: Any, limit: int = 100) -> list[Deadline]:
    """Missed clocks of incidents reported up to the user's unit that nobody has acknowledged yet
    (late-logged clocks paged nobody and need none), oldest first."""
    return list(
        Deadline.objects.filter(
            incident__in=incidents_reported_up_to(user).values("pk"),
            status=Deadline.Status.MISSED,
            late_logged=False,
            acknowledged_at__isnull=True,
        )
        .select_related("incident__organization", "incident__plan", "owner_group", "owner")
        .order_by("due_at", "id")[:limit]
    )


def reported_up_counts(user: Any) -> list[dict[str, Any]]:
    """Per direct subordinate unit: incidents reported up (all, still open), reports sent up (all,
    awaiting 签收) and missed clocks not yet acknowledged, and the same summed over all units."""
    organization_id = user_organization_id(user)
    if organization_id is None:
        return []
    units = list(Organization.objects.filter(parent_id=organization_id).order_by("name", "id"))
    ids = [unit.pk for unit in units]
    incidents = {
        row["organization_id"]: row
        for row in Incident.objects.filter(organization_id__in=ids, escalated_at__isnull=False)
        .values("organization_id")
        .annotate(total=Count("id"), open=Count("id", filter=Q(state__in=OPEN_STATES)))
        .order_by()
    }
    reports = {
        row["incident__organization_id"]: row
        for row in Report.objects.filter(
            to_superior=True, incident__organization_id__in=ids, incident__escalated_at__isnull=False
        )
        .values("incident__organization_id")
        .annotate(total=Count("id"), waiting=Count("id", filter=Q(received_at__isnull=True)))
        .order_by()
    }
    clocks = dict(
        Deadline.objects.filter(
            incident__organization_id__in=ids,
            incident__escalated_at__isnull=False,
            status=Deadline.Status.MISSED,
            late_logged=False,
            acknowledged_at__isnull=True,
        )
        .values("incident__organization_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("incident__organization_id", "n")
    )
    rows = []
    for unit in units:
        row_incidents = incidents.get(unit.pk, {})
        row_reports = reports.get(unit.pk, {})
        rows.append(
            {
                "unit": unit,
                "incidents": row_incidents.get("total", 0),
                "open": row_incidents.get("open", 0),
                "reports": row_reports.get("total", 0),
                "waiting": row_reports.get("waiting", 0),
                "missed": clocks.get(unit.pk, 0),
            }
        )
    return rows


# --- The leadership dashboard. Statistics exclude drills; lists show them, marked as drills.

AT_RISK_WINDOW = timedelta(minutes=30)
RATE_KINDS = (DeadlineRule.Kind.ORAL_REPORT, DeadlineRule.Kind.WRITTEN_REPORT, DeadlineRule.Kind.PUBLIC_RESPONSE)
STATS_PERIOD = timedelta(days=90)
CHART_DAYS = 30
WAITING_LIMIT = 20


# What the lists of incidents waiting for someone show (and the state every incident object reads).
WAITING_INCIDENT_FIELDS = ("reference", "title", "state", "discovered_at", "is_drill")
# The incident as the waiting lists and approval cards show it (its level from the frozen memo).
WAITING_OF_INCIDENT = tuple(f"incident__{name}" for name in (*WAITING_INCIDENT_FIELDS, "level"))
WAITING_STATEMENT_FIELDS = (
    "incident",
    "kind",
    "title",
    "status",
    "version",
    "created_by",
    "created_at",
    *WAITING_OF_INCIDENT,
)
CARD_VERSION_FIELDS = ("statement", "number", "text")


def _statement_lists(user_id: int, roles: frozenset[Role]) -> dict[str, tuple[str, Q]]:
    """The lists of statements waiting for someone with these roles: each its status and condition."""
    four_eyes = Q(incident__plan__four_eyes=True)
    lists: dict[str, tuple[str, Q]] = {}
    if roles & set(LEGAL_REVIEWERS):
        lists["legal_reviews"] = (Statement.Status.LEGAL_REVIEW, Q())
    if Role.LEADER in roles:
        # 审定回避: a leader is not asked to decide on a text they drafted or wrote.
        lists["approvals"] = (
            Statement.Status.SUBMITTED,
            ~(four_eyes & (Q(created_by_id=user_id) | Q(latest_author_id=user_id))),
        )
    if roles:
        lists["sent_back"] = (Statement.Status.REJECTED, Q(created_by_id=user_id))
    if roles & set(PUBLISHERS):
        lists["to_publish"] = (Statement.Status.APPROVED, Q())
    return lists


@compiled
def _statements_waiting_rows(organization_id: int, user_id: int, *, lists: tuple[str, ...]) -> QuerySet[Statement]:
    """The statements of these lists (names of _statement_lists), at most WAITING_LIMIT per status."""
    every = _statement_lists(user_id, frozenset(Role))
    wanted = Q()
    for name in lists:
        status, condition = every[name]
        wanted |= Q(status=status) & condition
    latest_author = StatementVersion.objects.filter(statement=OuterRef("pk")).order_by("-number")
    return (
        Statement.objects.filter(incident__organization_id=organization_id)
        .annotate(latest_author_id=Subquery(latest_author.values("author_id")[:1]))
        .filter(wanted)
        .annotate(place=Window(RowNumber(), partition_by=F("status"), order_by=[F("created_at").asc(), F("id").asc()]))
        .filter(place__lte=WAITING_LIMIT)
        .select_related("incident")
        .only(*WAITING_STATEMENT_FIELDS)
        .prefetch_related(
            Prefetch("versions", queryset=StatementVersion.objects.only(*CARD_VERSION_FIELDS).order_by("number"))
        )
        .order_by("created_at", "id")
    )


def _statements_waiting(user: Any, organization_id: int, roles: frozenset[Role]) -> dict[str, list[Statement]]:
    """Statements waiting for this user, oldest first, at most WAITING_LIMIT per list: 法律审核, approval,
    sent back to their drafter, publishing. A statement has one status, so the lists never share one
    and are read in one query (numbered per status); versions come along for the approval cards."""
    lists = _statement_lists(user.pk, roles)
    if not lists:
        return {}
    by_status: dict[str, list[Statement]] = {status: [] for status, _condition in lists.values()}
    statements = _statements_waiting_rows(organization_id, user.pk, lists=tuple(lists))
    people_attach([(statements, ("created_by",))])
    plan_parts_attach((statement.incident for statement in statements), WarningLevel, "level")
    for statement in statements:
        by_status[statement.status].append(statement)
    return {name: by_status[status] for name, (status, _condition) in lists.items()}


# The dashboard's lists of what waits for someone, compiled once per process (opinion_ops.db.compiled;
# the lists of tasks and clocks once per set of groups the person belongs to).
@compiled
def _group_ids(user_id: int) -> QuerySet[GroupMember, int]:
    return GroupMember.objects.filter(user_id=user_id).values_list("group_id", flat=True)


@compiled
def _to_assess(organization_id: int) -> QuerySet[Incident]:
    assessed = Exists(Assessment.objects.filter(incident=OuterRef("pk")))
    return (
        Incident.objects.filter(organization_id=organization_id)
        .filter(Q(state=State.MONITORING) | (Q(state=State.ASSESSING) & ~assessed))
        .only(*WAITING_INCIDENT_FIELDS)
        .order_by("discovered_at", "id")[:WAITING_LIMIT]
    )


@compiled
def _warnings_to_decide(organization_id: int) -> QuerySet[Incident]:
    latest = Assessment.objects.filter(incident=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Incident.objects.filter(organization_id=organization_id, state=State.ASSESSING)
        .filter(Exists(Assessment.objects.filter(incident=OuterRef("pk"))))
        .annotate(
            proposed_level_name=Subquery(latest.values("proposed_level__name")[:1]),
            proposed_level_color=Subquery(latest.values("proposed_level__color")[:1]),
            risk=Subquery(latest.values("risk")[:1]),
        )
        .only(*WAITING_INCIDENT_FIELDS)
        .order_by("discovered_at")[:WAITING_LIMIT]
    )


@compiled
def _reports_to_sign(organization_id: int, user_id: int) -> QuerySet[Report]:
    return (
        Report.objects.filter(
            incident__organization_id=organization_id, kind=Report.Kind.WRITTEN, signed_off_at__isnull=True
        )
        .exclude(Q(incident__plan__four_eyes=True) & Q(reported_by_id=user_id))
        .select_related("incident")
        .only("incident", "kind", "reported_by", "occurred_at", *WAITING_OF_INCIDENT)
        .order_by("occurred_at")[:WAITING_LIMIT]
    )


@compiled
def _my_tasks(organization_id: int, user_id: int, *, groups: tuple[int, ...]) -> QuerySet[Task]:
    # The groups named (not a subquery), so PostgreSQL can use the owner indexes.
    return (
        Task.objects.filter(incident__organization_id=organization_id, status=Task.Status.OPEN)
        .filter(Q(assignee_id=user_id) | Q(assignee_group_id__in=groups))
        .select_related("incident")
        .only("incident", "title", "due_at", "status", *WAITING_OF_INCIDENT)
        .order_by(F("due_at").asc(nulls_last=True), "id")[:WAITING_LIMIT]
    )


@compiled
def _my_clocks(organization_id: int, user_id: int, *, groups: tuple[int, ...]) -> QuerySet[Deadline]:
    return (
        Deadline.objects.filter(
            incident__organization_id=organization_id,
            incident__state__in=OPEN_STATES,
            status__in=[Deadline.Status.PENDING, Deadline.Status.MISSED],
        )
        .filter(Q(owner_id=user_id) | Q(owner_group_id__in=groups))
        .select_related("incident", "owner_group")
        .only("incident", "name", "due_at", "status", "owner_group__name", *WAITING_OF_INCIDENT)
        .order_by("due_at", "id")[:WAITING_LIMIT]
    )


def dashboard_waiting(user: Any, organization_id: int, roles: frozenset[Role]) -> dict[str, list[Any]]:
    """What waits for this user: incidents to take into 研判 and assess, 法律审核, approvals, warning
    decisions, sign-offs, statements sent back, publishing, own tasks and own clocks. A fixed number
    of queries per role, whatever the number of rows."""
    waiting: dict[str, list[Any]] = {}
    if roles & {Role.ANALYST, Role.OFFICE}:
        waiting["to_assess"] = _to_assess(organization_id)
    waiting.update(_statements_waiting(user, organization_id, roles))
    if Role.LEADER in roles:
        waiting["warnings"] = _warnings_to_decide(organization_id)
        waiting["sign_offs"] = _reports_to_sign(organization_id, user.pk)
        people_attach([(waiting["sign_offs"], ("reported_by",))])
    if roles:
        groups = tuple(sorted(_group_ids(user.pk)))
        waiting["tasks"] = _my_tasks(organization_id, user.pk, groups=groups)
        waiting["my_clocks"] = _my_clocks(organization_id, user.pk, groups=groups)
        plan_parts_attach((clock.incident for clock in waiting["my_clocks"]), WarningLevel, "level")
    return waiting


AT_RISK_FIELDS = (
    "name",
    "due_at",
    "status",
    "owner_group__name",
    "incident__title",
    "incident__state",
    "incident__is_drill",
    "incident__level__name",
    "incident__level__color",
)


@compiled
def _soonest_incidents(organization_id: int, horizon: datetime) -> QuerySet[Incident, int]:
    """The unit's open incidents whose nearest open clock falls by the horizon, at most 50, soonest first."""
    return (
        Incident.objects.alias(_closed=URGENCY_CLOSED, _due_minute=URGENCY_DUE_MINUTE)
        .filter(organization_id=organization_id, _closed=0, _due_minute__lte=horizon)
        .order_by("_due_minute", "next_due_at")
        .values_list("pk", flat=True)[:50]
    )


def deadlines_at_risk(organization_id: int, now: datetime | None = None) -> list[Deadline]:
    """Open clocks of the unit that are overdue or due within 30 minutes, soonest first."""
    now = now or timezone.now()
    horizon = now + AT_RISK_WINDOW
    # Only open incidents whose nearest open clock falls by the horizon can have one: a range of the
    # urgency index, not every open incident of the unit.
    # And of those, only the 50 whose nearest clock comes first: a clock among the 50 soonest belongs
    # to an incident whose nearest clock is no later, and fewer than 50 incidents can come before it.
    incidents = _soonest_incidents(organization_id, horizon)
    if not incidents:
        return []
    # Read first, then named in the next query: PostgreSQL then looks up their clocks by incident
    # (a subquery made it read every open clock of every unit up to the horizon).
    soonest = (
        Deadline.objects.filter(incident_id__in=incidents)
        # A missed clock is always past due, so one range covers "due soon" and "overdue".
        .filter(status__in=[Deadline.Status.PENDING, Deadline.Status.MISSED], due_at__lte=horizon)
        .order_by("due_at", "id")
        .values("pk")[:50]
    )
    # The incident, level and group are joined for the 50 clocks shown only, with what the list shows
    # (and the states, which every clock and incident object reads when it is built).
    return list(
        Deadline.objects.filter(pk__in=Subquery(soonest))
        .select_related("incident", "incident__level", "owner_group")
        .only(*AT_RISK_FIELDS)
        .order_by("due_at", "id")
    )


@compiled
def _active_counts(organization_id: int) -> QuerySet[Incident, dict[str, Any]]:
    return (
        Incident.objects.filter(organization_id=organization_id, state__in=OPEN_STATES, is_drill=False)
        .values("state", "level_id")
        .annotate(n=Count("id"))
        .order_by()
    )


def unit_groups_of(organization_id: int) -> QuerySet[ResponseGroup]:
    """The unit's working groups, by kind and name (the choices of the forms and filters)."""
    return ResponseGroup.objects.filter(organization_id=organization_id).order_by("kind", "name")


unit_groups_listed = compiled(unit_groups_of)  # the same as a list, compiled once per process


@compiled
def active_plan_levels(organization_id: int) -> QuerySet[WarningLevel]:
    """The levels of the unit's active plan, the least severe first."""
    return WarningLevel.objects.filter(plan__organization_id=organization_id, plan__status="active").order_by("rank")


def active_incidents_by_level_and_state(organization_id: int) -> dict[str, Any]:
    """Open, non-drill incidents counted by level (rows) and state (columns)."""
    counts: dict[tuple[int | None, str], int] = {
        (r["level_id"], r["state"]): r["n"] for r in _active_counts(organization_id)
    }
    plan_levels = active_plan_levels(organization_id)
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
    # One pass over the period's incidents, counted per day, level and category; each chart sums it up.
    level_fields, category_fields = (
        ("level__name", "level__rank", "level__color"),
        ("category__name", "category__order"),
    )
    counted = list(
        Incident.objects.filter(organization_id=organization_id, is_drill=False, discovered_at__gte=start)
        .annotate(day=TruncDate("discovered_at", tzinfo=timezone.get_current_timezone()))
        .values("day", *level_fields, *category_fields)
        .annotate(n=Count("id"))
        .order_by()
    )

    def series(name_field: str, color_field: str | None, order_field: str) -> list[dict[str, Any]]:
        per: dict[str | None, dict[Any, int]] = {}
        colors: dict[str | None, str] = {}
        order: dict[str | None, Any] = {}
        for row in counted:
            name = row[name_field]  # None: not graded / not categorised (named where it is shown)
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
            for name in sorted(per, key=lambda n: (order[n], n or ""))
        ]

    return {
        "days": [day.strftime("%m-%d") for day in days],
        "by_level": series("level__name", "level__color", "level__rank"),
        "by_category": series("category__name", None, "category__order"),
    }


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


def written_report_prefill(incident: Incident) -> dict[str, str]:
    """A written report drafted from what the record already holds (the reporter edits it before
    recording): to the leadership group, 起因 from the description, 基本事实 from the latest
    assessment, 已采取措施 from the recorded measures with their times, and the incident's state."""
    leadership = (
        ResponseGroup.objects.filter(organization_id=incident.organization_id, kind=ResponseGroup.Kind.LEADERSHIP)
        .values_list("name", flat=True)
        .first()
    )
    assessment = incident.assessments.order_by("-created_at", "-id").first()
    facts = ""
    if assessment is not None:
        facts = _("舆情性质：%(nature)s\n影响范围：%(scope)s\n发展趋势：%(trend)s；风险等级：%(risk)s") % {
            "nature": assessment.nature,
            "scope": assessment.scope,
            "trend": assessment.get_trend_display(),
            "risk": assessment.get_risk_display(),
        }
    lines = []
    for measure in incident.measures.order_by("taken_at", "id"):
        when = timezone.localtime(measure.taken_at).strftime("%m-%d %H:%M")
        target = f"（{measure.target}）" if measure.target else ""
        outcome = _("，结果：%(outcome)s") % {"outcome": measure.outcome} if measure.outcome else ""
        lines.append(f"{when} {measure.get_kind_display()}{target}：{measure.description}{outcome}")
    lines.append(_("目前处于“%(state)s”阶段。") % {"state": incident.get_state_display()})
    return {
        "kind": Report.Kind.WRITTEN,
        "reported_to": leadership or _("领导小组"),
        "summary": incident.title,
        "cause": incident.description,
        "facts": facts,
        "measures_taken": "\n".join(lines),
    }


def _after(start: datetime, at: datetime) -> str:
    from incidents.plan_compare import minutes_words

    return minutes_words(max(0, round((at - start).total_seconds() / 60)))


# What other apps add to the 总结评估's draft (研判支持: how the heat of the incident's posts developed),
# registered from their AppConfig.ready(): (incident) -> a paragraph, or "" when they know nothing.
_review_notes: list[Callable[[Incident], str]] = []


def review_note_register(note: Callable[[Incident], str]) -> None:
    if note not in _review_notes:
        _review_notes.append(note)


def review_prefill(incident: Incident) -> dict[str, str]:
    """The 总结评估 drafted from the record's figures: how long each step took after discovery
    (logging, the first report, the warning, the first public response), each clock met, late or
    missed and by how much, and what other apps know (how the heat developed); the team writes what
    worked, what failed and what to change."""
    start = incident.discovered_at
    when = timezone.localtime(start).strftime("%m-%d %H:%M")
    steps = [_("%(when)s 发现，发现后 %(after)s 登记。") % {"when": when, "after": _after(start, incident.logged_at)}]
    first_report = incident.reports.order_by("occurred_at", "id").first()
    if first_report is not None:
        steps.append(
            _("首次报告（%(kind)s）：发现后 %(after)s。")
            % {"kind": first_report.get_kind_display(), "after": _after(start, first_report.occurred_at)}
        )
    if incident.warning_issued_at:
        steps.append(_("发布预警：发现后 %(after)s。") % {"after": _after(start, incident.warning_issued_at)})
    published = incident.statements.filter(published_at__isnull=False).order_by("published_at", "id").first()
    if published is not None and published.published_at is not None:
        steps.append(_("首次公开回应：发现后 %(after)s。") % {"after": _after(start, published.published_at)})
    measures = list(incident.measures.order_by("taken_at", "id"))
    if measures:
        kinds = "、".join(dict.fromkeys(measure.get_kind_display() for measure in measures))
        steps.append(_("采取处置措施 %(n)s 项：%(kinds)s。") % {"n": len(measures), "kinds": kinds})
    outcomes = []
    counts = {"met": 0, "late": 0, "missed": 0}
    for deadline in incident.deadlines.order_by("due_at", "id"):
        status = deadline.status
        if status == Deadline.Status.MET and deadline.met_at:
            counts["met"] += 1
            outcome = _("按时完成（提前 %(d)s）") % {"d": _after(deadline.met_at, deadline.due_at)}
        elif status == Deadline.Status.LATE and deadline.met_at:
            counts["late"] += 1
            outcome = _("逾期 %(d)s 后完成") % {"d": _after(deadline.due_at, deadline.met_at)}
        elif status == Deadline.Status.MISSED:
            counts["missed"] += 1
            outcome = _("逾期未完成")
        else:
            outcome = deadline.get_status_display()
        outcomes.append(f"{deadline.name}：{outcome}")
    evaluation = "；".join(outcomes)
    if outcomes:
        evaluation = _("时限执行情况：%(list)s。按时 %(met)s 项，逾期完成 %(late)s 项，逾期未完成 %(missed)s 项。") % {
            "list": evaluation,
            **counts,
        }
    notes = [text for note in _review_notes if (text := note(incident))]
    evaluation = "\n".join([evaluation, *notes]) if evaluation else "\n".join(notes)
    return {"summary": "\n".join(steps), "evaluation": evaluation}
