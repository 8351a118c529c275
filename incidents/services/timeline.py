from datetime import datetime
from typing import Any

from django.utils import timezone

from incidents.models import Approval, Incident, Report, StatementVersion, TimelineEntry
from incidents.models.chain import APPROVAL_KEY, GENESIS


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
    """Append one entry to the incident's hash chain: the next number, the previous entry's hash
    and its own (incidents.models.chain). Call inside the transaction of the change it records,
    holding the incident's row lock (incidents.services.locking, or the sweeper's claim): the lock
    is what makes the head of the chain this transaction's alone. The unique (incident, seq)
    constraint refuses a second entry with the same number should a caller ever not hold it."""
    head = TimelineEntry.objects.filter(incident_id=incident.pk).order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
    entry = TimelineEntry(
        incident=incident,
        seq=seq,
        prev_hash=prev_hash,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        recorded_at=timezone.now(),
        summary=str(summary)[:500],
        details=details or {},
        from_state=from_state,
        to_state=to_state,
        occurred_at=occurred_at,
    )
    entry.hash = entry.compute_hash()
    entry.save(force_insert=True)
    return entry


def approval_record(
    *,
    incident: Incident,
    actor: Any,
    decision: str,
    decided_at: datetime,
    content_sha256: str,
    kind: str,
    summary: str,
    details: dict[str, Any],
    statement_version: StatementVersion | None = None,
    report: Report | None = None,
    comment: str = "",
) -> Approval:
    """Write a leader's decision as evidence (Approval) and the timeline entry that records it,
    which carries the approval's hash into the chain. Same transaction and lock as timeline_record;
    the caller also sets the page's fields (decided_by, signed_off_by …) to the same values."""
    approval = Approval(
        incident=incident,
        decision=decision,
        statement_version=statement_version,
        report=report,
        version_number=statement_version.number if statement_version is not None else None,
        content_sha256=content_sha256,
        actor=actor,
        decided_at=decided_at,
        comment=comment,
    )
    approval.hash = approval.compute_hash()
    approval.entry = timeline_record(
        incident=incident,
        kind=kind,
        actor=actor,
        summary=summary,
        details={**details, APPROVAL_KEY: approval.hash},
    )
    approval.save(force_insert=True)
    return approval
