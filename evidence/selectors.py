"""Reads of evidence, always through the incidents the user may see (own unit, or escalated to it)."""

from typing import Any

from django.db.models import QuerySet

from evidence.models import Evidence
from incidents.models import Incident
from incidents.selectors import incidents_visible_to
from opinion_ops.db import compiled


def evidence_visible_to(user: Any) -> QuerySet[Evidence]:
    return Evidence.objects.filter(incident__in=incidents_visible_to(user).values("pk"))


@compiled
def _of_incident(incident_id: int) -> QuerySet[Evidence]:
    return (
        Evidence.objects.filter(incident_id=incident_id)
        .select_related("uploaded_by", "report", "mention", "withdrawal", "withdrawal__withdrawn_by")
        .order_by("uploaded_at", "id")
    )


def evidence_of_incident(incident: Incident) -> list[Evidence]:
    """The incident's attachments, oldest first, with what the page shows of each, in one query."""
    return _of_incident(incident.pk)
