"""How django-axes counts failed sign-ins here (settings AXES_FAILURE_LIMIT, AXES_CLIENT_IP_CALLABLE,
AXES_LOCKOUT_CALLABLE): an account locks after LOGIN_FAILURE_LIMIT failures, a client address after
LOGIN_ADDRESS_FAILURE_LIMIT failures across accounts (offices share one address behind NAT), both for
the cool-off; the address is read behind TRUSTED_PROXY_COUNT reverse proxies."""

import ipaddress
import math
from typing import Any

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.selectors import lockout_window_start, login_failures, login_lock_lifts_at


def login_failure_limit(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """The one limit axes compares with the larger of the account's and the address's failures.

    Answering the account's limit once the account has reached it, and the (higher) address limit
    otherwise, locks an account at LOGIN_FAILURE_LIMIT and an address at LOGIN_ADDRESS_FAILURE_LIMIT."""
    account_limit = int(settings.LOGIN_FAILURE_LIMIT)
    address_limit = max(int(settings.LOGIN_ADDRESS_FAILURE_LIMIT), account_limit)
    username = get_client_username(request, credentials)
    if username:
        since = lockout_window_start(getattr(request, "axes_attempt_time", None) or timezone.now())
        if login_failures(since=since, username=username) >= account_limit:
            return account_limit
    return address_limit


def client_ip_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies the address
    the outermost one saw (each proxy appends its peer to X-Forwarded-For; what the client sent
    before that is not trusted)."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = int(settings.TRUSTED_PROXY_COUNT)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote  # did not come through every proxy: only the peer address is known
    candidate = forwarded[-proxies]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The lockout page (429) with the time left. The same page whether or not the account exists;
    it names neither the account nor the address."""
    now = timezone.now()
    account_limit = int(settings.LOGIN_FAILURE_LIMIT)
    address_limit = max(int(settings.LOGIN_ADDRESS_FAILURE_LIMIT), account_limit)
    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None)
    lifts = [
        lifts_at
        for lifts_at in (
            login_lock_lifts_at(limit=account_limit, username=username, now=now) if username else None,
            login_lock_lifts_at(limit=address_limit, ip_address=address, now=now) if address else None,
        )
        if lifts_at is not None
    ]
    cool_off = get_cool_off(request)
    seconds = (max(lifts) - now).total_seconds() if lifts else cool_off.total_seconds() if cool_off else 0
    minutes = max(1, math.ceil(seconds / 60)) if seconds > 0 else None
    return render(request, "accounts/lockout.html", {"minutes": minutes}, status=429)
