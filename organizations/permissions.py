"""API permissions of unit configuration, from the rules in organizations.policies."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from organizations.policies import UNIT_RULES, unit_allows
from organizations.roles import user_organization_id


def unit_rule(action: str, *, open_reads: bool = False) -> type[BasePermission]:
    """A permission class: the caller may take `action` in their own unit (reads by every member of
    the unit too when `open_reads`; the querysets keep them to the unit)."""

    class UnitRulePermission(BasePermission):
        message = UNIT_RULES[action].forbidden

        def has_permission(self, request: Request, view: Any) -> bool:
            if open_reads and request.method in SAFE_METHODS:
                return True
            return unit_allows(action, request.user, user_organization_id(request.user))

    UnitRulePermission.__name__ = f"UnitRule_{action}"
    return UnitRulePermission
