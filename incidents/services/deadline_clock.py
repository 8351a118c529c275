"""The clocks running: reminders before a deadline, marking it missed, and escalating up the chain.

Each open clock carries `next_action_at`, the moment it next needs attention. The sweeper (run by
Celery beat every second) claims only rows whose moment has come, with row locks that skip rows
another worker holds, so its cost follows the work that is due, not the number of open clocks.
Every reminder, miss and escalation is a DeadlineSignal with a unique key, written in the same
transaction as its notifications: a killed worker or two workers at once never lose or double one.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events
from incidents.errors import DomainError, InvalidTransition, NotPermitted
from incidents.models import Deadline, DeadlineSignal, GroupMember, Incident, ResponseGroup
from incidents.roles import Role, user_has_role, user_organization_id
from incidents.services.timeline import timeline_record

logger = logging.getLogger(__name__)

LOCAL_TIME = "%m-%d %H:%M"


def deadline_next_action_at(deadline: Deadline, now: datetime) -> datetime | None:
    """When the clock next needs the sweeper: its next reminder, its due time, or its next escalation."""
    if deadline.status == Deadline.Status.PENDING:
        reminders = [deadline.due_at - timedelta(minutes=m) for m in deadline.reminder_minutes or []]
        return min([at for at in reminders if at > now], default=deadline.due_at)
    if deadline.status == Deadline.Status.MISSED and deadline.acknowledged_at is None:
        interval = timedelta(minutes=deadline.escalation_interval_minutes or 15)
        return deadline.due_at + interval * (deadline.escalation_step + 1)
    return None


def deadline_reschedule(deadline: Deadline, now: datetime | None = None) -> None:
    """Set next_action_at from the clock's state (the caller saves it)."""
    deadline.next_action_at = deadline_next_action_at(deadline, now or timezone.now())


# --- who hears about a clock


@dataclass
class Audience:
    users: list[Any] = field(default_factory=list)
    groups: list[ResponseGroup] = field(default_factory=list)
    label: str = ""


def _group_users(group_id: int | None, *positions: str) -> list[Any]:
    if group_id is None:
        return []
    members = GroupMember.objects.filter(group_id=group_id).select_related("user").order_by("id")
    if positions:
        members = members.filter(position__in=positions)
    return [m.user for m in members if m.user.is_active]


def _leadership(organization_id: int | None) -> ResponseGroup | None:
    if organization_id is None:
        return None
    return (
        ResponseGroup.objects.filter(organization_id=organization_id, kind=ResponseGroup.Kind.LEADERSHIP)
        .order_by("id")
        .first()
    )


def escalation_chain(deadline: Deadline) -> list[Audience]:
    """Owner → leaders of the owner group → leadership group → the superior unit's leadership group.

    A group owner means its members; its 组长/副组长 are the next level (or the owners, if alone).

    People already reached at an earlier level are not repeated; levels left empty are dropped.
    """
    incident = deadline.incident
    owner_group_id = deadline.owner_group_id
    heads = _group_users(owner_group_id, GroupMember.Position.HEAD, GroupMember.Position.DEPUTY)
    members = [u for u in _group_users(owner_group_id) if u not in heads]
    owners = [deadline.owner] if deadline.owner_id else (members or heads)
    owner_groups = [deadline.owner_group] if deadline.owner_group is not None else []
    leadership = _leadership(incident.organization_id)
    parent_id = incident.organization.parent_id
    superior = _leadership(parent_id)
    levels = [
        Audience(owners, owner_groups, _("责任人")),
        Audience(heads, [], _("组长")),
        Audience(
            _group_users(leadership.pk if leadership else None), [leadership] if leadership else [], _("领导小组")
        ),
        Audience(_group_users(superior.pk if superior else None), [superior] if superior else [], _("上级主管部门")),
    ]
    chain: list[Audience] = []
    seen: set[int] = set()
    seen_groups: set[int] = set()
    for level in levels:
        users = [u for u in level.users if u.pk not in seen]
        groups = [g for g in level.groups if g.pk not in seen_groups]
        if not users and not groups:
            continue
        seen.update(u.pk for u in users)
        seen_groups.update(g.pk for g in groups)
        chain.append(Audience(users, groups, level.label))
    return chain


def incident_url(incident: Incident) -> str:
    try:
        return reverse("incident_detail", args=[incident.pk])
    except NoReverseMatch:
        return ""


# --- the sweeper


def _payload(deadline: Deadline, **extra: Any) -> dict[str, Any]:
    return {
        "deadline_id": deadline.pk,
        "incident_id": deadline.incident_id,
        "organization_id": deadline.incident.organization_id,
        "name": deadline.name,
        "kind": deadline.kind,
        "due_at": deadline.due_at.isoformat(),
        **extra,
    }


class SweepBatch:
    """What one sweep transaction shares: the chains it has looked up, the signal keys that exist,
    and the messages it writes in one go at the end (a fixed number of queries per batch)."""

    def __init__(self, deadlines: list[Deadline]) -> None:
        self.chains: dict[tuple[Any, ...], list[Audience]] = {}
        self.existing = set(
            DeadlineSignal.objects.filter(deadline_id__in=[d.pk for d in deadlines]).values_list("key", flat=True)
        )
        self.messages: list[Any] = []

    def chain(self, deadline: Deadline) -> list[Audience]:
        cache_key = (deadline.owner_id, deadline.owner_group_id, deadline.incident.organization_id)
        if cache_key not in self.chains:
            self.chains[cache_key] = escalation_chain(deadline)
        return self.chains[cache_key]

    def flush(self) -> None:
        from notifications.services import notifications_send_many

        notifications_send_many(messages=self.messages)
        self.messages = []


def _signal(
    batch: SweepBatch,
    deadline: Deadline,
    kind: str,
    step: int,
    planned_at: datetime,
    audience: Audience | None,
    title: str,
    body: str,
) -> DeadlineSignal | None:
    """Write one signal and queue its message, once: a signal whose key exists is not sent again."""
    from notifications.services import Message

    key = f"deadline:{deadline.pk}:{kind}:{step}:{int(deadline.due_at.timestamp())}"
    if key in batch.existing:
        return None
    users = audience.users if audience else []
    signal = DeadlineSignal.objects.create(
        deadline=deadline,
        kind=kind,
        step=step,
        key=key,
        planned_at=planned_at,
        recipients=[u.pk for u in users],
    )
    batch.existing.add(key)
    if audience is not None:
        batch.messages.append(
            Message(
                key=key,
                kind=f"deadline.{kind}",
                title=title,
                body=body,
                url=incident_url(deadline.incident),
                recipients=users,
                groups=audience.groups,
                incident=deadline.incident,
                deadline=deadline,
            )
        )
    return signal


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime(LOCAL_TIME)


def deadline_advance(deadline: Deadline, now: datetime, batch: SweepBatch | None = None) -> None:
    """Do what the clock needs at `now` (remind, mark missed, escalate) and set its next moment.

    Call inside a transaction holding the deadline's row lock; messages go out with the batch.
    """
    own_batch = batch is None
    batch = batch or SweepBatch([deadline])
    incident = deadline.incident
    due = deadline.due_at
    if deadline.status == Deadline.Status.PENDING and due <= now:
        chain = batch.chain(deadline)
        deadline.status = Deadline.Status.MISSED
        deadline.missed_at = now
        deadline.escalation_step = 0
        _signal(
            batch,
            deadline,
            DeadlineSignal.Kind.MISSED,
            0,
            due,
            chain[0] if chain else None,
            _("【已逾期】%(name)s · %(incident)s") % {"name": deadline.name, "incident": incident.title},
            _("“%(name)s”已于 %(due)s 到期未完成，请立即办理。") % {"name": deadline.name, "due": _local(due)},
        )
        timeline_record(
            incident=incident,
            kind="deadline",
            actor=None,
            summary=_("“%(name)s”已逾期（到期时间 %(due)s）") % {"name": deadline.name, "due": _local(due)},
            details={"deadline_id": deadline.pk, "due_at": due.isoformat(), "missed_at": now.isoformat()},
            occurred_at=due,
        )
        events.publish(events.DEADLINE_MISSED, _payload(deadline))
    elif deadline.status == Deadline.Status.PENDING:
        due_reminders = [m for m in deadline.reminder_minutes or [] if due - timedelta(minutes=m) <= now]
        if due_reminders:
            # Only the most imminent reminder: one passed while workers were down is superseded by it.
            minutes = min(due_reminders)
            chain = batch.chain(deadline)
            signal = _signal(
                batch,
                deadline,
                DeadlineSignal.Kind.REMINDER,
                minutes,
                due - timedelta(minutes=minutes),
                chain[0] if chain else None,
                _("【%(minutes)s 分钟后到期】%(name)s · %(incident)s")
                % {"minutes": minutes, "name": deadline.name, "incident": incident.title},
                _("“%(name)s”将于 %(due)s 到期，请按时完成。") % {"name": deadline.name, "due": _local(due)},
            )
            if signal is not None:
                events.publish(events.DEADLINE_REMINDER, _payload(deadline, minutes_before=minutes))
    elif deadline.status == Deadline.Status.MISSED and deadline.acknowledged_at is None:
        interval = timedelta(minutes=deadline.escalation_interval_minutes or 15)
        step = max(deadline.escalation_step + 1, int((now - due) / interval))
        chain = batch.chain(deadline)
        audience = chain[min(step, len(chain) - 1)] if chain else None
        deadline.escalation_step = step
        signal = _signal(
            batch,
            deadline,
            DeadlineSignal.Kind.ESCALATION,
            step,
            due + interval * step,
            audience,
            _("【逾期升级】%(name)s · %(incident)s") % {"name": deadline.name, "incident": incident.title},
            _("“%(name)s”已于 %(due)s 到期仍未完成（第 %(step)s 次升级，请确认并督办）。")
            % {"name": deadline.name, "due": _local(due), "step": step},
        )
        if signal is not None:
            timeline_record(
                incident=incident,
                kind="escalation",
                actor=None,
                summary=_("“%(name)s”逾期未办，第 %(step)s 次升级至%(who)s")
                % {"name": deadline.name, "step": step, "who": audience.label if audience else "—"},
                details={
                    "deadline_id": deadline.pk,
                    "step": step,
                    "recipients": [u.pk for u in audience.users] if audience else [],
                },
            )
            events.publish(
                events.DEADLINE_ESCALATED,
                _payload(deadline, step=step, level=audience.label if audience else ""),
            )
    deadline_reschedule(deadline, now)
    deadline.save(update_fields=["status", "missed_at", "escalation_step", "next_action_at"])
    if own_batch:
        batch.flush()


def deadlines_sweep(*, now: datetime | None = None, batch: int = 50, budget_seconds: float = 20.0) -> int:
    """Claim the clocks whose moment has come, a batch per transaction, and advance each.

    Rows locked by another sweeper are skipped, not waited for; a clock that fails is logged and
    retried on the next tick without holding back the others. Returns how many were advanced.
    """
    started = timezone.now()
    done = 0
    while True:
        at = now or timezone.now()
        with transaction.atomic():
            due = list(
                Deadline.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_action_at__lte=at)
                .select_related("incident__organization", "owner", "owner_group")
                .order_by("next_action_at")[:batch]
            )
            work = SweepBatch(due)
            for deadline in due:
                queued = len(work.messages)
                try:
                    with transaction.atomic():
                        deadline_advance(deadline, at, work)
                except Exception:
                    del work.messages[queued:]
                    logger.exception("Deadline %s could not be advanced", deadline.pk)
            work.flush()
        done += len(due)
        if len(due) < batch or (timezone.now() - started).total_seconds() > budget_seconds:
            return done


# --- acknowledging an escalation


def _may_acknowledge(actor: Any, incident: Incident) -> bool:
    if user_has_role(actor, incident.organization_id, *Role):
        return True
    own = user_organization_id(actor)
    ancestor = incident.organization.parent
    while ancestor is not None:
        if ancestor.pk == own:
            return user_has_role(actor, own, Role.LEADER, Role.OFFICE)
        ancestor = ancestor.parent
    return False


def deadline_acknowledge(*, deadline_id: int, actor: Any) -> Deadline:
    """Someone in the chain takes charge of a missed clock: escalation stops, the timeline says who."""
    with transaction.atomic():
        try:
            deadline = (
                Deadline.objects.select_for_update(of=("self",))
                .select_related("incident__organization")
                .get(pk=deadline_id)
            )
        except Deadline.DoesNotExist as exc:
            raise DomainError(_("时限不存在。"), code="not_found") from exc
        if user_organization_id(actor) is None or not _may_acknowledge(actor, deadline.incident):
            raise NotPermitted(_("只有本单位应急工作组成员或上级主管部门领导可以确认逾期时限。"))
        if deadline.status != Deadline.Status.MISSED:
            raise InvalidTransition(_("只有已逾期的时限需要确认。"))
        if deadline.acknowledged_at is not None:
            raise InvalidTransition(_("该逾期时限已由他人确认。"))
        now = timezone.now()
        deadline.acknowledged_at = now
        deadline.acknowledged_by = actor
        deadline_reschedule(deadline, now)
        deadline.save(update_fields=["acknowledged_at", "acknowledged_by", "next_action_at"])
        timeline_record(
            incident=deadline.incident,
            kind="deadline",
            actor=actor,
            summary=_("确认逾期时限“%(name)s”，停止升级") % {"name": deadline.name},
            details={"deadline_id": deadline.pk, "escalation_step": deadline.escalation_step},
        )
        events.publish(events.DEADLINE_ACKNOWLEDGED, _payload(deadline, acknowledged_by=actor.pk))
    return deadline
