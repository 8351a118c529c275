"""Test helpers for sign-in security: an authenticator bound the way a person binds one, the code
it shows now, and a browser session that has verified it."""

from typing import Any
from urllib.parse import urlencode

from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from opinion_ops.testing import PASSWORD, sign_in


def code_for(key_or_device: str | TOTPDevice) -> str:
    """The 6 digits an authenticator app shows now (time.time(), so time-machine moves it)."""
    if isinstance(key_or_device, TOTPDevice):
        device = key_or_device
        return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"
    return f"{totp(bytes.fromhex(key_or_device)):06d}"


def authenticator_bind(user: Any) -> tuple[TOTPDevice, list[str]]:
    """Bind an authenticator for `user` through the service, as the enrol page does; returns it
    with the recovery codes. Its first code is used up: the next one is a step (30 s) later."""
    key = services.authenticator_key_new()
    return services.second_factor_enrol(user=user, key=key, code=code_for(key))


def verify(client: Client, device: TOTPDevice, next_url: str = "/") -> Any:
    """Present the authenticator's current code on the verify page, as a browser posts the form
    (also from an APIClient, which would otherwise send JSON)."""
    device.refresh_from_db()
    body = urlencode({"code": code_for(device), "next": next_url})
    return client.post(reverse("second_factor_verify"), body, content_type="application/x-www-form-urlencoded")


def sign_in_verified(client: Client, user: Any, device: TOTPDevice, password: str = PASSWORD) -> Any:
    """Sign in and present the authenticator's current code; returns the verify page's answer."""
    assert sign_in(client, user.get_username(), password)
    response = verify(client, device)
    assert response.status_code == 302, response.content[:500]
    return response
