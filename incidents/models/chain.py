"""The canonical serialisation of the incident record and its SHA-256 digests (format 1).

Every digest is SHA-256, in lower-case hex, of the UTF-8 bytes of one JSON object written
canonically: keys sorted, no whitespace (separators "," and ":"), non-ASCII characters as
themselves, integral numbers as integers (1.0 → 1), times in UTC as "YYYY-MM-DDTHH:MM:SS.ffffffZ"
and an absent value as null. Anyone can recompute a digest from a database dump with these rules.

A timeline entry's digest covers (key: value)
    v: 1, incident: incident id, seq: its number in the incident's chain (1, 2, 3 …),
    kind, actor: user id or null, recorded_at, occurred_at (or null),
    from_state, to_state, summary, details (the JSON object as stored), prev: the digest of entry
    seq − 1, or 64 zeros for seq 1.
An approval's digest covers
    v: 1, incident, decision, statement_version: id or null, report: id or null,
    version_number (or null), content_sha256, actor, decided_at, comment.
The content an approval attests is SHA-256 of the statement version's text (UTF-8), or of a
report's canonical content (report_content_sha256). The timeline entry that records an approval
carries the approval's digest in its details under "approval_sha256", which puts the approval
into the chain.

These functions are pure (no database): the models, the data migration that sealed the rows
recorded before the chain existed, and the verifier (incidents.integrity) share them. Changing
what they compute breaks every existing chain: a new format needs a new "v".
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

FORMAT = 1
GENESIS = "0" * 64
# The key of a timeline entry's details that holds the hash of the approval the entry records.
APPROVAL_KEY = "approval_sha256"


def _normal(value: Any) -> Any:
    """The value as JSON storage gives it back: string keys, lists, integral floats as integers."""
    if isinstance(value, dict):
        return {str(key): _normal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        _normal(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def canonical_time(at: datetime | None) -> str | None:
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_sha256(text: str) -> str:
    return sha256_hex(text.encode("utf-8"))


def entry_digest(
    *,
    incident_id: int,
    seq: int,
    kind: str,
    actor_id: int | None,
    recorded_at: datetime,
    occurred_at: datetime | None,
    from_state: str,
    to_state: str,
    summary: str,
    details: Any,
    prev_hash: str,
) -> str:
    return sha256_hex(
        canonical_json(
            {
                "v": FORMAT,
                "incident": incident_id,
                "seq": seq,
                "kind": kind,
                "actor": actor_id,
                "recorded_at": canonical_time(recorded_at),
                "occurred_at": canonical_time(occurred_at),
                "from_state": from_state,
                "to_state": to_state,
                "summary": summary,
                "details": details,
                "prev": prev_hash,
            }
        )
    )


def approval_digest(
    *,
    incident_id: int,
    decision: str,
    statement_version_id: int | None,
    report_id: int | None,
    version_number: int | None,
    content_sha256: str,
    actor_id: int,
    decided_at: datetime,
    comment: str,
) -> str:
    return sha256_hex(
        canonical_json(
            {
                "v": FORMAT,
                "incident": incident_id,
                "decision": decision,
                "statement_version": statement_version_id,
                "report": report_id,
                "version_number": version_number,
                "content_sha256": content_sha256,
                "actor": actor_id,
                "decided_at": canonical_time(decided_at),
                "comment": comment,
            }
        )
    )


def report_content_sha256(report: Any) -> str:
    """What a leader signs: the report as recorded (who reported, to whom, when, and its text)."""
    return sha256_hex(
        canonical_json(
            {
                "kind": report.kind,
                "reported_by": report.reported_by_id,
                "reported_to": report.reported_to,
                "to_superior": report.to_superior,
                "occurred_at": canonical_time(report.occurred_at),
                "summary": report.summary,
                "cause": report.cause,
                "facts": report.facts,
                "measures_taken": report.measures_taken,
            }
        )
    )
