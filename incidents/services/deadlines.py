"""The plan's clocks on one incident: planning them from the rules, meeting and waiving them."""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events
from incidents.errors import DomainError, NotPermitted
from incidents.models import Deadline, DeadlineRule, EmergencyPlan, Incident, Report, ResponseGroup, Statement
from incidents.roles import LEADERS, user_has_role
from incidents.services.deadline_clock import deadline_reschedule
from incidents.services.timeline import timeline_record

LOCAL_TZ = ZoneInfo(settings.TIME_ZONE)

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
    if rule.same_day:
        return same_day_due(anchor, incident.plan)
    return anchor + timedelta(minutes=rule.offset_minutes or 0)


def deadlines_plan(*, incident: Incident, actor: Any, reason: str) -> list[dict[str, Any]]:
    """Bring the incident's deadlines in line with its plan version, level and category.

    Guarantees: a clock already met, late or waived is never touched; a pending clock whose rule no
    longer applies is cancelled; a pending clock whose due time moved is re-planned; the timeline
    records every change. Call inside the transaction that changed the incident.
    """
    rules = list(incident.plan.deadline_rules.prefetch_related("levels", "categories"))
    existing = {d.rule_id: d for d in incident.deadlines.exclude(status=Deadline.Status.CANCELLED)}
    groups = {g.kind: g for g in ResponseGroup.objects.filter(organization_id=incident.organization_id).order_by("-id")}
    changes: list[dict[str, Any]] = []
    open_incident = incident.is_open
    now = timezone.now()
    for rule in rules:
        current = existing.get(rule.pk)
        due = rule_due_at(rule, incident) if open_incident and rule_applies(rule, incident) else None
        if current is not None and current.status not in (Deadline.Status.PENDING, Deadline.Status.MISSED):
            continue
        if due is None:
            if current is not None:
                current.status = Deadline.Status.CANCELLED
                current.next_action_at = None
                current.save(update_fields=["status", "next_action_at"])
                changes.append({"deadline": current.name, "change": "cancelled"})
            continue
        if current is None:
            deadline = Deadline(
                incident=incident,
                rule=rule,
                kind=rule.kind,
                name=rule.name,
                due_at=due,
                owner_group=groups.get(rule.owner_group_kind),
                reminder_minutes=list(rule.reminder_minutes or []),
                escalation_interval_minutes=rule.escalation_interval_minutes,
            )
            deadline_reschedule(deadline, now)
            deadline.save()
            changes.append({"deadline": deadline.name, "change": "planned", "due_at": due.isoformat()})
        elif current.due_at != due:
            old = current.due_at
            current.due_at = due
            if current.status == Deadline.Status.MISSED and due > now:
                # A new due time in the future: the clock runs again from the start.
                current.status = Deadline.Status.PENDING
                current.missed_at = None
                current.escalation_step = 0
                current.acknowledged_at = None
                current.acknowledged_by = None
            deadline_reschedule(current, now)
            current.save(
                update_fields=[
                    "due_at",
                    "status",
                    "missed_at",
                    "escalation_step",
                    "acknowledged_at",
                    "acknowledged_by",
                    "next_action_at",
                ]
            )
            changes.append(
                {"deadline": current.name, "change": "replanned", "from": old.isoformat(), "due_at": due.isoformat()}
            )
    if changes:
        timeline_record(
            incident=incident,
            kind="deadline",
            actor=actor,
            summary=_("按预案计划时限（%(reason)s）") % {"reason": reason},
            details={"changes": changes},
        )
    return changes


def deadlines_meet(
    *,
    incident: Incident,
    kind: str,
    at: datetime,
    actor: Any,
    report: Report | None = None,
    statement: Statement | None = None,
) -> list[Deadline]:
    """Mark the incident's open clocks of this kind as met (or met late) by the act done at `at`."""
    met = []
    for deadline in incident.deadlines.select_for_update().filter(
        kind=kind, status__in=[Deadline.Status.PENDING, Deadline.Status.MISSED]
    ):
        deadline.status = Deadline.Status.MET if at <= deadline.due_at else Deadline.Status.LATE
        deadline.met_at = at
        deadline.met_by_report = report
        deadline.met_by_statement = statement
        deadline.next_action_at = None
        deadline.save(update_fields=["status", "met_at", "met_by_report", "met_by_statement", "next_action_at"])
        timeline_record(
            incident=incident,
            kind="deadline",
            actor=actor,
            summary=(_("“%(name)s”按时完成") if deadline.status == Deadline.Status.MET else _("“%(name)s”逾期后完成"))
            % {"name": deadline.name},
            details={"deadline_id": deadline.pk, "due_at": deadline.due_at.isoformat(), "met_at": at.isoformat()},
            occurred_at=at,
        )
        events.publish(events.DEADLINE_MET, {"deadline_id": deadline.pk, "incident_id": incident.pk})
        met.append(deadline)
    return met


def deadline_waive(*, deadline_id: int, actor: Any, reason: str) -> Deadline:
    """A leader waives an open clock with a written reason; the timeline keeps who and why."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写豁免理由。"), field="reason")
    with transaction.atomic():
        try:
            deadline = Deadline.objects.select_for_update(of=("self",)).select_related("incident").get(pk=deadline_id)
        except Deadline.DoesNotExist as exc:
            raise DomainError(_("时限不存在。"), code="not_found") from exc
        if not user_has_role(actor, deadline.incident.organization_id, *LEADERS):
            raise NotPermitted(_("只有领导小组成员可以豁免时限。"))
        if not deadline.is_open:
            raise DomainError(_("该时限已完成或已处理，不能豁免。"), field="deadline")
        now = timezone.now()
        deadline.status = Deadline.Status.WAIVED
        deadline.waived_by = actor
        deadline.waived_at = now
        deadline.waiver_reason = reason
        deadline.next_action_at = None
        deadline.save(update_fields=["status", "waived_by", "waived_at", "waiver_reason", "next_action_at"])
        timeline_record(
            incident=deadline.incident,
            kind="deadline",
            actor=actor,
            summary=_("豁免时限“%(name)s”：%(reason)s") % {"name": deadline.name, "reason": reason},
            details={"deadline_id": deadline.pk, "reason": reason},
        )
        events.publish(events.DEADLINE_WAIVED, {"deadline_id": deadline.pk, "incident_id": deadline.incident_id})
    return deadline
