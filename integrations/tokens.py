"""API tokens: issuing (the secret is shown once), authenticating by hash, revoking."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.stepup import second_factor_require, user_mark_token
from integrations.models import ApiToken
from opinion_ops.api.authentication import TokenRejected
from opinion_ops.errors import DomainError
from organizations.audit import audit_record
from organizations.models import Membership, Organization
from organizations.policies import unit_require

TOKEN_PREFIX = "oo_"  # noqa: S105 — a public marker, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last_used_at at most once a minute per token
MAX_RATE_PER_MINUTE = 6000


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_issue(
    *,
    organization: Organization,
    name: str,
    user: Any,
    scope: str,
    actor: Any = None,
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token for `user` (an active member of `organization`); returns it with the only copy
    of the secret. With an actor (单位设置, the admin) it must be an administrator of that unit who
    verified a second factor recently; the issue is audited (never the secret)."""
    if actor is not None:
        unit_require("manage_tokens", actor, organization.pk)
        second_factor_require(actor)
    if scope not in ApiToken.Scope.values:
        raise DomainError(_("请选择权限范围。"), field="scope")
    if not (name or "").strip():
        raise DomainError(_("请填写对接系统名称。"), field="name")
    if len(name.strip()) > ApiToken._meta.get_field("name").max_length:  # type: ignore[operator]
        raise DomainError(_("名称过长。"), field="name")
    if user is None or not Membership.objects.filter(user_id=user.pk, organization_id=organization.pk).exists():
        raise DomainError(_("对接账号须属于本单位。"), field="user")
    if not user.is_active:
        raise DomainError(_("对接账号已停用。"), field="user")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(_("过期时间须晚于当前时间。"), field="expires_at")
    if rate_limit_per_minute is not None and not 1 <= rate_limit_per_minute <= MAX_RATE_PER_MINUTE:
        raise DomainError(
            _("每分钟请求上限须在 1 到 %(n)s 之间。") % {"n": MAX_RATE_PER_MINUTE}, field="rate_limit_per_minute"
        )
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            organization=organization,
            name=name.strip(),
            user=user,
            scope=scope,
            prefix=prefix,
            token_hash=token_hash(raw),
            expires_at=expires_at,
            rate_limit_per_minute=rate_limit_per_minute,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="token.issue",
            target=token,
            summary=_("签发接口令牌：%(name)s（%(prefix)s…，%(scope)s，以 %(user)s 的身份）")
            % {
                "name": token.name,
                "prefix": token.prefix,
                "scope": token.get_scope_display(),
                "user": user.get_full_name() or user.get_username(),
            },
            after=_token_snapshot(token),
        )
    return token, raw


def _token_snapshot(token: ApiToken) -> dict[str, Any]:
    return {
        "name": token.name,
        "prefix": token.prefix,
        "user": token.user.get_username(),
        "scope": token.scope,
        "expires_at": token.expires_at,
        "rate_limit_per_minute": token.rate_limit_per_minute,
        "revoked_at": token.revoked_at,
    }


def api_token_revoke(*, token_id: int, actor: Any = None) -> ApiToken:
    """Revoke a token at once; a revoked token is refused from the next request on."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("user").get(pk=token_id)
        if actor is not None:
            unit_require("manage_tokens", actor, token.organization_id)
        if token.revoked_at is None:
            before = _token_snapshot(token)
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                organization=token.organization_id,
                actor=actor,
                action="token.revoke",
                target=token,
                summary=_("吊销接口令牌：%(name)s（%(prefix)s…）") % {"name": token.name, "prefix": token.prefix},
                before=before,
                after=_token_snapshot(token),
            )
    return token


def api_token_authenticate(raw: str) -> ApiToken:
    """The active token for this secret, with its user loaded and scoped to the token's unit."""
    if not raw.startswith(TOKEN_PREFIX):
        raise TokenRejected(_("令牌无效。"), "token_invalid")
    token = ApiToken.objects.select_related("user", "user__membership").filter(token_hash=token_hash(raw)).first()
    if token is None:
        raise TokenRejected(_("令牌无效。"), "token_invalid")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected(_("令牌已被吊销。"), "token_revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected(_("令牌已过期。"), "token_expired")
    user = token.user
    membership = getattr(user, "membership", None)
    if not user.is_active or membership is None or membership.organization_id != token.organization_id:
        raise TokenRejected(_("令牌的对接账号已停用或不再属于本单位。"), "token_invalid")
    # Primes organizations.roles' per-request cache: the token acts only within its own unit.
    setattr(user, "_opinion_ops_org_id", token.organization_id)  # noqa: B010
    user_mark_token(user)  # a token cannot present a second factor (accounts.stepup)
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
