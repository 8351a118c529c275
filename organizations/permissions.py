"""API permission of unit configuration (plans, webhooks): writes are for unit administrators."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from organizations.models import Membership


class IsUnitAdmin(BasePermission):
    """Writes that configure the unit (plans, webhooks) are for unit administrators."""

    message = _("只有本单位管理员可以执行此操作。")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return bool(
            user.is_superuser or Membership.objects.filter(user_id=user.pk, is_unit_admin=True).exists()  # type: ignore[misc]
        )
