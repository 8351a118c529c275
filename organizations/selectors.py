"""Reads of units and their people that other apps share."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from organizations.models import AuditEntry, GroupMember, Membership, Organization, ResponseGroup


def unit_by_code_or_id(value: str) -> Organization | None:
    """The unit a command's UNIT argument names: its code, or else its id."""
    unit = Organization.objects.filter(code=value).first()
    if unit is None and value.isdigit():
        unit = Organization.objects.filter(pk=int(value)).first()
    return unit


def group_people(group_id: int | None, *positions: str) -> list[Any]:
    """The active members of a working group, optionally only those holding `positions`, in the
    order they joined."""
    if group_id is None:
        return []
    members = GroupMember.objects.filter(group_id=group_id).select_related("user").order_by("id")
    if positions:
        members = members.filter(position__in=positions)
    return [m.user for m in members if m.user.is_active]


def unit_group(organization_id: int | None, kind: str) -> ResponseGroup | None:
    """The unit's (first) working group of a kind, e.g. its 领导小组."""
    if organization_id is None:
        return None
    return ResponseGroup.objects.filter(organization_id=organization_id, kind=kind).order_by("id").first()


def person_name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def people_names(users: list[Any], limit: int = 5) -> str:
    """'张三、李四 等 7 人' — names for a record or a message, kept short."""
    names = [person_name(user) for user in users]
    if len(names) <= limit:
        return "、".join(names)
    return "、".join(names[:limit]) + f" 等 {len(names)} 人"


def unit_members(organization_id: int) -> QuerySet[Membership]:
    """The unit's people with their groups, for 单位设置 (two queries whatever their number)."""
    return (
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user")
        .prefetch_related(
            Prefetch("user__group_memberships", queryset=GroupMember.objects.select_related("group").order_by("id"))
        )
        .order_by("-user__is_active", "user__username")
    )


def unit_groups(organization_id: int) -> QuerySet[ResponseGroup]:
    return (
        ResponseGroup.objects.filter(organization_id=organization_id)
        .prefetch_related(Prefetch("memberships", queryset=GroupMember.objects.select_related("user").order_by("id")))
        .order_by("kind", "name")
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entries(
    *,
    organization_id: int,
    category: str = "",
    actor: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """The unit's configuration trail, newest first, filtered as the audit page asks."""
    entries = AuditEntry.objects.filter(organization_id=organization_id).select_related("actor")
    if category:
        entries = entries.filter(action__startswith=f"{category}.")
    if actor:
        entries = entries.filter(
            Q(actor__username__icontains=actor)
            | Q(actor__first_name__icontains=actor)
            | Q(actor__last_name__icontains=actor)
        )
    if since:
        entries = entries.filter(recorded_at__gte=_day_start(since))
    if until:
        entries = entries.filter(recorded_at__lt=_day_start(until) + timedelta(days=1))
    return entries.order_by("-recorded_at", "-id")
