"""Two-factor sign-in, enforced on every request; and the way back from a step-up.

A signed-in person who must use a second factor (accounts.selectors.second_factor_needed), or who
has set one up, and has not presented it in this session is sent to verify it (or to bind an
authenticator first) from every page but signing in and out, the two-factor pages, the language
switch, static files and /healthz. Session calls to the API get 403 `second_factor_required`; calls
with an API token are left to the token (accounts.stepup decides what a token may do).

It also marks `request.user` with when this session last verified a second factor, for
accounts.stepup; and a SecondFactorRequired raised by a service behind a page sends the person to
verify and back to the page they acted on (htmx: HX-Redirect).
"""

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.selectors import second_factor_needed, second_factor_set_up
from accounts.stepup import session_verified_at, user_mark_session
from opinion_ops.api.errors import error_body
from opinion_ops.errors import SecondFactorRequired

SESSION_HAS_AUTHENTICATOR = "accounts_has_authenticator"  # set at sign-in (accounts.signals)
API_PREFIX = "/api/"
TOKEN_KEYWORDS = (b"bearer", b"token")  # as opinion_ops.api.authentication.BearerTokenAuthentication

OPEN_URL_NAMES = ("login", "logout", "second_factor_verify", "second_factor_enrol", "recovery_codes", "set_language")


def _open_prefixes() -> tuple[str, ...]:
    """Paths a person who still owes a second factor may open."""
    static = "/" + settings.STATIC_URL.lstrip("/")
    return (*(reverse(name) for name in OPEN_URL_NAMES), "/admin/login/", "/healthz", static)


def _by_token(request: HttpRequest) -> bool:
    parts = request.META.get("HTTP_AUTHORIZATION", "").encode("latin-1", "ignore").split()
    return bool(parts) and parts[0].lower() in TOKEN_KEYWORDS


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if _is_htmx(request):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _same_site_path(request: HttpRequest, url: str) -> str | None:
    if not url or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def acted_on_page(request: HttpRequest) -> str:
    """Where to come back to after verifying: the page in the address bar (htmx says which), the
    page itself for a GET, the page the form was on (its Referer, this site only) for a POST."""
    if _is_htmx(request):
        page = _same_site_path(request, request.headers.get("HX-Current-URL", ""))
        if page:
            return page
    if request.method in ("GET", "HEAD") and not _is_htmx(request):
        return request.get_full_path()
    return _same_site_path(request, request.META.get("HTTP_REFERER", "")) or resolve_url(settings.LOGIN_REDIRECT_URL)


def second_factor_url(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path == "/healthz" or path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return self.get_response(request)
        user = request.user
        if user.is_authenticated:
            user_mark_session(user, session_verified_at(request.session))
            refusal = self._owed(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _owed(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to a person who still owes a second factor, or None to go on."""
        user = request.user
        if user.is_verified():  # type: ignore[union-attr]  # django_otp.middleware.OTPMiddleware
            return None
        if self._open is None:
            self._open = _open_prefixes()
        path = request.path_info
        if path.startswith(self._open) or (path.startswith(API_PREFIX) and _by_token(request)):
            return None
        flagged = bool(request.session.get(SESSION_HAS_AUTHENTICATOR))
        if not flagged and not second_factor_needed(user):
            return None
        has_authenticator = second_factor_set_up(user)  # it may have been reset since sign-in
        if not has_authenticator and not second_factor_needed(user):
            request.session[SESSION_HAS_AUTHENTICATOR] = False
            return None
        if path.startswith(API_PREFIX):
            message = _("须先完成两步验证：请在浏览器中输入身份验证器上的动态验证码后重试。")
            return JsonResponse(error_body("second_factor_required", message), status=403)
        if _is_htmx(request) and (urlsplit(request.headers.get("HX-Current-URL", "")).path or "/").startswith(
            self._open
        ):
            # A fragment the page being shown asks for (the header's notification badge) while the
            # person is on the verify or bind page itself: nothing to show, and no redirect, which
            # would reload that page again and again.
            return HttpResponse(status=204)
        page = "second_factor_verify" if has_authenticator else "second_factor_enrol"
        return _redirect(request, second_factor_url(page, acted_on_page(request)))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A service behind a page asked for a fresh second factor: verify, then come back."""
        if not isinstance(exception, SecondFactorRequired):
            return None
        if request.path_info.startswith(API_PREFIX):
            return JsonResponse(error_body(exception.code, str(exception.message)), status=exception.status_code)
        messages.warning(request, str(exception.message))
        return _redirect(request, second_factor_url("second_factor_verify", acted_on_page(request)))
