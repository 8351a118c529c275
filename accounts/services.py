"""Writes about sign-in security: enrolling an authenticator, verifying a second factor, recovery
codes, switching two-factor sign-in off, an administrator's reset and unlock. Every change to what
protects an account is one transaction with its audit entry (organizations.audit)."""

import re
import time
from base64 import b32encode
from binascii import unhexlify
from datetime import datetime
from typing import Any

from axes.utils import reset as axes_reset
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.selectors import second_factor_needed, second_factor_set_up
from accounts.stepup import second_factor_require
from opinion_ops.errors import DomainError, NotPermitted
from organizations.audit import audit_record
from organizations.policies import unit_allows
from organizations.roles import user_organization_id

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery"
TOTP_DIGITS = 6
TOTP_STEP = 30
TOTP_TOLERANCE = 1  # the code before and after the current one, for a phone clock a little off

_SEPARATORS = re.compile(r"[\s\-]+")


def authenticator_key_new() -> str:
    """A new random TOTP secret (hex), kept in the session until the first code confirms it."""
    return str(random_hex(20))


def recovery_code_normalise(code: str) -> str:
    return _SEPARATORS.sub("", code or "").lower()


def _totp(key: str, *, step: int = TOTP_STEP, t0: int = 0, digits: int = TOTP_DIGITS, drift: int = 0) -> TOTP:
    totp = TOTP(unhexlify(key.encode()), step, t0, digits, drift)
    totp.time = time.time()
    return totp


def _six_digits(code: str) -> int:
    code = _SEPARATORS.sub("", code or "")
    if len(code) != TOTP_DIGITS or not code.isdigit():
        raise DomainError(_("请输入身份验证器上显示的 6 位数字。"), field="code")
    return int(code)


def _recovery_codes_replace(user: Any) -> list[str]:
    """A new set of single-use recovery codes; the previous set stops working."""
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user_id=user.pk, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _audit(*, actor: Any, user: Any, action: str, summary: str, after: dict[str, Any] | None = None) -> None:
    audit_record(
        organization=user_organization_id(user),
        actor=actor,
        action=action,
        target_type="user",
        summary=summary,
        after={"user_id": user.pk, "username": user.get_username(), **(after or {})},
    )


def second_factor_enrol(*, user: Any, key: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm a new authenticator with the first code it shows; returns it with a fresh set of
    recovery codes (shown once). Replaces any earlier authenticator and recovery codes, which needs a
    recent second factor; all or nothing, audited. The confirming code cannot be used again."""
    replacing = second_factor_set_up(user)
    if replacing:
        second_factor_require(user)
    if not key:
        raise DomainError(_("二维码已失效，请刷新页面后重新扫描。"), field="code")
    token = _six_digits(code)
    totp = _totp(key)
    if not totp.verify(token, TOTP_TOLERANCE):
        raise DomainError(_("验证码不正确。请确认手机时间准确，并输入身份验证器当前显示的 6 位数字。"), field="code")
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk).delete()
        device = TOTPDevice.objects.create(
            user_id=user.pk,
            name=AUTHENTICATOR_NAME,
            key=key,
            step=TOTP_STEP,
            digits=TOTP_DIGITS,
            tolerance=TOTP_TOLERANCE,
            drift=totp.drift,
            last_t=totp.t(),
            confirmed=True,
            last_used_at=timezone.now(),
        )
        codes = _recovery_codes_replace(user)
        _audit(
            actor=user,
            user=user,
            action="security.2fa_replace" if replacing else "security.2fa_enrol",
            summary=(
                _("%(user)s 更换了身份验证器，并生成了新的恢复码")
                if replacing
                else _("%(user)s 启用了两步验证登录（绑定身份验证器并生成恢复码）")
            )
            % {"user": user.get_username()},
        )
    return device, codes


def second_factor_verify(*, user: Any, code: str) -> Device:
    """The device that accepts `code`: a 6-digit code from the authenticator, or one of the recovery
    codes (then used up). A code already used is refused, and so are attempts too close together
    after failures (django-otp's back-off)."""
    code = (code or "").strip()
    compact = _SEPARATORS.sub("", code)
    if not compact:
        raise DomainError(_("请输入动态验证码或恢复码。"), field="code")
    locked_until: datetime | None = None
    outcome = "wrong"
    # Each verification is its own transaction: a failure is counted (throttling) even though we refuse.
    with transaction.atomic():
        if compact.isdigit() and len(compact) == TOTP_DIGITS:
            for device in TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True):
                allowed, details = device.verify_is_allowed()
                if not allowed:
                    locked_until = (details or {}).get("locked_until")
                    outcome = "throttled"
                    continue
                totp = _totp(device.key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
                if totp.verify(int(compact), device.tolerance):
                    if device.verify_token(int(compact)):
                        return device
                    outcome = "replayed"  # right code, already used (django-otp refuses t <= last_t)
                else:
                    device.throttle_increment()
        else:
            normalised = recovery_code_normalise(code)
            for static in StaticDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True):
                allowed, details = static.verify_is_allowed()
                if not allowed:
                    locked_until = (details or {}).get("locked_until")
                    outcome = "throttled"
                    continue
                if static.verify_token(normalised):
                    return static
                outcome = "wrong_recovery"
    if outcome == "throttled":
        seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1) if locked_until else 1
        raise DomainError(
            _("验证失败次数过多，请 %(seconds)s 秒后再试。") % {"seconds": seconds}, field="code", code="throttled"
        )
    if outcome == "replayed":
        raise DomainError(
            _("该动态验证码已经使用过，不能重复使用。请等待身份验证器显示下一个验证码后再输入。"),
            field="code",
            code="replayed",
        )
    if outcome == "wrong_recovery":
        raise DomainError(_("恢复码不正确或已使用过（每个恢复码只能使用一次）。"), field="code")
    raise DomainError(_("验证码不正确，请核对后重新输入。"), field="code")


def recovery_codes_regenerate(*, actor: Any) -> list[str]:
    """A new set of recovery codes for oneself (shown once); the old set stops working. Needs a
    recent second factor; audited."""
    if not second_factor_set_up(actor):
        raise DomainError(_("请先绑定身份验证器。"))
    second_factor_require(actor)
    with transaction.atomic():
        codes = _recovery_codes_replace(actor)
        _audit(
            actor=actor,
            user=actor,
            action="security.recovery_codes_regenerate",
            summary=_("%(user)s 重新生成了恢复码，原有恢复码作废") % {"user": actor.get_username()},
        )
    return codes


def second_factor_remove(*, actor: Any) -> None:
    """Switch two-factor sign-in off for oneself, where it is optional. Needs a recent second factor;
    removes the authenticator and the recovery codes together; audited."""
    if second_factor_needed(actor):
        raise NotPermitted(_("您的岗位（领导小组成员、单位管理员或系统管理员）须使用两步验证登录，不能关闭。"))
    if not second_factor_set_up(actor):
        raise DomainError(_("您尚未启用两步验证登录。"))
    second_factor_require(actor)
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=actor.pk).delete()
        StaticDevice.objects.filter(user_id=actor.pk).delete()
        _audit(
            actor=actor,
            user=actor,
            action="security.2fa_remove",
            summary=_("%(user)s 关闭了两步验证登录") % {"user": actor.get_username()},
        )


def _require_administrator_of(actor: Any, user: Any, refusal: str) -> None:
    """The one rule of 单位设置 → 人员 (organizations.policies), for the member's own unit."""
    if not unit_allows("manage_members", actor, user_organization_id(user)):
        raise NotPermitted(refusal)


def second_factor_reset(*, actor: Any, user: Any) -> None:
    """An administrator of the member's unit (or a superuser) clears a lost authenticator and its
    recovery codes; the member binds a new one at the next sign-in. Needs the administrator's recent
    second factor; audited. `actor=None` is the operator at the command line (manage.py)."""
    if actor is not None:
        _require_administrator_of(actor, user, _("只有本单位管理员可以重置成员的两步验证。"))
        second_factor_require(actor)
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user_id=user.pk).delete()[0]
        StaticDevice.objects.filter(user_id=user.pk).delete()
        _audit(
            actor=actor,
            user=user,
            action="security.2fa_reset",
            summary=_("重置了 %(user)s 的两步验证（须在下次登录时重新绑定身份验证器）") % {"user": user.get_username()},
            after={"authenticators_removed": removed},
        )


def account_unlock(*, actor: Any, user: Any) -> int:
    """An administrator of the member's unit (or a superuser) lifts the lockout of the member's
    account at once (its failed sign-ins are forgotten); returns how many attempt records were
    cleared. A lockout of a client address is not lifted: it ends with the cool-off. Audited."""
    _require_administrator_of(actor, user, _("只有本单位管理员可以解除账号锁定。"))
    with transaction.atomic():
        cleared = int(axes_reset(username=user.get_username()))
        _audit(
            actor=actor,
            user=user,
            action="security.unlock",
            summary=_("解除了 %(user)s 的登录锁定") % {"user": user.get_username()},
            after={"attempt_records_cleared": cleared},
        )
    return cleared


def recovery_code_display(code: str) -> str:
    """`abcd-efgh`: easier to read out and copy than eight letters in a row."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def authenticator_secret_display(key: str) -> str:
    """The secret in base32, in groups of four, for typing into an authenticator by hand."""
    secret = b32encode(unhexlify(key.encode())).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
