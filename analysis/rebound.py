"""A rebound of an incident's heat during 跟踪 (its posts rising again after they had fallen), told
once per rebound to its working groups and leaders with the suggestion to return to 处置.

The sweeper (sweep_analysis_task, every minute) reads the heat of every incident in 跟踪 that has
analysed posts (analysis.selectors.incident_heat). It counts the rebounds in the heat — each rise
after a fall, a new one only after another fall — and tells the n-th one while it is still going
on (no fall since it began). ReboundNotice records each rebound told, unique per incident and
number, so a rebound is told once whichever worker sees it; the incident row is locked first (the
house lock order) and skipped while a writer holds it.
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.models import PostAnalysis, ReboundNotice
from analysis.selectors import Heat, incident_heat
from incidents import events
from incidents.models import Incident, State
from organizations.audit import audit_record

logger = logging.getLogger(__name__)


def rebound_episodes(volume: list[int]) -> tuple[int, bool]:
    """(how many times the volume rose again after falling, whether the last rise goes on: no
    fall since it began)."""
    peak_seen = fell = rising = False
    count = previous = 0
    for value in volume:
        if peak_seen and value < previous:
            fell, rising = True, False
        elif fell and value > previous:
            count, fell, rising = count + 1, False, True
        peak_seen = peak_seen or value > 0
        previous = value
    return count, rising


def _figures(heat: Heat) -> dict[str, object]:
    """The last window, the low the heat rose from and the peak it had fallen from."""
    volume = heat.volume
    peak_seen = fell = False
    start = len(volume) - 1
    for index in range(1, len(volume)):
        peak_seen = peak_seen or volume[index - 1] > 0
        if peak_seen and volume[index] < volume[index - 1]:
            fell = True
        elif fell and volume[index] > volume[index - 1]:
            start, fell = index, False  # the latest rebound began here
    return {
        "last": volume[-1],
        "low": volume[start - 1] if start else 0,
        "peak": max(volume[:start]) if start else volume[-1],
        "negative_percent": round(heat.negative_share * 100),
        "window": heat.labels[-1],
    }


def _incident_rebound_tell(incident_id: int, heat: Heat, now: datetime) -> bool:
    count, going_on = rebound_episodes(heat.volume)
    if not count or not going_on:
        return False
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update(skip_locked=True)
            .select_related("organization")
            .filter(pk=incident_id, state=State.TRACKING)
            .first()
        )
        if incident is None:  # left 跟踪, or a writer holds it: the next tick sees it
            return False
        told = ReboundNotice.objects.filter(incident_id=incident_id).aggregate(n=Max("number"))["n"] or 0
        if count <= told:
            return False
        figures = _figures(heat)
        number = told + 1
        try:
            with transaction.atomic():
                ReboundNotice.objects.create(
                    incident=incident,
                    organization_id=incident.organization_id,
                    number=number,
                    told_at=now,
                    figures=figures,
                )
        except IntegrityError:  # told by another worker meanwhile
            return False
        audit_record(
            organization=incident.organization_id,
            actor=None,
            action="analysis.rebound",
            target=incident,
            target_type="incident",
            summary=_(
                "跟踪期间舆情热度反弹（第 %(n)s 次）：最近时段 %(last)s 条，此前低点 %(low)s 条，已通知工作组和领导小组"
            )
            % {"n": number, **figures},
            after=figures,
        )
        events.publish(
            events.INCIDENT_REBOUND,
            {
                "incident_id": incident.pk,
                "organization_id": incident.organization_id,
                "organization_name": incident.organization.name,
                "incident_reference": incident.reference,
                "incident_title": incident.title,
                "incident_is_drill": incident.is_drill,
                "groups": list(incident.assigned_groups.values_list("pk", flat=True)),
                "number": number,
                **figures,
                "key": f"incident:{incident.pk}:rebound:{number}",
            },
        )
    return True


def incidents_rebound_check(now: datetime | None = None) -> int:
    """The sweeper's part: tell each new, ongoing rebound of an incident in 跟踪; returns how many."""
    now = now or timezone.now()
    tracking = list(
        Incident.objects.filter(
            state=State.TRACKING, pk__in=PostAnalysis.objects.values("mention__incident_id")
        ).values_list("pk", "organization_id")
    )
    told = 0
    for incident_id, organization_id in tracking:
        try:
            heat = incident_heat(organization_id=organization_id, incident_id=incident_id, now=now)
            if heat is not None and heat.rebound and _incident_rebound_tell(incident_id, heat, now):
                told += 1
        except Exception:  # contained: one incident never stops the others
            logger.exception("the heat of incident %s could not be checked for a rebound", incident_id)
    return told
