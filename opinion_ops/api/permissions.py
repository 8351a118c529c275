"""The token's scope gate, on top of the rules (incidents.policies) the services apply to its user."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from opinion_ops.api.authentication import request_token

SCOPE_READ, SCOPE_WRITE, SCOPE_INGEST = "read", "write", "ingest"


class TokenScope(BasePermission):
    """read: safe methods only; write: everything; ingest: only the views' `ingest_actions` (creating)."""

    message = _("该令牌的权限范围不允许此操作。")
    code = "token_scope"

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request_token(request)
        if token is None or token.scope == SCOPE_WRITE:
            return True
        if token.scope == SCOPE_READ:
            return request.method in SAFE_METHODS
        return getattr(view, "action", None) in getattr(view, "ingest_actions", ())
