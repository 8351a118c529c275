"""The token's scope gate, on top of the roles of the token's user that the services check."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from incidents.models import Membership
from integrations.models import ApiToken


class TokenScope(BasePermission):
    """read: safe methods only; write: everything; ingest: only the views' `ingest_actions` (creating)."""

    message = _("该令牌的权限范围不允许此操作。")
    code = "token_scope"

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        if token.scope == ApiToken.Scope.WRITE:
            return True
        if token.scope == ApiToken.Scope.READ:
            return request.method in SAFE_METHODS
        return getattr(view, "action", None) in getattr(view, "ingest_actions", ())


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
