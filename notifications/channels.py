"""Configuring channels: a person's own, a working group's (managed by its heads and the unit's
leaders), and a unit's signed webhooks for other systems (managed by the unit's administrators)."""

import logging
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import services
from notifications.models import Delivery, NotificationChannel
from notifications.routing import WEBHOOK_EVENTS
from notifications.selectors import channel_get_managed, channel_groups_managed_by
from notifications.transports import CHAT_EXAMPLES, CHAT_HOSTS, DeliveryFailed, Outgoing, chat_token, transport_send
from opinion_ops.errors import DomainError, NotPermitted
from opinion_ops.links_policy import http_url_check, outbound_check
from organizations.audit import audit_record, changed
from organizations.models import Membership, Organization, ResponseGroup
from organizations.policies import unit_require

logger = logging.getLogger(__name__)

# A test message is sent while the user waits for the page: give up quickly on a silent receiver.
TEST_SEND_TIMEOUT_SECONDS = 5
SIGNED = NotificationChannel.Kind.SIGNED_WEBHOOK
CHANNEL_SNAPSHOT = ("kind", "name", "target", "enabled", "events")


def channel_unit_id(channel: NotificationChannel) -> int | None:
    """The unit whose audit trail records changes to this channel."""
    if channel.organization_id is not None:
        return channel.organization_id
    if channel.group is not None:
        return channel.group.organization_id
    return Membership.objects.filter(user_id=channel.user_id or 0).values_list("organization_id", flat=True).first()


def _channel_snapshot(channel: NotificationChannel) -> dict[str, Any]:
    # The signing secret and a robot's key are never written to the trail: only whether one is set.
    values = {name: getattr(channel, name) for name in CHANNEL_SNAPSHOT}
    values["secret_set"] = bool(channel.secret)
    if channel.kind in CHAT_HOSTS:
        values["target"] = redacted_target(channel.kind, channel.target)
    return values


def redacted_target(kind: str, target: str) -> str:
    """A robot address without its key (the key alone lets anyone post to the group)."""
    token = chat_token(kind, target)
    return target.replace(token, token[:4] + "…") if token else target


def _channel_owner_label(channel: NotificationChannel) -> str:
    if channel.group is not None:
        return channel.group.name
    if channel.organization_id is not None:
        return _("系统对接")
    user = channel.user
    return user.get_full_name() or user.get_username() if user is not None else ""


def _audit_channel(
    channel: NotificationChannel, actor: Any, verb: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> None:
    signed = channel.kind == SIGNED
    category = "webhook" if signed else "channel"
    audit_record(
        organization=channel_unit_id(channel),
        actor=actor,
        action=f"{category}.{verb}",
        target=channel,
        target_type="notificationchannel",
        summary=_("%(what)s%(verb)s：%(owner)s · %(name)s")
        % {
            "what": _("系统对接 Webhook") if signed else _("通知方式"),
            "verb": {"create": _("新增"), "update": _("修改"), "delete": _("删除"), "resend": _("重新发送")}[verb],
            "owner": _channel_owner_label(channel),
            "name": channel.name or channel.get_kind_display(),
        },
        before=before,
        after=after,
    )


def channel_validate(
    *,
    kind: str,
    target: str,
    secret: str = "",
    user_id: int | None = None,
    group_id: int | None = None,
    organization_id: int | None = None,
    events: Any = None,
) -> None:
    """Raise ValidationError naming the field when a channel could never deliver."""
    owners = [owner for owner in (user_id, group_id, organization_id) if owner is not None]
    if len(owners) != 1:
        raise ValidationError({"user": _("通知渠道须属于一个用户、一个工作组或一个单位（三选一）。")})
    if kind not in NotificationChannel.Kind.values:
        raise ValidationError({"kind": _("请选择通知渠道类型。")})
    if (kind == SIGNED) != (organization_id is not None):
        raise ValidationError({"kind": _("系统对接 Webhook 属于单位；个人和工作组请选择其他渠道。")})
    target = (target or "").strip()
    if not target:
        raise ValidationError({"target": _("请填写地址。")})
    if kind == NotificationChannel.Kind.EMAIL:
        try:
            EmailValidator()(target)
        except ValidationError as exc:
            raise ValidationError({"target": _("“%(value)s”不是有效的电子邮件地址。") % {"value": target}}) from exc
        return
    try:
        http_url_check(target, field="target")
    except DomainError as exc:
        raise ValidationError({"target": _("Webhook 地址须以 http:// 或 https:// 开头，并包含主机名。")}) from exc
    parts = urlsplit(target)
    if kind in CHAT_HOSTS:
        if parts.hostname != CHAT_HOSTS[kind] or not chat_token(kind, target):
            raise ValidationError(
                {"target": _("请填写机器人的完整 Webhook 地址，形如 %(example)s") % {"example": CHAT_EXAMPLES[kind]}}
            )
    if secret and kind not in (NotificationChannel.Kind.DINGTALK, SIGNED):
        raise ValidationError({"secret": _("只有钉钉机器人需要加签密钥。")})
    if kind == SIGNED:
        names = events if isinstance(events, list) else []
        unknown = [name for name in names if name not in WEBHOOK_EVENTS]
        if unknown or not names:
            raise ValidationError(
                {"events": _("请从支持的事件中选择：%(names)s") % {"names": ", ".join(WEBHOOK_EVENTS)}}
            )
    if kind not in CHAT_HOSTS:
        # An address someone typed: it must not lead into this machine or the intranet (checked
        # again at every send, where the connection is actually made).
        try:
            outbound_check(target, field="target")
        except DomainError as exc:
            raise ValidationError({"target": str(exc.message)}) from exc


def _as_domain_error(exc: ValidationError) -> DomainError:
    field, messages = next(iter(exc.message_dict.items()))
    return DomainError(messages[0], field=field)


def channel_create(
    *,
    kind: str,
    target: str,
    user: Any = None,
    group: ResponseGroup | None = None,
    name: str = "",
    secret: str = "",
    actor: Any = None,
) -> NotificationChannel:
    """Add a person's or a group's channel that can deliver. With an actor (self-service), it must be
    the actor's own channel or one of a group the actor manages; without one (admin, code) no
    permission is checked."""
    if actor is not None:
        if user is not None and user.pk != actor.pk:
            raise NotPermitted(_("只能为自己添加通知方式。"), field="user")
        if group is not None and not channel_groups_managed_by(user=actor).filter(pk=group.pk).exists():
            raise NotPermitted(
                _("您不是该工作组的组长、副组长或本单位领导小组成员，不能管理其通知方式。"), field="group"
            )
    try:
        channel_validate(
            kind=kind,
            target=target,
            secret=secret,
            user_id=user.pk if user else None,
            group_id=group.pk if group else None,
        )
    except ValidationError as exc:
        raise _as_domain_error(exc) from exc
    with transaction.atomic():
        channel = NotificationChannel.objects.create(
            kind=kind, target=target.strip(), user=user, group=group, name=name, secret=secret, created_by=actor
        )
        _audit_channel(channel, actor, "create", None, _channel_snapshot(channel))
    return channel


def channel_set_enabled(*, channel_id: int, actor: Any, enabled: bool) -> NotificationChannel:
    """Switch one of the actor's manageable channels on or off; a disabled channel gets no new deliveries."""
    with transaction.atomic():
        channel = channel_get_managed(channel_id=channel_id, actor=actor)
        if channel.enabled != enabled:
            before = _channel_snapshot(channel)
            channel.enabled = enabled
            channel.save(update_fields=["enabled"])
            _audit_channel(channel, actor, "update", before, _channel_snapshot(channel))
    return channel


def channel_delete(*, channel_id: int, actor: Any) -> NotificationChannel:
    """Remove one of the actor's manageable channels together with its delivery log."""
    with transaction.atomic():
        channel = channel_get_managed(channel_id=channel_id, actor=actor)
        before = _channel_snapshot(channel)
        _audit_channel(channel, actor, "delete", before, None)
        channel.delete()
    return channel


def channel_send_test(*, channel_id: int, actor: Any) -> NotificationChannel:
    """Send a test message now, with a short timeout, to a channel the actor manages (enabled or not).
    Raises DeliveryFailed with the reason; nothing is queued or retried."""
    channel = channel_get_managed(channel_id=channel_id, actor=actor)
    try:
        transport_send(
            channel=channel,
            message=Outgoing(
                title=_("【测试】舆情应急处置平台通知测试"),
                body=_("这是一条测试消息。收到即说明此通知方式配置正确，无需回复。"),
                url="",
                idempotency_key=f"test:c{channel.pk}:{uuid.uuid4().hex}",
            ),
            timeout=TEST_SEND_TIMEOUT_SECONDS,
        )
    except DeliveryFailed:
        raise  # the transports say why in words for people (transports.robot_failure, outbound_failure)
    except Exception as exc:  # the user is shown why, never a server error
        logger.exception("Test message to channel %s failed unexpectedly", channel.pk)
        raise DeliveryFailed(_("发送时出现意外错误，已记录日志，请联系运维人员。")) from exc
    return channel


# --- a unit's signed webhooks (系统对接)


def _require_unit_admin(actor: Any, organization_id: int) -> None:
    unit_require("manage_webhooks", actor, organization_id)


def _validated_subscription(target: str, event_names: list[str], organization_id: int) -> None:
    try:
        channel_validate(kind=SIGNED, target=target, organization_id=organization_id, events=list(event_names))
    except ValidationError as exc:
        error = _as_domain_error(exc)
        if error.field == "target":
            error.field = "target_url"
        raise error from exc


def subscription_create(
    *, organization: Organization, actor: Any, name: str, target_url: str, event_names: list[str]
) -> NotificationChannel:
    """Subscribe another system's http(s) endpoint to events of the unit; a signing secret is made."""
    _require_unit_admin(actor, organization.pk)
    if not (name or "").strip():
        raise DomainError(_("请填写名称。"), field="name")
    _validated_subscription(target_url, event_names, organization.pk)
    with transaction.atomic():
        subscription = NotificationChannel.objects.create(
            organization=organization,
            kind=SIGNED,
            name=name.strip(),
            target=target_url.strip(),
            events=sorted(set(event_names)),
            secret=secrets.token_hex(32),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        _audit_channel(subscription, actor, "create", None, _channel_snapshot(subscription))
    return subscription


def subscription_update(*, subscription_id: int, actor: Any, **changes: Any) -> NotificationChannel:
    """Change name, target, events or the active flag; `rotate_secret=True` issues a new secret."""
    with transaction.atomic():
        subscription = NotificationChannel.objects.select_for_update().get(pk=subscription_id, kind=SIGNED)
        assert subscription.organization_id is not None
        _require_unit_admin(actor, subscription.organization_id)
        before = _channel_snapshot(subscription)
        if "name" in changes:
            if not (changes["name"] or "").strip():
                raise DomainError(_("请填写名称。"), field="name")
            subscription.name = changes["name"].strip()
        target_url = changes.get("target_url", subscription.target)
        event_names = changes.get("event_names", subscription.events)
        _validated_subscription(target_url, event_names, subscription.organization_id)
        subscription.target = target_url.strip()
        subscription.events = sorted(set(event_names))
        if "is_active" in changes:
            subscription.enabled = bool(changes["is_active"])
        rotated = bool(changes.get("rotate_secret"))
        if rotated:
            subscription.secret = secrets.token_hex(32)
        subscription.save()
        after = _channel_snapshot(subscription)
        if rotated:
            after["secret_rotated"] = True
        if changed(before, after):
            _audit_channel(subscription, actor, "update", before, after)
    return subscription


def subscription_delete(*, subscription_id: int, actor: Any) -> None:
    with transaction.atomic():
        subscription = NotificationChannel.objects.select_for_update().get(pk=subscription_id, kind=SIGNED)
        assert subscription.organization_id is not None
        _require_unit_admin(actor, subscription.organization_id)
        _audit_channel(subscription, actor, "delete", _channel_snapshot(subscription), None)
        subscription.delete()


def delivery_resend(*, delivery_id: int, actor: Any) -> Delivery:
    """ "Send again" (unit administrators, for their unit's system webhooks): the same row, with the
    same event id, goes back in the queue for another round of attempts."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update(of=("self",)).select_related("channel").get(pk=delivery_id)
        owner = delivery.channel.organization_id
        if owner is None:
            raise DomainError(_("投递不存在。"), code="not_found")
        _require_unit_admin(actor, owner)
        delivery.status = Delivery.Status.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now() + services.DISPATCH_LEASE
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        _audit_channel(delivery.channel, actor, "resend", None, {"delivery": delivery.pk, "event": delivery.kind})
        transaction.on_commit(lambda: services.deliveries_dispatch(delivery_ids=[delivery.pk]))
    return delivery
