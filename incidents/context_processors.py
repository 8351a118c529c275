from typing import Any

from django.http import HttpRequest

from incidents.roles import ROLE_LABELS, user_roles
from incidents.selectors import organization_of


def current_unit(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user_roles(user)
    return {
        "current_unit": organization_of(user),
        "current_roles": roles,
        "current_role_labels": [ROLE_LABELS[role] for role in sorted(roles)],
    }
