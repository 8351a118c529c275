"""Reads of units and their people that other apps share."""

from typing import Any

from organizations.models import GroupMember, ResponseGroup


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
