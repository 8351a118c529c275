"""Domain events, published by services inside the transaction of the change they describe.

Other apps subscribe in their AppConfig.ready(). Two kinds of listener:
- `in_transaction=True`: runs at once, inside the same transaction, in a savepoint. For listeners
  that only write rows (notifications, webhook deliveries): the rows commit with the change or not
  at all, so a process that dies after the commit loses nothing.
- the default: runs after commit (cache invalidation, anything that talks to the outside).
A listener that fails is logged and never undoes the write that caused the event or stops the others.

A writer that publishes many events in one transaction (the clock sweeper) can open `batched()`:
in-transaction listeners that offer a `many` variant then get all the batch's events at once at
its end, so the batch costs a fixed number of their queries instead of some per event.
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
ManyListener = Callable[[list[tuple[str, dict[str, Any]]]], None]
_listeners: defaultdict[str, list[Listener]] = defaultdict(list)
_in_transaction: defaultdict[str, list[Listener]] = defaultdict(list)
_many: dict[Listener, ManyListener] = {}
_local = threading.local()


class Batch:
    """The events a batched writer has published so far; a unit of work that fails can drop its own."""

    def __init__(self) -> None:
        self.pending: list[tuple[Listener, str, dict[str, Any]]] = []

    def mark(self) -> int:
        return len(self.pending)

    def discard_after(self, mark: int) -> None:
        del self.pending[mark:]


@contextmanager
def batched() -> Iterator[Batch]:
    """Inside: listeners with a `many` variant are deferred; at the end each gets its events at once
    (still inside the caller's transaction, in a savepoint)."""
    batch = Batch()
    outer = getattr(_local, "batch", None)
    _local.batch = batch
    try:
        yield batch
    finally:
        _local.batch = outer
    grouped: dict[Listener, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for listener, event, payload in batch.pending:
        grouped[listener].append((event, payload))
    for listener, items in grouped.items():
        try:
            with transaction.atomic():
                _many[listener](items)
        except Exception:
            logger.exception("In-transaction listener %r failed for %d batched events", listener, len(items))


INCIDENT_CREATED = "incident.created"
INCIDENT_TRANSITIONED = "incident.transitioned"
INCIDENT_LEVEL_CHANGED = "incident.level_changed"
INCIDENT_UPDATED = "incident.updated"
INCIDENT_ESCALATED = "incident.escalated"
INCIDENT_MERGED = "incident.merged"  # a duplicate closed into another incident
INCIDENT_LINKED = "incident.linked"
INCIDENT_REBOUND = "incident.rebound"  # heat rose again during 跟踪: its groups and leaders are told
COMMENT_POSTED = "comment.posted"  # carries the people @mentioned, who are told
DEADLINE_MET = "deadline.met"
DEADLINE_WAIVED = "deadline.waived"
DEADLINE_CLOSED = "deadline.closed"
DEADLINE_CONFIRMED = "deadline.confirmed"
DEADLINE_REMINDER = "deadline.reminder"
DEADLINE_MISSED = "deadline.missed"
DEADLINE_ESCALATED = "deadline.escalated"
DEADLINE_ACKNOWLEDGED = "deadline.acknowledged"
INCIDENT_WARNING_ISSUED = "incident.warning_issued"  # a warning notice: level, text, groups and requirements
STATEMENT_SUBMITTED = "statement.submitted"
STATEMENT_WITHDRAWN = "statement.withdrawn"
STATEMENT_LEGAL_APPROVED = "statement.legal_approved"
STATEMENT_LEGAL_REJECTED = "statement.legal_rejected"
STATEMENT_APPROVED = "statement.approved"
STATEMENT_REJECTED = "statement.rejected"
STATEMENT_PUBLISHED = "statement.published"
REPORT_RECORDED = "report.recorded"
REPORT_SIGNED_OFF = "report.signed_off"
TASK_ASSIGNED = "task.assigned"
# A keyword alert of monitoring; carries its audience (people on duty, the scheme's recipients).
ALERT_RAISED = "alert.raised"
# A monitoring report (舆情日报/周报/月报/专报) issued; carries its audience (subscribers, groups).
MONITORING_REPORT_ISSUED = "monitoring_report.issued"


def subscribe(
    event: str, listener: Listener, *, in_transaction: bool = False, many: ManyListener | None = None
) -> None:
    """Register `listener(event, payload)` for one event name, or "*" for all of them. An
    in-transaction listener may offer `many([(event, payload), …])` for batched publishers."""
    registry = _in_transaction if in_transaction else _listeners
    if listener not in registry[event]:
        registry[event].append(listener)
    if many is not None:
        _many[listener] = many


def publish(event: str, payload: dict[str, Any]) -> None:
    """Run the in-transaction listeners now (or at the end of a batch); the others after commit
    (dropped on rollback)."""
    batch: Batch | None = getattr(_local, "batch", None)
    for listener in [*_in_transaction.get(event, []), *_in_transaction.get("*", [])]:
        if batch is not None and listener in _many:
            batch.pending.append((listener, event, payload))
            continue
        try:
            with transaction.atomic():  # a savepoint: a failing listener leaves the change intact
                listener(event, payload)
        except Exception:
            logger.exception("In-transaction listener %r failed for %s", listener, event)
    transaction.on_commit(lambda: _deliver(event, payload))


def _deliver(event: str, payload: dict[str, Any]) -> None:
    for listener in [*_listeners.get(event, []), *_listeners.get("*", [])]:
        try:
            listener(event, payload)
        except Exception:
            logger.exception("Listener %r failed for %s", listener, event)
