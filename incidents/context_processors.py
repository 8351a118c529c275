from functools import cache
from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from incidents.selectors import organization_of
from organizations.roles import ROLE_LABELS, user_organization_id, user_roles
from organizations.sections import sections_for


@cache
def _notifications_available() -> bool:
    """The notification centre lives in another app; the header shows it only once it exists."""
    if not apps.is_installed("notifications"):
        return False
    try:
        reverse("notifications:badge")
    except NoReverseMatch:
        return False
    return True


def current_unit(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user_roles(user)
    return {
        "current_unit": organization_of(user),
        "current_roles": roles,
        "current_role_labels": [ROLE_LABELS[role] for role in sorted(roles)],
        "notifications_enabled": _notifications_available(),
        # 单位设置 in the top bar, for those who may open one of its sections (no extra query).
        "unit_settings_available": bool(sections_for(user, user_organization_id(user))),
    }
