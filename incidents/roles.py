"""Who may do what: a user's roles in a unit come from the response groups they belong to."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(StrEnum):
    MONITOR = "monitor"
    ANALYST = "analyst"
    HANDLER = "handler"
    SPOKESPERSON = "spokesperson"
    LEGAL = "legal"
    SUPPORT = "support"
    LEADER = "leader"
    OFFICE = "office"


# Who may do what beyond the lifecycle transitions (those carry their permission on Incident).
# Services enforce these; pages use the same sets to decide which buttons to show.
ANY_ROLE: tuple[Role, ...] = tuple(Role)
ASSESSORS = (Role.ANALYST, Role.LEADER, Role.OFFICE)
COORDINATORS = (Role.LEADER, Role.OFFICE)  # assign groups and tasks, write the review
MEASURE_RECORDERS = (Role.HANDLER, Role.LEGAL, Role.SPOKESPERSON, Role.LEADER, Role.OFFICE)
LEADERS = (Role.LEADER,)  # escalate, sign off reports, waive deadlines, approve statements
DRAFTERS = (Role.SPOKESPERSON, Role.LEADER, Role.OFFICE, Role.HANDLER)  # draft and submit statements
PUBLISHERS = (Role.SPOKESPERSON, Role.LEADER, Role.OFFICE)  # mark approved statements published

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


def user_organization_id(user: AbstractBaseUser | AnonymousUser | None) -> int | None:
    """The id of the user's unit, or None for anonymous users and users without a unit."""
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(user, "_opinion_ops_org_id", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    from incidents.models import Membership

    org_id = Membership.objects.filter(user_id=user.pk).values_list("organization_id", flat=True).first()
    setattr(user, "_opinion_ops_org_id", org_id)  # noqa: B010
    return org_id


def user_roles(user: AbstractBaseUser | AnonymousUser | None, organization_id: int | None = None) -> frozenset[Role]:
    """The roles the user holds in their own unit; empty in any other unit."""
    own_org = user_organization_id(user)
    if own_org is None or (organization_id is not None and organization_id != own_org):
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from incidents.models import GroupMember

        kinds = GroupMember.objects.filter(user_id=user.pk, group__organization_id=own_org).values_list(  # type: ignore[union-attr,misc]
            "group__kind", flat=True
        )
        cached = frozenset(GROUP_KIND_ROLE[kind] for kind in kinds if kind in GROUP_KIND_ROLE)
        setattr(user, _CACHE_ATTR, cached)
    return cached  # type: ignore[no-any-return]


def user_has_role(user: AbstractBaseUser | AnonymousUser | None, organization_id: int | None, *roles: Role) -> bool:
    return bool(user_roles(user, organization_id) & set(roles))
