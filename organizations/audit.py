"""The configuration audit trail: every change to a unit's set-up is recorded by the service that
makes it, in the same transaction (Zulip's RealmAuditLog is the model), with before and after."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import AuditEntry, Organization

# What the trail's entries are about, by the first part of their action name (`plan.activate`).
CATEGORIES = {
    "unit": _("单位"),
    "member": _("人员"),
    "group": _("工作组"),
    "plan": _("应急预案"),
    "token": _("接口令牌"),
    "webhook": _("系统对接"),
    "channel": _("通知方式"),
    "security": _("登录安全"),
    "monitoring": _("舆情监测"),
    "report": _("舆情报告"),
    "analysis": _("研判支持"),
    "drill": _("应急演练"),
}

# Field values never written to the trail, whatever model they are on.
SECRET_FIELDS = frozenset({"password", "token_hash", "secret", "key", "signing_secret"})


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


def snapshot(instance: models.Model | None, fields: Iterable[str]) -> dict[str, Any] | None:
    """The named fields of `instance` as JSON-safe values (foreign keys by id), secrets left out."""
    if instance is None:
        return None
    values: dict[str, Any] = {}
    for name in fields:
        if name in SECRET_FIELDS:
            continue
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = _plain(getattr(instance, attname))
    return values


def changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """The names whose values differ between two snapshots."""
    before, after = before or {}, after or {}
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def audit_record(
    *,
    organization: Organization | int | None,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; call inside the transaction of the change it records.

    `action` is a dotted name (`plan.activate`, `membership.update`, `token.issue`, …); `summary`
    says in a sentence what happened, for the unit's leaders reading the trail."""
    org_id = organization.pk if isinstance(organization, Organization) else organization
    return AuditEntry.objects.create(
        organization_id=org_id,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target_type or (str(target._meta.model_name) if target is not None else ""),
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=str(target)[:200] if target is not None else "",
        summary=str(summary)[:500],
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )
