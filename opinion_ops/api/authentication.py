"""`Authorization: Bearer oo_…` for integrations, next to the browser session.

The platform knows how a bearer token is presented, not where tokens are kept: it hands the
secret to the function named by the API_TOKEN_AUTHENTICATOR setting, which returns the token
(with its `user`, `scope` and `rate_limit_per_minute`) or raises TokenRejected.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request


class TokenRejected(Exception):
    def __init__(self, message: Any, code: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code


@cache
def _authenticator() -> Callable[[str], Any]:
    return import_string(settings.API_TOKEN_AUTHENTICATOR)  # type: ignore[no-any-return]


class BearerTokenAuthentication(BaseAuthentication):
    keywords = (b"bearer", b"token")

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization 头格式应为：Bearer <令牌>。"), code="token_invalid")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("令牌无效。"), code="token_invalid") from exc
        try:
            token = _authenticator()(raw)
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def request_token(request: Request) -> Any:
    """The API token the request authenticated with, or None (a browser session)."""
    auth = request.auth
    return auth if auth is not None and hasattr(auth, "scope") else None


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "opinion_ops.api.authentication.BearerTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer oo_…"}
