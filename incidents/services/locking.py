from django.utils.translation import gettext as _

from incidents.errors import DomainError, StaleObject
from incidents.models import Incident


def incident_lock(incident_id: int, expected_version: int | None = None) -> Incident:
    """Lock the incident row for this transaction and refuse a write based on a stale page."""
    try:
        incident = (
            Incident.objects.select_for_update(of=("self",))
            .select_related("plan", "level", "category")
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
