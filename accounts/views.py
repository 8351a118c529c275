"""Signing in, the second factor (verify, bind an authenticator, recovery codes) and the 账号安全 page."""

import base64
import io
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.forms import EnrolForm, SecondFactorForm, SignInForm
from accounts.middleware import SESSION_HAS_AUTHENTICATOR, second_factor_url
from accounts.selectors import (
    authenticator_of,
    recovery_codes_left,
    second_factor_needed,
    second_factor_set_up,
)
from accounts.stepup import (
    second_factor_fresh,
    second_factor_require,
    session_mark_verified,
    session_verified_at,
)
from opinion_ops.errors import DomainError, SecondFactorRequired

SESSION_PENDING_KEY = "accounts_pending_authenticator_key"
SESSION_FRESH_CODES = "accounts_fresh_recovery_codes"


def _next(request: HttpRequest, default: str | None = None) -> str:
    """The `next` page if it is on this site, else `default` (the home page)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or resolve_url(settings.LOGIN_REDIRECT_URL)


def _verified(request: HttpRequest, device: Any) -> None:
    """The person at the keyboard has just presented `device`: this session is verified from now."""
    otp_login(request, device)
    session_mark_verified(request)
    request.session.cycle_key()  # a new session key for the session that now holds more rights


class SignInView(auth_views.LoginView):
    """Password first (django-axes counts failures); then the second factor where one is set up or required."""

    template_name = "registration/login.html"
    form_class = SignInForm

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        next_url = self.get_success_url()
        if self.request.session.get(SESSION_HAS_AUTHENTICATOR):
            return redirect(second_factor_url("second_factor_verify", next_url))
        if second_factor_needed(user):
            return redirect(second_factor_url("second_factor_enrol", next_url))
        return response


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _next(request)
    if not second_factor_set_up(user):
        request.session[SESSION_HAS_AUTHENTICATOR] = False
        if second_factor_needed(user):
            return redirect(second_factor_url("second_factor_enrol", next_url))
        return redirect(next_url)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.second_factor_verify(user=user, code=form.cleaned_data["code"])
        except DomainError as error:
            form.add_error("code", str(error.message))
        else:
            _verified(request, device)
            if isinstance(device, StaticDevice):
                left = recovery_codes_left(user)
                messages.warning(
                    request,
                    _("已使用一个恢复码，还剩 %(left)s 个。请尽快在“账号安全”中重新生成恢复码或更换身份验证器。")
                    % {"left": left},
                )
            return redirect(next_url)
    context = {
        "form": form,
        "next": next_url,
        "step_up": bool(user.is_verified()),  # type: ignore[union-attr]
        "window_minutes": max(1, settings.STEP_UP_WINDOW_SECONDS // 60),
    }
    return render(request, "accounts/verify.html", context, status=400 if form.errors else 200)


def _qr_data_uri(text: str) -> str:
    """The QR code as an <img> data: URI (SVG), which a strict Content-Security-Policy allows."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False, dark="#111")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Bind an authenticator: scan the QR code (or type the key), confirm with the first code."""
    user = request.user
    next_url = _next(request, reverse("account_security"))
    replacing = second_factor_set_up(user)
    if replacing:
        second_factor_require(user)  # replacing one needs a recent second factor
    key = request.session.get(SESSION_PENDING_KEY)
    if not isinstance(key, str) or not key:
        key = services.authenticator_key_new()
        request.session[SESSION_PENDING_KEY] = key
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.second_factor_enrol(user=user, key=key, code=form.cleaned_data["code"])
        except SecondFactorRequired:
            raise
        except DomainError as error:
            form.add_error("code", str(error.message))
        else:
            request.session.pop(SESSION_PENDING_KEY, None)
            _verified(request, device)
            request.session[SESSION_HAS_AUTHENTICATOR] = True
            request.session[SESSION_FRESH_CODES] = codes
            messages.success(request, _("身份验证器已绑定，今后登录时须输入其动态验证码。"))
            return redirect(reverse("recovery_codes") + "?" + urlencode({"next": next_url}))
    preview = TOTPDevice(user=user, key=key, step=services.TOTP_STEP, digits=services.TOTP_DIGITS)
    context = {
        "form": form,
        "next": next_url,
        "replacing": replacing,
        "required": second_factor_needed(user),
        "qr": _qr_data_uri(preview.config_url),
        "secret": services.authenticator_secret_display(key),
        "issuer": settings.OTP_TOTP_ISSUER,
        "account": user.get_username(),
    }
    return render(request, "accounts/enrol.html", context, status=400 if form.errors else 200)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """GET: the codes just made, shown this once. POST: a new set (the old one stops working)."""
    if request.method == "POST":
        try:
            codes = services.recovery_codes_regenerate(actor=request.user)
        except SecondFactorRequired:
            raise
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect("account_security")
        request.session[SESSION_FRESH_CODES] = codes
        return redirect("recovery_codes")
    codes = request.session.pop(SESSION_FRESH_CODES, None)
    if not codes:
        messages.info(request, _("恢复码只在生成时显示一次。如已遗失，可以重新生成一组，原有恢复码随即作废。"))
        return redirect("account_security")
    context = {
        "codes": [services.recovery_code_display(code) for code in codes],
        "next": _next(request, reverse("account_security")),
    }
    return render(request, "accounts/recovery_codes.html", context)


@login_required
@never_cache
def account_security(request: HttpRequest) -> HttpResponse:
    user = request.user
    authenticator = authenticator_of(user)
    verified_at = session_verified_at(request.session)
    context = {
        "authenticator": authenticator,
        "required": second_factor_needed(user),
        "two_factor_required_setting": settings.TWO_FACTOR_REQUIRED,
        "codes_left": recovery_codes_left(user) if authenticator else 0,
        "verified_at": verified_at,
        "fresh": second_factor_fresh(verified_at),
        "window_minutes": max(1, settings.STEP_UP_WINDOW_SECONDS // 60),
    }
    return render(request, "accounts/security.html", context)


@login_required
@require_POST
def second_factor_remove(request: HttpRequest) -> HttpResponseBase:
    try:
        services.second_factor_remove(actor=request.user)
    except SecondFactorRequired:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        request.session[SESSION_HAS_AUTHENTICATOR] = False
        messages.success(request, _("已关闭两步验证登录，身份验证器和恢复码均已作废。"))
    return redirect("account_security")
