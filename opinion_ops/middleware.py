"""Request-wide behaviour: Chinese first, a busy database answered as "try again", not as a fault,
and the Permissions-Policy header."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """`{"camera": [], "fullscreen": ["self"]}` -> `camera=(), fullscreen=(self)`."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in policy.items())


class PermissionsPolicyMiddleware:
    """Every response says which browser features (camera, microphone, geolocation, payment, USB…) this
    site may use: none of them (settings.PERMISSIONS_POLICY)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = permissions_policy_header(settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


class ChineseFirstMiddleware:
    """Ignore the browser's Accept-Language on pages, so an English-language browser or OS still
    gets the Chinese interface; the language switch (a cookie) decides. API clients keep
    Accept-Language, so integrations can ask for English error messages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class BusyMiddleware:
    """A page request that still loses a database conflict after the services' retries gets a
    clear "please try again" (503), not a server error; nothing half-done was saved."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.db import OperationalError
        from django.shortcuts import render

        from opinion_ops.db import is_transient_conflict

        if not isinstance(exception, OperationalError) or not is_transient_conflict(exception):
            return None
        logger.warning("Transaction conflict answered as 503 on %s: %s", request.path, exception)
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "1"
        return response
