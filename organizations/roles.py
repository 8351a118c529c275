"""A user's unit and roles: the roles come from the response groups they belong to, and count only
in the user's own unit. Who may do which action with these roles is decided in incidents.policies."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from opinion_ops.db import compiled

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.models import QuerySet

    from organizations.models import GroupMember, Membership


class Role(StrEnum):
    MONITOR = "monitor"
    ANALYST = "analyst"
    HANDLER = "handler"
    SPOKESPERSON = "spokesperson"
    LEGAL = "legal"
    SUPPORT = "support"
    LEADER = "leader"
    OFFICE = "office"


ROLE_LABELS = {
    Role.MONITOR: _("舆情监测"),
    Role.ANALYST: _("舆情研判"),
    Role.HANDLER: _("舆情处置"),
    Role.SPOKESPERSON: _("信息发布"),
    Role.LEGAL: _("法律援助"),
    Role.SUPPORT: _("综合保障"),
    Role.LEADER: _("领导小组"),
    Role.OFFICE: _("领导小组办公室"),
}

GROUP_KIND_ROLE = {
    "leadership": Role.LEADER,
    "office": Role.OFFICE,
    "monitoring": Role.MONITOR,
    "analysis": Role.ANALYST,
    "handling": Role.HANDLER,
    "publicity": Role.SPOKESPERSON,
    "legal": Role.LEGAL,
    "support": Role.SUPPORT,
}

_CACHE_ATTR = "_opinion_ops_roles"


@compiled
def _memberships_first(user_id: int) -> QuerySet[Membership]:
    from organizations.models import Membership

    return Membership.objects.filter(user_id=user_id).select_related("organization").order_by("id")[:1]


@compiled
def _group_kinds(user_id: int, organization_id: int) -> QuerySet[GroupMember, str]:
    from organizations.models import GroupMember

    return GroupMember.objects.filter(user_id=user_id, group__organization_id=organization_id).values_list(
        "group__kind", flat=True
    )


def _membership_facts(user: AbstractBaseUser | AnonymousUser | None) -> tuple[int | None, bool]:
    """(unit id, is unit administrator), read once per user object."""
    if user is None or not user.is_authenticated:
        return None, False
    cached = getattr(user, "_opinion_ops_org_id", False)
    if cached is not False and hasattr(user, "_opinion_ops_unit_admin"):
        return cached, user._opinion_ops_unit_admin  # type: ignore[union-attr]
    # The unit comes along (one small join): the page header names it on every page.
    found = _memberships_first(user.pk)
    membership = found[0] if found else None
    org_id, is_admin = (membership.organization_id, membership.is_unit_admin) if membership else (None, False)
    if cached is not False:  # a token fixed the unit: keep it
        org_id = cached
    organization = membership.organization if membership and membership.organization_id == org_id else None
    setattr(user, "_opinion_ops_org_id", org_id)  # noqa: B010
    setattr(user, "_opinion_ops_unit_admin", bool(is_admin))  # noqa: B010
    setattr(user, "_opinion_ops_org", organization)  # noqa: B010
    return org_id, bool(is_admin)


def user_organization(user: AbstractBaseUser | AnonymousUser | None) -> Any:
    """The user's unit (an Organization), read with the membership; None without one."""
    org_id = _membership_facts(user)[0]
    if org_id is None:
        return None
    organization = getattr(user, "_opinion_ops_org", None)
    if organization is None or organization.pk != org_id:
        from organizations.models import Organization

        organization = Organization.objects.filter(pk=org_id).first()
        setattr(user, "_opinion_ops_org", organization)  # noqa: B010
    return organization


def user_organization_id(user: AbstractBaseUser | AnonymousUser | None) -> int | None:
    """The id of the user's unit, or None for anonymous users and users without a unit."""
    return _membership_facts(user)[0]


def user_is_unit_admin(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Whether the user administers their own unit (Membership.is_unit_admin)."""
    return _membership_facts(user)[1]


def user_roles(user: AbstractBaseUser | AnonymousUser | None, organization_id: int | None = None) -> frozenset[Role]:
    """The roles the user holds in their own unit; empty in any other unit."""
    own_org = user_organization_id(user)
    if own_org is None or (organization_id is not None and organization_id != own_org):
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        kinds = _group_kinds(user.pk, own_org)  # type: ignore[union-attr,arg-type]
        cached = frozenset(GROUP_KIND_ROLE[kind] for kind in kinds if kind in GROUP_KIND_ROLE)
        setattr(user, _CACHE_ATTR, cached)
    return cached  # type: ignore[no-any-return]


def user_has_role(user: AbstractBaseUser | AnonymousUser | None, organization_id: int | None, *roles: Role) -> bool:
    return bool(user_roles(user, organization_id) & set(roles))
