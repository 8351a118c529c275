"""The one lock order of the incident domain: the incident row first, then its clocks and records.

Every writer (services, waivers, acknowledgements, the sweeper) takes the incident's row lock
before it locks or changes anything that belongs to the incident, so two writers never wait for
each other in opposite orders. The lock is FOR NO KEY UPDATE: it excludes other writers of the
incident but not the key-share locks that inserting a row referring to the incident takes.
"""

from typing import Any, TypeVar

from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from incidents.models import Deadline, Incident
from opinion_ops.errors import DomainError, StaleObject

M = TypeVar("M", bound=Model)


def incident_lock(incident_id: int, expected_version: int | None = None) -> Incident:
    """Lock the incident row for this transaction and refuse a write based on a stale page."""
    try:
        incident = (
            Incident.objects.select_for_update(of=("self",), no_key=True)
            .select_related("plan", "level", "category", "organization")
            .get(pk=incident_id)
        )
    except Incident.DoesNotExist as exc:
        raise DomainError(_("舆情事件不存在。"), code="not_found") from exc
    if expected_version is not None and incident.version != expected_version:
        raise StaleObject(_("该舆情已被他人更新，请刷新页面后再操作。"))
    return incident


def incident_touch(incident: Incident, *fields: str) -> None:
    incident.version += 1
    incident.save(update_fields=["version", "updated_at", *fields])


def record_lock(model: type[M], record_id: int, missing: Any, *related: str) -> tuple[Incident, M]:
    """Lock a record of an incident the one way: its incident first, then the record itself.
    `missing` is the message of the not-found error."""
    incident_id = model._default_manager.filter(pk=record_id).values_list("incident_id", flat=True).first()
    if incident_id is None:
        raise DomainError(missing, code="not_found")
    incident = incident_lock(incident_id)
    record = model._default_manager.select_for_update(of=("self",)).select_related(*related).get(pk=record_id)
    record.incident = incident  # type: ignore[attr-defined]
    return incident, record


def deadline_lock(deadline_id: int) -> tuple[Incident, Deadline]:
    return record_lock(Deadline, deadline_id, _("时限不存在。"), "owner", "owner_group")


def clocks_lock(incident: Incident, **filters: Any) -> list[Deadline]:
    """The incident's clocks, locked; call with the incident already locked."""
    clocks = list(
        Deadline.objects.select_for_update(of=("self",))
        .filter(incident_id=incident.pk, **filters)
        .select_related("owner", "owner_group")
        .order_by("id")
    )
    for clock in clocks:
        clock.incident = incident
    return clocks
