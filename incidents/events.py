"""Domain events, published by services inside the transaction of the change they describe.

Other apps subscribe in their AppConfig.ready(). Two kinds of listener:
- `in_transaction=True`: runs at once, inside the same transaction, in a savepoint. For listeners
  that only write rows (notifications, webhook deliveries): the rows commit with the change or not
  at all, so a process that dies after the commit loses nothing.
- the default: runs after commit (cache invalidation, anything that talks to the outside).
A listener that fails is logged and never undoes the write that caused the event or stops the others.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
_listeners: defaultdict[str, list[Listener]] = defaultdict(list)
_in_transaction: defaultdict[str, list[Listener]] = defaultdict(list)

INCIDENT_CREATED = "incident.created"
INCIDENT_TRANSITIONED = "incident.transitioned"
INCIDENT_LEVEL_CHANGED = "incident.level_changed"
INCIDENT_UPDATED = "incident.updated"
DEADLINE_MET = "deadline.met"
DEADLINE_WAIVED = "deadline.waived"
DEADLINE_REMINDER = "deadline.reminder"
DEADLINE_MISSED = "deadline.missed"
DEADLINE_ESCALATED = "deadline.escalated"
DEADLINE_ACKNOWLEDGED = "deadline.acknowledged"
STATEMENT_SUBMITTED = "statement.submitted"
STATEMENT_APPROVED = "statement.approved"
STATEMENT_REJECTED = "statement.rejected"
STATEMENT_PUBLISHED = "statement.published"
REPORT_RECORDED = "report.recorded"
TASK_ASSIGNED = "task.assigned"


def subscribe(event: str, listener: Listener, *, in_transaction: bool = False) -> None:
    """Register `listener(event, payload)` for one event name, or "*" for all of them."""
    registry = _in_transaction if in_transaction else _listeners
    if listener not in registry[event]:
        registry[event].append(listener)


def publish(event: str, payload: dict[str, Any]) -> None:
    """Run the in-transaction listeners now; the others after commit (dropped on rollback)."""
    for listener in [*_in_transaction.get(event, []), *_in_transaction.get("*", [])]:
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
