"""API tokens: issuing (the secret is shown once), authenticating by hash, revoking."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import ApiToken
from opinion_ops.api.authentication import TokenRejected
from opinion_ops.errors import DomainError, NotPermitted
from organizations.models import Membership, Organization

TOKEN_PREFIX = "oo_"  # noqa: S105 — a public marker, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last_used_at at most once a minute per token


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
    """Issue a token for `user` (who must belong to `organization`); returns it with the only copy of the secret."""
    if scope not in ApiToken.Scope.values:
        raise DomainError(_("请选择权限范围。"), field="scope")
    if not (name or "").strip():
        raise DomainError(_("请填写对接系统名称。"), field="name")
    if not Membership.objects.filter(user_id=user.pk, organization_id=organization.pk).exists():
        raise DomainError(_("对接账号须属于本单位。"), field="user")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(_("过期时间须晚于当前时间。"), field="expires_at")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
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
    return token, raw


def api_token_revoke(*, token_id: int, actor: Any = None) -> ApiToken:
    """Revoke a token at once; a revoked token is refused from the next request on."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token_id)
        if actor is not None and not getattr(actor, "is_superuser", False):
            if not Membership.objects.filter(
                user_id=actor.pk, organization_id=token.organization_id, is_unit_admin=True
            ).exists():
                raise NotPermitted(_("只有本单位管理员可以吊销令牌。"))
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
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
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
