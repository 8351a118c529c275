"""Reads about sign-in security: who must sign in with a second factor, what a person has set up,
which accounts are locked out after repeated failures."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Sum
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations.models import GroupMember, Membership, ResponseGroup
from organizations.roles import Role, user_organization_id, user_roles


def second_factor_needed(user: Any) -> bool:
    """Whether `user` must sign in with a second factor: superusers, unit administrators and leaders
    (领导小组) of their unit, while TWO_FACTOR_REQUIRED is on. Everyone else may choose to."""
    if not settings.TWO_FACTOR_REQUIRED or user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    organization_id = user_organization_id(user)
    if organization_id is None:
        return False
    if Role.LEADER in user_roles(user, organization_id):
        return True
    return Membership.objects.filter(user_id=user.pk, is_unit_admin=True).exists()


def second_factor_set_up(user: Any) -> bool:
    """Whether `user` has a confirmed authenticator (a TOTP device): sign-in then asks for it."""
    if user is None or not user.is_authenticated:
        return False
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def authenticator_of(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("-id").first()


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count()


def recovery_codes_device_of(user: Any) -> StaticDevice | None:
    return StaticDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("-id").first()


def login_failures(*, since: datetime, username: str | None = None, ip_address: str | None = None) -> int:
    """Failed sign-ins recorded by django-axes since `since`, for one account or one client address."""
    attempts = AccessAttempt.objects.filter(attempt_time__gte=since)
    if username is not None:
        attempts = attempts.filter(username=username)
    if ip_address is not None:
        attempts = attempts.filter(ip_address=ip_address)
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


def login_cool_off() -> timedelta:
    cool_off = get_cool_off()
    if cool_off is None:
        raise ImproperlyConfigured("AXES_COOLOFF_TIME must be set: a lockout without a cool-off never ends")
    return cool_off


def lockout_window_start(now: datetime | None = None) -> datetime:
    """Failures before this moment no longer count (the cool-off has passed since)."""
    return (now or timezone.now()) - login_cool_off()


def login_lock_lifts_at(
    *, limit: int, username: str | None = None, ip_address: str | None = None, now: datetime | None = None
) -> datetime | None:
    """When the account's (or the address's) lock lifts, or None if it is not locked now: when the
    failures still within the cool-off drop below `limit` (each attempt record counts from its last failure)."""
    now = now or timezone.now()
    cool_off = login_cool_off()
    attempts = AccessAttempt.objects.filter(attempt_time__gte=now - cool_off)
    if username is not None:
        attempts = attempts.filter(username=username)
    if ip_address is not None:
        attempts = attempts.filter(ip_address=ip_address)
    total = 0
    for attempt_time, failures in attempts.order_by("-attempt_time").values_list(
        "attempt_time", "failures_since_start"
    ):
        total += failures
        if total >= limit:
            return attempt_time + cool_off  # type: ignore[no-any-return]
    return None


def usernames_locked(usernames: Iterable[str]) -> set[str]:
    """The accounts among `usernames` locked out now (LOGIN_FAILURE_LIMIT failures within the
    cool-off), in one query; a lock on a client address is not an account's lock and is not listed."""
    names = [name for name in usernames if name]
    if not names:
        return set()
    rows = (
        AccessAttempt.objects.filter(username__in=names, attempt_time__gte=lockout_window_start())
        .values("username")
        .annotate(total=Sum("failures_since_start"))
        .filter(total__gte=settings.LOGIN_FAILURE_LIMIT)
        .values_list("username", flat=True)
    )
    return set(rows)


def member_sign_in_states(users: list[Any]) -> dict[int, dict[str, bool]]:
    """For the members page of 单位设置, in three queries whatever the number of people: whether
    each person's account is locked, has an authenticator bound, and must have one."""
    ids = [user.pk for user in users]
    locked = usernames_locked(user.get_username() for user in users)
    bound = set(TOTPDevice.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True))
    required: set[int] = set()
    if settings.TWO_FACTOR_REQUIRED:
        required = set(
            GroupMember.objects.filter(user_id__in=ids, group__kind=ResponseGroup.Kind.LEADERSHIP).values_list(
                "user_id", flat=True
            )
        )
        required |= set(
            Membership.objects.filter(user_id__in=ids, is_unit_admin=True).values_list("user_id", flat=True)
        )
        required |= {user.pk for user in users if user.is_superuser}
    return {
        user.pk: {
            "locked": user.get_username() in locked,
            "bound": user.pk in bound,
            "required": user.pk in required,
        }
        for user in users
    }
