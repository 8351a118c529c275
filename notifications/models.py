"""The one outbox: the in-app notification centre, the channels people, groups and other systems
are reached on, and every delivery to a channel with its attempt log.

Everything that leaves the system is a Delivery: an e-mail, a chat-bot message, a person's JSON
webhook, or a signed webhook to another system subscribed to a unit's events. All of them are
claimed, retried with backoff and logged the same way; only the transport differs.
"""

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Deadline, Incident
from organizations.models import Organization, ResponseGroup


class Notification(models.Model):
    """One message in one user's notification centre; its key makes it appear exactly once."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE, related_name="notifications"
    )
    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    deadline = models.ForeignKey(
        Deadline, verbose_name=_("时限"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=200, unique=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_recent"),
            models.Index(fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationChannel(models.Model):
    """Where a user or a working group is reached besides the notification centre, or another system
    that subscribed to a unit's events (a signed webhook)."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        WECOM = "wecom", _("企业微信群机器人")
        DINGTALK = "dingtalk", _("钉钉群机器人")
        FEISHU = "feishu", _("飞书群机器人")
        WEBHOOK = "webhook", _("通用 Webhook（JSON）")
        SIGNED_WEBHOOK = "signed_webhook", _("系统对接 Webhook（签名）")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_channels",
    )
    group = models.ForeignKey(
        ResponseGroup,
        verbose_name=_("工作组"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_channels",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_channels",
        help_text=_("系统对接 Webhook 属于单位，接收所订阅的本单位事件。"),
    )
    kind = models.CharField(_("渠道"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    target = models.CharField(
        _("地址"),
        max_length=1000,
        help_text=_("电子邮件地址，或机器人的 Webhook 地址（须以 http:// 或 https:// 开头）。"),
    )
    secret = models.CharField(
        _("密钥"), max_length=200, blank=True, help_text=_("钉钉机器人“加签”密钥；系统对接 Webhook 的签名密钥。")
    )
    events = models.JSONField(_("订阅事件"), default=list, blank=True, help_text=_("系统对接 Webhook 订阅的事件。"))
    enabled = models.BooleanField(_("启用"), default=True)
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
        verbose_name = _("通知渠道")
        verbose_name_plural = _("通知渠道")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, group__isnull=True, organization__isnull=True)
                | models.Q(user__isnull=True, group__isnull=False, organization__isnull=True)
                | models.Q(user__isnull=True, group__isnull=True, organization__isnull=False),
                name="channel_has_one_owner",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization"],
                condition=models.Q(organization__isnull=False),
                name="channel_unit_subscriptions",
            )
        ]

    def __str__(self) -> str:
        owner = self.user if self.user_id else self.group if self.group_id else self.organization
        return f"{self.get_kind_display()} · {self.name or owner}"


class Delivery(models.Model):
    """One message to one channel: claimed by one worker at a time, retried with backoff until sent
    or given up, every try logged. `payload` is the event's data (what a signed webhook carries)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("失败待重试")
        DEAD = "dead", _("已放弃")

    channel = models.ForeignKey(
        NotificationChannel, verbose_name=_("渠道"), on_delete=models.CASCADE, related_name="deliveries"
    )
    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    payload = models.JSONField(_("事件数据"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    event_id = models.UUIDField(_("事件编号"), default=uuid.uuid4, help_text=_("接收方据此去重，重发不变。"))
    idempotency_key = models.CharField(_("幂等键"), max_length=200, unique=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    # When the row next needs attention (send, retry, or a lost worker's lease runs out); null when done.
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    last_response_status = models.PositiveIntegerField(_("最近响应码"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("渠道投递")
        verbose_name_plural = _("渠道投递")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(next_attempt_at__isnull=False),
                name="delivery_next_attempt",
            ),
            models.Index(fields=["status", "-created_at"], name="delivery_status_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.channel}"


class DeliveryAttempt(models.Model):
    """The log of every try: when, how long, and what went wrong."""

    delivery = models.ForeignKey(Delivery, verbose_name=_("投递"), on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField(_("第几次"))
    started_at = models.DateTimeField(_("开始时间"))
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    ok = models.BooleanField(_("成功"))
    error = models.TextField(_("错误"), blank=True)
    response_status = models.PositiveIntegerField(_("响应码"), null=True, blank=True)
    response_body = models.TextField(_("响应内容（截断）"), blank=True)

    class Meta:
        verbose_name = _("投递记录")
        verbose_name_plural = _("投递记录")
        ordering = ["delivery", "number", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
