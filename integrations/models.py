"""Integrations: API tokens for other systems, outbound webhooks and their delivery log,
and the stored responses that make retried writes idempotent."""

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Organization

http_url_validator = URLValidator(schemes=["http", "https"], message=_("请输入以 http:// 或 https:// 开头的网址。"))


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


class WebhookSubscription(models.Model):
    """An endpoint of another system that receives signed JSON for the chosen events of one unit."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="webhook_subscriptions"
    )
    name = models.CharField(_("名称"), max_length=100)
    target_url = models.URLField(_("接收地址"), max_length=1000, validators=[http_url_validator])
    events = models.JSONField(_("订阅事件"), default=list, blank=True)
    secret = models.CharField(_("签名密钥"), max_length=64, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Webhook 订阅")
        verbose_name_plural = _("Webhook 订阅")
        ordering = ["organization", "name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one subscription; a row with a due time that the sweeper claims and sends."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("发送失败")

    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("订阅"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(_("事件编号"), default=uuid.uuid4)
    event = models.CharField(_("事件"), max_length=50)
    payload = models.JSONField(_("内容"), default=dict, encoder=DjangoJSONEncoder)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("最近发送时间"), null=True, blank=True)
    last_response_status = models.PositiveIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Webhook 投递")
        verbose_name_plural = _("Webhook 投递")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhook_delivery_once_per_event")
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription}"


class WebhookAttempt(models.Model):
    """The delivery log: every HTTP attempt with its outcome; never changed."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("投递"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField(_("第几次"))
    attempted_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    response_status = models.PositiveIntegerField(_("响应码"), null=True, blank=True)
    response_body = models.TextField(_("响应内容（截断）"), blank=True)
    error = models.TextField(_("错误"), blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("Webhook 发送记录")
        verbose_name_plural = _("Webhook 发送记录")
        ordering = ["delivery", "number", "id"]

    def __str__(self) -> str:
        return f"{self.delivery} #{self.number}"


class IdempotencyRecord(models.Model):
    """A write made with an Idempotency-Key, kept so a retry gets the same response."""

    principal = models.CharField(_("调用方"), max_length=40)
    key = models.CharField(_("幂等键"), max_length=255)
    request_fingerprint = models.CharField(_("请求指纹"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)
    response_body = models.JSONField(_("响应内容"), null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_once")]

    def __str__(self) -> str:
        return f"{self.principal} · {self.key}"
