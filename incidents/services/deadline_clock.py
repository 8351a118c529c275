"""The clocks running: reminders before a deadline, marking it missed, and reporting a miss up the
plan's chain one rung at a time (逐级报告).

Each open clock carries `next_action_at`, the moment it next needs attention. The sweeper (ticked
by Celery beat every second) claims only rows whose moment has come, together with their
incident's row lock, skipping clocks whose incident someone is changing right now; its cost
follows the work that is due, not the number of open clocks. Every reminder, miss and rung is a
DeadlineSignal with a unique key, written in the same transaction as the timeline entry and the
event that routes it to people: a killed worker or two workers at once never lose or double one.

Rungs: at the miss the first rung with someone on it is told at once; each later rung one
escalation interval after the one before, in the plan's order, each once. After an outage the
next rung is reached when the sweeper runs again and the following one an interval later, so no
rung is skipped however long the outage was. A clock that makes the sweeper fail is set aside
with its error and retried with backoff; it never holds up the others.
"""

import logging
import time
import traceback
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events, policies
from incidents.escalation import Ladder, PeopleLookup, Rung
from incidents.models import Deadline, DeadlineSignal
from incidents.services.locking import deadline_lock
from incidents.services.timeline import timeline_record
from opinion_ops.db import retry_on_conflict
from organizations.selectors import people_names

logger = logging.getLogger(__name__)

LOCAL_TIME = "%m-%d %H:%M"
SWEEP_BATCH = 25  # a clock's notice leaves when its batch commits: small batches commit sooner
QUARANTINE_BACKOFF = timedelta(minutes=1)
QUARANTINE_BACKOFF_MAX = timedelta(hours=1)


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime(LOCAL_TIME)


def clock_speed(incident: Any) -> int:
    """How many times faster than real time the incident's clocks run (1 but for a fast drill)."""
    return max(int(getattr(incident, "clock_speed", 1) or 1), 1)


def plan_minutes(deadline: Deadline, minutes: float) -> timedelta:
    """`minutes` of the plan as real time on this clock: the plan's own, or shorter by the drill's
    clock speed (Incident.clock_speed, ×10 or ×60), for reminder lead times and escalation intervals
    alike. The clock keeps the plan's minutes; only the moments they give are scaled."""
    speed = clock_speed(deadline.incident)
    span = timedelta(minutes=minutes)
    return span if speed == 1 else span / speed


def _interval(deadline: Deadline) -> timedelta:
    return plan_minutes(deadline, deadline.escalation_interval_minutes or 15)


def deadline_next_action_at(deadline: Deadline, now: datetime) -> datetime | None:
    """When a pending clock next needs the sweeper: its next reminder still to come, or its due time."""
    if deadline.status != Deadline.Status.PENDING:
        return None
    reminders = [deadline.due_at - plan_minutes(deadline, m) for m in deadline.reminder_minutes or []]
    return min([at for at in reminders if at > now], default=deadline.due_at)


def deadline_reschedule(deadline: Deadline, now: datetime | None = None) -> None:
    """Set next_action_at of a pending clock from its reminders and due time (the caller saves)."""
    if deadline.status == Deadline.Status.PENDING:
        deadline.next_action_at = deadline_next_action_at(deadline, now or timezone.now())
    elif not deadline.is_open:
        deadline.next_action_at = None


def deadline_event_payload(deadline: Deadline, **extra: Any) -> dict[str, Any]:
    """What every clock event carries: enough to route it and to say which unit and incident it is."""
    incident = deadline.incident
    return {
        "deadline_id": deadline.pk,
        "incident_id": incident.pk,
        "incident_reference": incident.reference,
        "incident_title": incident.title,
        "incident_is_drill": incident.is_drill,
        "clock_speed": incident.clock_speed,
        "organization_id": incident.organization_id,
        "organization_name": incident.organization.name,
        "name": deadline.name,
        "kind": deadline.kind,
        "status": deadline.status,
        "due_at": deadline.due_at.isoformat(),
        **extra,
    }


# --- the sweeper


class SweepBatch:
    """What one sweep transaction shares: group lookups and the signal keys that already exist."""

    def __init__(self, deadlines: list[Deadline]) -> None:
        self.lookup = PeopleLookup()
        self.existing = set(
            DeadlineSignal.objects.filter(deadline_id__in=[d.pk for d in deadlines]).values_list("key", flat=True)
        )


def _signal(
    batch: SweepBatch, deadline: Deadline, kind: str, step: int, planned_at: datetime, rung: Rung | None
) -> str | None:
    """Write one signal, once: returns its key, or None when a signal with this key exists."""
    point = rung.code if kind == DeadlineSignal.Kind.ESCALATION and rung is not None else str(step)
    key = f"deadline:{deadline.pk}:{kind}:{point}:{int(deadline.due_at.timestamp())}"
    if key in batch.existing:
        return None
    DeadlineSignal.objects.create(
        deadline=deadline,
        kind=kind,
        step=step,
        rung=rung.code if rung else "",
        key=key,
        planned_at=planned_at,
        recipients=[u.pk for u in rung.users] if rung else [],
    )
    batch.existing.add(key)
    return key


def _audience(rung: Rung | None) -> dict[str, Any]:
    if rung is None:
        return {"rung": "", "rung_label": "", "recipients": [], "groups": []}
    return {
        "rung": rung.code,
        "rung_label": rung.label,
        "recipients": [u.pk for u in rung.users],
        "groups": [g.pk for g in rung.groups],
    }


def _reached(rung: Rung | None) -> str:
    """'领导小组：周组长、吴副组长' for the timeline; who was told, by name."""
    if rung is None:
        return _("无人可通知（请检查工作组人员）")
    return f"{rung.label}：{people_names(list(rung.users))}"


def _remind(deadline: Deadline, now: datetime, batch: SweepBatch) -> None:
    due = deadline.due_at
    passed = [m for m in deadline.reminder_minutes or [] if due - plan_minutes(deadline, m) <= now]
    if passed:
        # Only the most imminent reminder: one passed while workers were down is superseded by it.
        minutes = min(passed)
        found = Ladder(deadline, batch.lookup).next_reachable()
        rung = found[1] if found else None
        planned = due - plan_minutes(deadline, minutes)
        key = _signal(batch, deadline, DeadlineSignal.Kind.REMINDER, minutes, planned, rung)
        if key is not None:
            timeline_record(
                incident=deadline.incident,
                kind="reminder",
                actor=None,
                summary=_("提醒：“%(name)s”将于 %(due)s 到期，已提醒%(who)s")
                % {"name": deadline.name, "due": _local(due), "who": _reached(rung)},
                details={"deadline_id": deadline.pk, "minutes_before": minutes, **_audience(rung)},
            )
            events.publish(
                events.DEADLINE_REMINDER,
                deadline_event_payload(deadline, key=key, minutes_before=minutes, **_audience(rung)),
            )
    deadline_reschedule(deadline, now)


def _next_rung_time(deadline: Deadline, ladder: Ladder, now: datetime) -> datetime | None:
    """One interval after the rung just reached, if a further rung has someone on it."""
    if deadline.acknowledged_at is not None or ladder.next_reachable(after=deadline.escalation_rung) is None:
        return None
    return now + _interval(deadline)


def _miss(deadline: Deadline, now: datetime, batch: SweepBatch) -> None:
    due = deadline.due_at
    deadline.miss(now)
    ladder = Ladder(deadline, batch.lookup)
    found = ladder.next_reachable()
    rung = found[1] if found else None
    key = _signal(batch, deadline, DeadlineSignal.Kind.MISSED, 0, due, rung)
    deadline.escalation_rung = rung.code if rung else ""
    deadline.escalation_step = 0
    deadline.last_escalated_at = now
    if key is not None:
        timeline_record(
            incident=deadline.incident,
            kind="deadline",
            actor=None,
            summary=_("“%(name)s”已逾期（到期时间 %(due)s），已通知%(who)s")
            % {"name": deadline.name, "due": _local(due), "who": _reached(rung)},
            details={
                "deadline_id": deadline.pk,
                "due_at": due.isoformat(),
                "missed_at": now.isoformat(),
                **_audience(rung),
            },
            occurred_at=due,
        )
        events.publish(events.DEADLINE_MISSED, deadline_event_payload(deadline, key=key, **_audience(rung)))
    deadline.next_action_at = _next_rung_time(deadline, ladder, now) if rung else None


def _climb(deadline: Deadline, now: datetime, batch: SweepBatch) -> None:
    ladder = Ladder(deadline, batch.lookup)
    found = ladder.next_reachable(after=deadline.escalation_rung)
    if found is None:
        deadline.next_action_at = None
        return
    _index, rung = found
    step = deadline.escalation_step + 1
    key = _signal(batch, deadline, DeadlineSignal.Kind.ESCALATION, step, now, rung)
    deadline.escalation_rung = rung.code
    deadline.escalation_step = step
    deadline.last_escalated_at = now
    if key is not None:
        timeline_record(
            incident=deadline.incident,
            kind="escalation",
            actor=None,
            summary=_("逐级上报：“%(name)s”逾期未办，已通知%(who)s") % {"name": deadline.name, "who": _reached(rung)},
            details={"deadline_id": deadline.pk, "step": step, **_audience(rung)},
        )
        events.publish(
            events.DEADLINE_ESCALATED, deadline_event_payload(deadline, key=key, step=step, **_audience(rung))
        )
    deadline.next_action_at = _next_rung_time(deadline, ladder, now)


def deadline_advance(deadline: Deadline, now: datetime, batch: SweepBatch | None = None) -> None:
    """Do what the clock needs at `now` (remind, mark missed, reach the next rung) and set its next moment.

    Call inside a transaction holding the incident's lock and then the clock's.
    """
    batch = batch or SweepBatch([deadline])
    if not deadline.incident.is_open:
        deadline.next_action_at = None  # a closed incident's clocks stop: nothing more to tell anyone
    elif deadline.status == Deadline.Status.PENDING and deadline.due_at <= now:
        _miss(deadline, now, batch)
    elif deadline.status == Deadline.Status.PENDING:
        _remind(deadline, now, batch)
    elif deadline.status == Deadline.Status.MISSED and deadline.acknowledged_at is None and not deadline.late_logged:
        _climb(deadline, now, batch)
    else:
        deadline.next_action_at = None
    if deadline.sweep_failures:
        deadline.sweep_failures, deadline.sweep_error, deadline.quarantined_at = 0, "", None
    deadline.save()


def _set_aside(deadline: Deadline, now: datetime, error: BaseException) -> None:
    """Record the failure on the row and push it back (1, 2, 4 … 60 minutes), so it is neither lost
    nor picked first again at the next tick. The traceback is logged at the first failure only."""
    failures = deadline.sweep_failures + 1
    backoff = min(QUARANTINE_BACKOFF * 2 ** (failures - 1), QUARANTINE_BACKOFF_MAX)
    text = "".join(traceback.format_exception_only(type(error), error)).strip()[:2000]
    if failures == 1:
        logger.error("Deadline %s set aside after a sweep failure", deadline.pk, exc_info=error)
    with transaction.atomic():
        Deadline.objects.filter(pk=deadline.pk).update(
            sweep_failures=F("sweep_failures") + 1,
            sweep_error=text,
            quarantined_at=Coalesce(F("quarantined_at"), now),
            next_action_at=now + backoff,
        )


def deadlines_claimable(at: datetime, size: int) -> QuerySet[Deadline]:
    """Due clocks with their incidents, both row-locked; a clock whose incident (or itself) another
    transaction holds is skipped, never waited for: services lock the incident first, then clocks.
    Read by the partial index on next_action_at, so its cost follows what is due."""
    return (
        Deadline.objects.select_for_update(skip_locked=True, no_key=True, of=("self", "incident"))
        .filter(next_action_at__lte=at)
        .select_related("incident", "incident__organization", "incident__plan", "owner", "owner_group")
        .order_by("next_action_at")[:size]
    )


@retry_on_conflict
def _sweep_once(now: datetime | None, size: int) -> tuple[int, int]:
    at = now or timezone.now()
    with transaction.atomic():
        due = list(deadlines_claimable(at, size))
        work = SweepBatch(due)
        failed = 0
        # The batch's messages are routed together at its end: a fixed number of outbox queries.
        with events.batched() as published:
            for deadline in due:
                mark = published.mark()
                try:
                    with transaction.atomic():
                        deadline_advance(deadline, at, work)
                except Exception as exc:
                    published.discard_after(mark)
                    failed += 1
                    _set_aside(deadline, at, exc)
    return len(due), failed


def deadlines_next_moment() -> datetime | None:
    """When the next clock needs the sweeper (one step along the partial index)."""
    return (
        Deadline.objects.filter(next_action_at__isnull=False)
        .order_by("next_action_at")
        .values_list("next_action_at", flat=True)
        .first()
    )


def deadlines_sweep(
    *, now: datetime | None = None, batch: int = SWEEP_BATCH, budget_seconds: float = 20.0, follow_seconds: float = 0
) -> dict[str, int]:
    """Claim the clocks whose moment has come, a batch per transaction, and advance each.

    A clock that fails is recorded and set aside in its own savepoint; the rest of the batch goes
    on. With `follow_seconds`, a clock falling due within that time is waited for and handled at
    its moment instead of at the next tick (the tick then costs one more indexed read).
    Returns how many clocks were advanced and failed, and the milliseconds spent working on them.
    """
    started = time.monotonic()
    done = failed = 0
    busy = 0.0
    while True:
        batch_started = time.monotonic()
        count, errors = _sweep_once(now, batch)
        if count:
            busy += time.monotonic() - batch_started
        done += count
        failed += errors
        elapsed = time.monotonic() - started
        result = {"advanced": done - failed, "failed": failed, "busy_ms": round(busy * 1000)}
        if count >= batch and elapsed <= budget_seconds:
            continue
        if now is not None or elapsed >= follow_seconds:
            return result
        upcoming = deadlines_next_moment()
        wait = (upcoming - timezone.now()).total_seconds() if upcoming else follow_seconds
        if wait >= follow_seconds - elapsed:
            return result
        time.sleep(max(wait, 0.0))


def deadlines_release(*, deadline_ids: list[int]) -> int:
    """An operator puts set-aside clocks back to work at once (after fixing what made them fail)."""
    return Deadline.objects.filter(pk__in=deadline_ids, sweep_failures__gt=0).update(
        sweep_failures=0, sweep_error="", quarantined_at=None, next_action_at=timezone.now()
    )


# --- acknowledging an escalation


@retry_on_conflict
def deadline_acknowledge(*, deadline_id: int, actor: Any) -> Deadline:
    """Someone above the owner on the chain takes charge of a missed clock (确认并督办): the climb
    stops and the timeline records who and when. The owner cannot silence their own escalation."""
    with transaction.atomic():
        incident, deadline = deadline_lock(deadline_id)
        policies.require("acknowledge_deadline", actor, incident, deadline)
        now = timezone.now()
        deadline.acknowledged_at = now
        deadline.acknowledged_by = actor
        deadline.next_action_at = None
        deadline.save()
        reached = deadline.get_escalation_rung_display() or "—"
        timeline_record(
            incident=incident,
            kind="escalation",
            actor=actor,
            summary=_("确认逾期时限“%(name)s”并督办，停止逐级上报（已通知到%(rung)s）")
            % {"name": deadline.name, "rung": reached},
            details={"deadline_id": deadline.pk, "escalation_rung": deadline.escalation_rung},
        )
        events.publish(events.DEADLINE_ACKNOWLEDGED, deadline_event_payload(deadline, acknowledged_by=actor.pk))
    return deadline


def deadlines_resume_for_superior(*, incident: Any) -> int:
    """The incident was just reported up: missed clocks whose climb stopped short of the superior
    unit go on to it, one interval after their last rung. Call holding the incident's lock."""
    from incidents.services.locking import clocks_lock

    resumed = 0
    now = timezone.now()
    for clock in clocks_lock(incident, status=Deadline.Status.MISSED, acknowledged_at__isnull=True, late_logged=False):
        if clock.next_action_at is None:
            # One interval after the rung reached last, as every rung.
            after_last = (clock.last_escalated_at or now) + _interval(clock)
            clock.next_action_at = max(now, after_last)
            clock.save()
            resumed += 1
    return resumed
