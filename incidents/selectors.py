"""Reads of the incident domain, always scoped to what the user may see."""

from typing import Any

from django.db.models import Q, QuerySet

from incidents.models import Incident, Organization
from incidents.roles import user_organization_id


def incidents_visible_to(user: Any) -> QuerySet[Incident]:
    """The user's unit's incidents, plus those its direct subordinate units escalated to it."""
    organization_id = user_organization_id(user)
    if organization_id is None:
        return Incident.objects.none()
    return Incident.objects.filter(
        Q(organization_id=organization_id) | Q(organization__parent_id=organization_id, escalated_at__isnull=False)
    )


def organization_of(user: Any) -> Organization | None:
    organization_id = user_organization_id(user)
    return Organization.objects.filter(pk=organization_id).first() if organization_id else None
