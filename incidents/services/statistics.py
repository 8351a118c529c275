"""The dashboard's statistics, counted by the worker and stored per unit (UnitStatistics).

Counting a unit's on-time rates, median time to first response and charts reads every clock and
incident of the period (some 60 ms at 50,000 incidents); the dashboard must not pay that on a
request. So the counts live in a row per unit, as rows with due times:

- any change to a unit's incidents or clocks (a domain event) makes its row due at once;
- the statistics sweeper, ticked by beat every STATISTICS_SWEEP_SECONDS, claims due rows with
  SKIP LOCKED and a lease (a worker that dies mid-count leaves the row due again when the lease
  ends), counts, and stores the result with the next due time STATISTICS_MAX_AGE ahead (the period
  moves on even when nothing changes);
- a change that arrives while a count runs keeps the row due, so it is counted again.

The payload holds no translated text: labels are added where it is shown, in the reader's language.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from incidents import events
from incidents.models import Incident, UnitStatistics
from incidents.selectors import incidents_over_time, median_minutes_to_first_response, on_time_rates
from opinion_ops.db import compiled

LEASE = timedelta(minutes=2)
# Events that change no incident or clock (a keyword alert, a monitoring report issued): a flood of
# alerts must not cost a write each.
OUTSIDE_STATISTICS = frozenset({events.ALERT_RAISED, events.MONITORING_REPORT_ISSUED})


def _max_age() -> timedelta:
    return timedelta(seconds=settings.STATISTICS_MAX_AGE_SECONDS)


def unit_statistics_count(organization_id: int, now: datetime | None = None) -> dict[str, Any]:
    """The unit's statistics now, as stored (JSON, no translated text)."""
    now = now or timezone.now()
    rates = [
        {key: value for key, value in rate.items() if key != "label"} for rate in on_time_rates(organization_id, now)
    ]
    return {
        "rates": rates,
        "median_minutes": median_minutes_to_first_response(organization_id, now),
        "charts": incidents_over_time(organization_id, now),
    }


@compiled
def _stored(organization_id: int) -> QuerySet[UnitStatistics]:
    return UnitStatistics.objects.filter(organization_id=organization_id).order_by()[:1]  # one row per unit


def unit_statistics_current(organization_id: int) -> UnitStatistics:
    """The stored statistics of the unit; counted here only the first time a unit's dashboard is
    opened (afterwards the sweeper keeps them current)."""
    found = _stored(organization_id)
    if found:
        return found[0]
    now = timezone.now()
    row = UnitStatistics(
        organization_id=organization_id,
        payload=unit_statistics_count(organization_id, now),
        computed_at=now,
        refresh_due_at=now + _max_age(),
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:  # another request counted them first
        return UnitStatistics.objects.get(organization_id=organization_id)
    return row


def unit_statistics_mark_due(event: str, payload: dict[str, Any]) -> None:
    """Event listener (after commit): a change to a unit's incidents or clocks makes its statistics
    due now. One conditional UPDATE that writes nothing when they are due already."""
    if event in OUTSIDE_STATISTICS:
        return
    organization_id = payload.get("organization_id")
    if organization_id is None and payload.get("incident_id") is not None:
        organization_id = (
            Incident.objects.filter(pk=payload["incident_id"]).values_list("organization_id", flat=True).first()
        )
    if organization_id is None:
        return
    now = timezone.now()
    UnitStatistics.objects.filter(organization_id=organization_id, refresh_due_at__gt=now).update(refresh_due_at=now)


def unit_statistics_sweep(now: datetime | None = None, limit: int = 20) -> int:
    """Count the statistics of the units whose row is due (at most `limit`); returns how many."""
    now = now or timezone.now()
    lease_until = now + LEASE
    with transaction.atomic():
        claimed = list(
            UnitStatistics.objects.select_for_update(skip_locked=True)
            .filter(refresh_due_at__lte=now)
            .order_by("refresh_due_at")
            .values_list("organization_id", flat=True)[:limit]
        )
        UnitStatistics.objects.filter(organization_id__in=claimed).update(refresh_due_at=lease_until)
    for organization_id in claimed:
        counted = unit_statistics_count(organization_id, now)
        # Still ours (no change arrived while counting): next due when the period has moved on.
        kept = UnitStatistics.objects.filter(organization_id=organization_id, refresh_due_at=lease_until).update(
            payload=counted, computed_at=now, refresh_due_at=now + _max_age()
        )
        if not kept:  # a change arrived meanwhile: store these counts and leave the row due
            UnitStatistics.objects.filter(organization_id=organization_id).update(payload=counted, computed_at=now)
    return len(claimed)
