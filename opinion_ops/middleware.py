"""Chinese first: pages are in Chinese unless the user chose English with the language switch."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


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
