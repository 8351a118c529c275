"""A fresh second factor for sensitive actions (approve a statement, sign a report, decide on a
clock, activate a plan, issue a token).

The service that performs the action calls `second_factor_require(actor)`. Who is asking decides:
- a person in the browser (accounts.middleware marks `request.user` with when this session last
  verified a second factor): refused when that is older than STEP_UP_WINDOW_SECONDS and the person
  has an authenticator or must have one; the page sends them to verify and back;
- an integration with an API token (integrations.tokens marks the token's user): a token cannot
  present a second factor, so refused when the token's user must sign in with one;
- no request at all (a Celery worker, a management command, a service called in a test): allowed.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opinion_ops.errors import SecondFactorRequired

SESSION_VERIFIED_AT = "accounts_second_factor_at"  # epoch seconds of the last verification in this session
_SESSION_ATTR = "_accounts_session_factor"
_TOKEN_ATTR = "_accounts_by_token"  # noqa: S105 — an attribute name, not a secret

STALE_MESSAGE = _("此操作须重新验证身份：请输入身份验证器上的动态验证码，验证后重新提交刚才的操作。")
TOKEN_MESSAGE = _("此操作须由本人在浏览器中登录并完成两步验证后办理，不能通过接口令牌进行。")


@dataclass(frozen=True)
class SessionFactor:
    """What the browser session knows about the second factor: when it was last verified (or None)."""

    verified_at: datetime | None


def session_verified_at(session: SessionBase) -> datetime | None:
    value = session.get(SESSION_VERIFIED_AT)
    if not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, tz=UTC)


def session_mark_verified(request: Any) -> None:
    """Record that the person at the keyboard has just presented a second factor."""
    now = timezone.now()
    request.session[SESSION_VERIFIED_AT] = now.timestamp()
    user_mark_session(request.user, now)


def user_mark_session(user: Any, verified_at: datetime | None) -> None:
    """Mark `user` as acting through a browser session that last verified at `verified_at`."""
    setattr(user, _SESSION_ATTR, SessionFactor(verified_at))


def user_mark_token(user: Any) -> None:
    """Mark `user` as acting through an API token (integrations.tokens)."""
    setattr(user, _TOKEN_ATTR, True)


def second_factor_fresh(verified_at: datetime | None) -> bool:
    if verified_at is None:
        return False
    age = (timezone.now() - verified_at).total_seconds()
    return -60 <= age <= settings.STEP_UP_WINDOW_SECONDS  # a minute of clock skew between web processes


def second_factor_require(actor: Any) -> None:
    """Raise SecondFactorRequired unless `actor` verified a second factor recently enough."""
    from accounts.selectors import second_factor_needed, second_factor_set_up

    if actor is None or not getattr(actor, "is_authenticated", False):
        return
    if getattr(actor, _TOKEN_ATTR, False):
        if second_factor_needed(actor):
            raise SecondFactorRequired(TOKEN_MESSAGE)
        return
    state = getattr(actor, _SESSION_ATTR, None)
    if not isinstance(state, SessionFactor):
        return  # no request: a worker, a management command, a service called directly
    if second_factor_fresh(state.verified_at):
        return
    if second_factor_needed(actor) or second_factor_set_up(actor):
        raise SecondFactorRequired(STALE_MESSAGE)
