"""Request-wide behaviour: Chinese first, and a busy database answered as "try again", not as a fault."""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)


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
