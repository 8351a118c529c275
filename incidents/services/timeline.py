from datetime import datetime
from typing import Any

from incidents.models import Incident, TimelineEntry


def timeline_record(
    *,
    incident: Incident,
    kind: str,
    actor: Any,
    summary: str,
    details: dict[str, Any] | None = None,
    from_state: str = "",
    to_state: str = "",
    occurred_at: datetime | None = None,
) -> TimelineEntry:
    """Append one entry; call inside the transaction of the change it records."""
    return TimelineEntry.objects.create(
        incident=incident,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        summary=str(summary)[:500],
        details=details or {},
        from_state=from_state,
        to_state=to_state,
        occurred_at=occurred_at,
    )
