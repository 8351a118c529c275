"""Domain events: services publish them inside their transaction; listeners run only after commit.

Other apps (notifications, webhooks) subscribe in their AppConfig.ready(). A listener that fails is
logged and never undoes the write that caused the event or stops the other listeners.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
_listeners: defaultdict[str, list[Listener]] = defaultdict(list)

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


def subscribe(event: str, listener: Listener) -> None:
    """Register `listener(event, payload)` for one event name, or "*" for all of them."""
    if listener not in _listeners[event]:
        _listeners[event].append(listener)


def publish(event: str, payload: dict[str, Any]) -> None:
    """Deliver after the surrounding transaction commits; dropped if it rolls back."""
    transaction.on_commit(lambda: _deliver(event, payload))


def _deliver(event: str, payload: dict[str, Any]) -> None:
    for listener in [*_listeners.get(event, []), *_listeners.get("*", [])]:
        try:
            listener(event, payload)
        except Exception:
            logger.exception("Listener %r failed for %s", listener, event)
