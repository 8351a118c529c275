"""Relation fields that only accept rows of the requesting user's own unit."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from rest_framework import serializers

from incidents.selectors import incidents_visible_to
from organizations.roles import user_organization_id


class UnitScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """An id of a row in the requester's unit; anything else is "does not exist" (no leak)."""

    def __init__(self, *, model: Any, unit_lookup: str, **kwargs: Any) -> None:
        self.model = model
        self.unit_lookup = unit_lookup
        kwargs.setdefault("queryset", model.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        request = self.context.get("request")
        organization_id = user_organization_id(request.user) if request is not None else None
        return self.model.objects.filter(**{self.unit_lookup: organization_id})  # type: ignore[no-any-return]


class UnitUserField(UnitScopedPrimaryKeyField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(model=get_user_model(), unit_lookup="membership__organization_id", **kwargs)


class VisibleIncidentField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """An incident the requester can see (own unit, or escalated to it)."""

    def __init__(self, **kwargs: Any) -> None:
        from incidents.models import Incident

        kwargs.setdefault("queryset", Incident.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        request = self.context.get("request")
        return incidents_visible_to(request.user if request is not None else None)


def of_own_unit(queryset: QuerySet[Any], user: Any, lookup: str = "organization_id") -> QuerySet[Any]:
    """Rows of the user's unit; nothing for users without one."""
    organization_id = user_organization_id(user)
    return queryset.filter(**{lookup: organization_id}) if organization_id is not None else queryset.none()
