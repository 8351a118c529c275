"""Integrations: the API tokens other systems of a unit call the REST API with. (Webhooks to other
systems are channels of the one outbox, in the notifications app.)"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization


class ApiToken(models.Model):
    """A credential an administrator issues to one integration of one unit.

    The token acts as its linked integration user: that user's roles decide which operations
    succeed, and `scope` narrows it further. Only a SHA-256 hash of the secret is stored.
    """

    class Scope(models.TextChoices):
        READ = "read", _("只读")
        WRITE = "write", _("读写")
        INGEST = "ingest", _("仅录入（登记舆情、录入信息）")

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(_("对接系统名称"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("对接账号"),
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text=_("令牌以该账号的身份和工作组角色操作；账号须属于本单位。"),
    )
    scope = models.CharField(_("权限范围"), max_length=10, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(_("令牌前缀"), max_length=12, unique=True, editable=False)
    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True, editable=False)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("每分钟请求上限"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("留空使用系统默认值。"),
    )
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())
