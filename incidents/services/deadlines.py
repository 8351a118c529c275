"""The plan's clocks on one incident: planning them from the rules, meeting them, and the leaders'
decisions on them (waive, not applicable, confirm on time).

A miss is history. Re-planning (a new level, category or discovery time) moves only clocks that
are still pending: it never cancels, re-creates or re-opens a clock that is met, late, missed or
decided by a leader. A record made after a clock was recorded missed closes it as late, whatever
time it names, until a leader confirms the earlier time with a reason. Every writer here holds the
incident's lock before it touches a clock (incidents.services.locking).
"""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents import events, policies
from incidents.models import Deadline, DeadlineRule, EmergencyPlan, Incident, Report, Statement
from incidents.services.deadline_clock import clock_speed, deadline_event_payload, deadline_reschedule
from incidents.services.locking import clocks_lock, deadline_lock
from incidents.services.timeline import timeline_record
from incidents.states import CLOCK_STATES
from opinion_ops.db import retry_on_conflict
from opinion_ops.errors import DomainError
from organizations.models import ResponseGroup

LOCAL_TZ = ZoneInfo(settings.TIME_ZONE)
LOCAL_TIME = "%m-%d %H:%M"

# Which recorded act meets which clock.
REPORT_MEETS: dict[str, str] = {
    Report.Kind.ORAL: DeadlineRule.Kind.ORAL_REPORT,
    Report.Kind.WRITTEN: DeadlineRule.Kind.WRITTEN_REPORT,
}
STATEMENT_MEETS: dict[str, str] = {
    Statement.Kind.RESPONSE: DeadlineRule.Kind.PUBLIC_RESPONSE,
    Statement.Kind.BULLETIN: DeadlineRule.Kind.PUBLIC_RESPONSE,
    Statement.Kind.REPLY: DeadlineRule.Kind.REPLY,
}


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime(LOCAL_TIME)


def same_day_due(anchor: datetime, plan: EmergencyPlan) -> datetime:
    """'Same day' ends at the unit's end of working day, or 23:59 local time, per plan."""
    local = anchor.astimezone(LOCAL_TZ)
    end_of_day = datetime.combine(local.date(), time(23, 59), tzinfo=LOCAL_TZ)
    if plan.same_day_cutoff == EmergencyPlan.SameDayCutoff.END_OF_WORKDAY:
        workday_end = plan.workday_end
        if isinstance(workday_end, str):
            workday_end = time.fromisoformat(workday_end)
        cutoff = datetime.combine(local.date(), workday_end, tzinfo=LOCAL_TZ)
        # Found after hours: the same calendar day still counts, up to 23:59.
        return cutoff if cutoff > local else end_of_day
    return end_of_day


def rule_applies(rule: DeadlineRule, incident: Incident) -> bool:
    level_ids = {level.pk for level in rule.levels.all()}
    category_ids = {category.pk for category in rule.categories.all()}
    if level_ids and incident.level_id not in level_ids:
        return False
    if category_ids and incident.category_id not in category_ids:
        return False
    return True


def rule_due_at(rule: DeadlineRule, incident: Incident) -> datetime | None:
    anchors: dict[str, datetime | None] = {
        DeadlineRule.Anchor.DISCOVERED: incident.discovered_at,
        DeadlineRule.Anchor.LOGGED: incident.logged_at,
        DeadlineRule.Anchor.WARNING: incident.warning_issued_at,
    }
    anchor = anchors[rule.anchor]
    if anchor is None:
        return None
    # A drill's clocks may run faster (Incident.clock_speed): the plan's time to the due moment,
    # same-day clocks included, shrinks by that factor; at ×1 it is the plan's own.
    speed = clock_speed(incident)
    if rule.same_day:
        due = same_day_due(anchor, incident.plan)
        return due if speed == 1 else anchor + (due - anchor) / speed
    offset = timedelta(minutes=rule.offset_minutes or 0)
    return anchor + (offset if speed == 1 else offset / speed)


def _new_clock(rule: DeadlineRule, incident: Incident, due: datetime, owner_group: ResponseGroup | None) -> Deadline:
    return Deadline(
        incident=incident,
        rule=rule,
        kind=rule.kind,
        name=rule.name,
        due_at=due,
        owner_group=owner_group,
        reminder_minutes=list(rule.reminder_minutes or []),
        escalation_interval_minutes=rule.escalation_interval_minutes,
    )


def incident_next_due_refresh(incident: Incident) -> None:
    """Keep the incident's 最近时限 (Incident.next_due_at, what the list sorts on) equal to the due time
    of its nearest pending or missed clock. Call after changing a clock's status or due time, in the
    same transaction and holding the incident's lock; the caller's incident object is kept current
    too, so a later save of it writes the same value."""
    nearest = Deadline.objects.filter(incident_id=incident.pk, status__in=Deadline.OPEN).aggregate(at=Min("due_at"))
    if nearest["at"] != incident.next_due_at:
        incident.next_due_at = nearest["at"]
        Incident.objects.filter(pk=incident.pk).update(next_due_at=nearest["at"])


def deadlines_plan(*, incident: Incident, actor: Any, reason: str) -> list[dict[str, Any]]:
    """Bring the incident's clocks in line with its plan version, level, category and state.

    Call inside the transaction that changed the incident, holding its lock. Only pending clocks
    move: a pending clock whose rule no longer applies is withdrawn (不再适用), one that applies
    again is reinstated, one whose due time moved is re-timed. Met, late, missed and leader-decided
    clocks are history and stay as they are; on a closed incident a missed clock stops escalating.
    An incident logged late (后补登记) records the clocks already past due as missed, silently.
    The timeline records every change.
    """
    now = timezone.now()
    rules = list(incident.plan.deadline_rules.prefetch_related("levels", "categories"))
    latest: dict[int, Deadline] = {}
    clocks = clocks_lock(incident)
    for clock in clocks:
        if clock.rule_id is not None:
            latest[clock.rule_id] = clock  # ordered by id: the newest wins
    groups = {g.kind: g for g in ResponseGroup.objects.filter(organization_id=incident.organization_id).order_by("-id")}
    counting = incident.state in CLOCK_STATES
    changes: list[dict[str, Any]] = []
    for rule in rules:
        current = latest.get(rule.pk)
        due = rule_due_at(rule, incident) if counting and rule_applies(rule, incident) else None
        if current is not None and current.status not in (Deadline.Status.PENDING, Deadline.Status.CANCELLED):
            continue  # met, late, missed or waived: history
        if current is not None and current.status == Deadline.Status.CANCELLED and not current.was_withdrawn():
            continue  # a leader closed it as not applicable
        if due is None:
            if current is not None and current.status == Deadline.Status.PENDING:
                current.withdraw()
                current.save()
                changes.append({"deadline": current.name, "change": "withdrawn"})
            continue
        if current is None:
            clock = _new_clock(rule, incident, due, groups.get(rule.owner_group_kind))
            if incident.logged_late and due <= now and not clock.pk:
                clock.miss(now, late_logged=True)
                clock.save()
                changes.append({"deadline": clock.name, "change": "missed_when_logged", "due_at": due.isoformat()})
                continue
            deadline_reschedule(clock, now)
            clock.save()
            changes.append({"deadline": clock.name, "change": "planned", "due_at": due.isoformat()})
        elif current.status == Deadline.Status.CANCELLED:
            current.reinstate()
            current.due_at = due
            deadline_reschedule(current, now)
            current.save()
            changes.append({"deadline": current.name, "change": "reinstated", "due_at": due.isoformat()})
        elif current.due_at != due:
            old = current.due_at
            current.due_at = due
            deadline_reschedule(current, now)
            current.save()
            changes.append(
                {"deadline": current.name, "change": "replanned", "from": old.isoformat(), "due_at": due.isoformat()}
            )
    if not incident.is_open:
        for clock in clocks:
            if clock.status == Deadline.Status.MISSED and clock.next_action_at is not None:
                clock.next_action_at = None
                clock.save()
                changes.append({"deadline": clock.name, "change": "escalation_stopped"})
    incident_next_due_refresh(incident)
    if changes:
        timeline_record(
            incident=incident,
            kind="deadline",
            actor=actor,
            summary=_plan_summary(reason, changes),
            details={"changes": changes},
        )
    return changes


def _plan_summary(reason: str, changes: list[dict[str, Any]]) -> str:
    late = [c["deadline"] for c in changes if c["change"] == "missed_when_logged"]
    summary = _("按预案计划时限（%(reason)s）") % {"reason": reason}
    if late:
        summary += _("；后补登记时已过期，记为逾期（不发提醒）：%(names)s") % {"names": "、".join(late)}
    return summary


def deadlines_meet(
    *,
    incident: Incident,
    kind: str,
    at: datetime,
    actor: Any,
    report: Report | None = None,
    statement: Statement | None = None,
) -> list[Deadline]:
    """Close the incident's open clocks of this kind with the act done at `at`.

    Call holding the incident's lock. On time only if the clock was still pending and `at` is not
    after its due time; a clock already recorded missed closes as late whatever `at` says.
    """
    met = []
    recorded_at = timezone.now()
    for deadline in clocks_lock(incident, kind=kind, status__in=Deadline.OPEN):
        on_time = deadline.status == Deadline.Status.PENDING and at <= deadline.due_at
        was_missed = deadline.status == Deadline.Status.MISSED
        if on_time:
            deadline.meet(at, recorded_at, report=report, statement=statement)
            summary = _("“%(name)s”按时完成") % {"name": deadline.name}
        else:
            deadline.meet_late(at, recorded_at, report=report, statement=statement)
            summary = _("“%(name)s”逾期后完成") % {"name": deadline.name}
            if was_missed and at <= deadline.due_at:
                summary += _(
                    "（记录的办理时间 %(at)s 早于到期时间，但已记为逾期后才登记；如属实，可由领导确认按时完成）"
                ) % {"at": _local(at)}
        deadline.save()
        timeline_record(
            incident=incident,
            kind="deadline",
            actor=actor,
            summary=summary,
            details={
                "deadline_id": deadline.pk,
                "status": deadline.status,
                "due_at": deadline.due_at.isoformat(),
                "met_at": at.isoformat(),
            },
            occurred_at=at,
        )
        events.publish(events.DEADLINE_MET, deadline_event_payload(deadline, status=deadline.status))
        met.append(deadline)
    incident_next_due_refresh(incident)
    return met


DECISIONS = {
    # action: (transition, event, timeline summary)
    "waive_deadline": ("waive", events.DEADLINE_WAIVED, gettext_lazy("豁免时限“%(name)s”：%(reason)s")),
    "close_deadline": (
        "close_not_applicable",
        events.DEADLINE_CLOSED,
        gettext_lazy("确认时限“%(name)s”不再适用：%(reason)s"),
    ),
    "confirm_deadline": (
        "confirm_on_time",
        events.DEADLINE_CONFIRMED,
        gettext_lazy("确认“%(name)s”按时完成：%(reason)s"),
    ),
}


def deadline_decide_locked(*, incident: Incident, deadline: Deadline, action: str, actor: Any, reason: str) -> Deadline:
    """A leader's decision on one clock, with the incident and the clock already locked."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写理由。"), field="reason")
    policies.require(action, actor, incident, deadline)
    method, event, summary = DECISIONS[action]
    getattr(deadline, method)(actor, timezone.now(), reason)
    deadline.save()
    incident_next_due_refresh(incident)
    timeline_record(
        incident=incident,
        kind="deadline",
        actor=actor,
        summary=str(summary) % {"name": deadline.name, "reason": reason},
        details={"deadline_id": deadline.pk, "decision": action, "reason": reason, "status": deadline.status},
    )
    events.publish(event, deadline_event_payload(deadline, decided_by=actor.pk, reason=reason))
    return deadline


@retry_on_conflict
def deadline_decide(*, deadline_id: int, actor: Any, action: str, reason: str) -> Deadline:
    """Waive a clock, close it as not applicable, or confirm it met on time — a leader, with a reason.
    The timeline keeps who, when and why; statistics follow the decision."""
    if action not in DECISIONS:
        raise DomainError(_("没有这个操作。"), field="action")
    with transaction.atomic():
        incident, deadline = deadline_lock(deadline_id)
        return deadline_decide_locked(incident=incident, deadline=deadline, action=action, actor=actor, reason=reason)


def deadline_waive(*, deadline_id: int, actor: Any, reason: str) -> Deadline:
    return deadline_decide(deadline_id=deadline_id, actor=actor, action="waive_deadline", reason=reason)
