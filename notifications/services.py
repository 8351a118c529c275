"""Writing notifications and delivering them to channels.

A message is written to the database (a Notification per person, a Delivery per channel) in the
transaction of the change that caused it, under a unique idempotency key, so it exists exactly once.
Deliveries are then sent by workers: a task is queued on commit as a nudge, and the delivery sweeper
finds any row whose nudge was lost (worker killed, broker restarted) by its indexed next_attempt_at.
"""

import logging
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import apprise
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection, send_mail
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.errors import DomainError, NotPermitted
from incidents.models import Deadline, Incident, ResponseGroup
from notifications.models import Delivery, DeliveryAttempt, Notification, NotificationChannel
from notifications.selectors import channel_get_managed, channel_groups_managed_by

logger = logging.getLogger(__name__)

# A queued nudge that has not claimed its row within this time is sent again by the sweeper.
DISPATCH_LEASE = timedelta(seconds=getattr(settings, "NOTIFICATION_DISPATCH_LEASE_SECONDS", 15))
# Longer than any send can take (apprise and SMTP time out well before); then the worker is presumed lost.
SEND_LEASE = timedelta(seconds=getattr(settings, "NOTIFICATION_SEND_LEASE_SECONDS", 60))
MAX_ATTEMPTS = getattr(settings, "NOTIFICATION_MAX_ATTEMPTS", 8)
# On Redis 0 is the most urgent: the sweepers (default 0) never wait behind a backlog of sends.
DELIVERY_PRIORITY = 6
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# A test message is sent while the user waits for the page: give up quickly on a silent receiver.
TEST_SEND_TIMEOUT_SECONDS = 5
LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ - [A-Z]+ - ", re.MULTILINE)

CHAT_HOSTS: dict[str, str] = {
    NotificationChannel.Kind.WECOM: "qyapi.weixin.qq.com",
    NotificationChannel.Kind.DINGTALK: "oapi.dingtalk.com",
    NotificationChannel.Kind.FEISHU: "open.feishu.cn",
}
CHAT_EXAMPLES: dict[str, str] = {
    NotificationChannel.Kind.WECOM: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    NotificationChannel.Kind.DINGTALK: "https://oapi.dingtalk.com/robot/send?access_token=…",
    NotificationChannel.Kind.FEISHU: "https://open.feishu.cn/open-apis/bot/v2/hook/…",
}


class DeliveryFailed(Exception):
    pass


# --- channel configuration


def _chat_token(kind: str, target: str) -> str:
    """The robot's key in its official webhook address, or '' when the address is not one."""
    parts = urlsplit(target)
    query = parse_qs(parts.query)
    if kind == NotificationChannel.Kind.WECOM:
        return (query.get("key") or [""])[0]
    if kind == NotificationChannel.Kind.DINGTALK:
        return (query.get("access_token") or [""])[0]
    if kind == NotificationChannel.Kind.FEISHU and parts.path.startswith("/open-apis/bot/v2/hook/"):
        return parts.path.rsplit("/", 1)[-1]
    return ""


def channel_validate(
    *, kind: str, target: str, secret: str = "", user_id: int | None = None, group_id: int | None = None
) -> None:
    """Raise ValidationError naming the field when a channel could never deliver."""
    if (user_id is None) == (group_id is None):
        raise ValidationError({"user": _("通知渠道须属于一个用户或一个工作组（二选一）。")})
    if kind not in NotificationChannel.Kind.values:
        raise ValidationError({"kind": _("请选择通知渠道类型。")})
    target = (target or "").strip()
    if not target:
        raise ValidationError({"target": _("请填写地址。")})
    if kind == NotificationChannel.Kind.EMAIL:
        try:
            EmailValidator()(target)
        except ValidationError as exc:
            raise ValidationError({"target": _("“%(value)s”不是有效的电子邮件地址。") % {"value": target}}) from exc
        return
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"target": _("Webhook 地址须以 http:// 或 https:// 开头，并包含主机名。")})
    if kind in CHAT_HOSTS:
        if parts.hostname != CHAT_HOSTS[kind] or not _chat_token(kind, target):
            raise ValidationError(
                {"target": _("请填写机器人的完整 Webhook 地址，形如 %(example)s") % {"example": CHAT_EXAMPLES[kind]}}
            )
    if secret and kind not in (NotificationChannel.Kind.DINGTALK,):
        raise ValidationError({"secret": _("只有钉钉机器人需要加签密钥。")})


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
    """Add a channel that can deliver. With an actor (self-service), it must be the actor's own
    channel or one of a group the actor manages; without one (admin, code) no permission is checked."""
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
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=field) from exc
    return NotificationChannel.objects.create(
        kind=kind, target=target.strip(), user=user, group=group, name=name, secret=secret
    )


def channel_set_enabled(*, channel_id: int, actor: Any, enabled: bool) -> NotificationChannel:
    """Switch one of the actor's manageable channels on or off; a disabled channel gets no new deliveries."""
    channel = channel_get_managed(channel_id=channel_id, actor=actor)
    if channel.enabled != enabled:
        channel.enabled = enabled
        channel.save(update_fields=["enabled"])
    return channel


def channel_delete(*, channel_id: int, actor: Any) -> NotificationChannel:
    """Remove one of the actor's manageable channels together with its delivery log."""
    channel = channel_get_managed(channel_id=channel_id, actor=actor)
    channel.delete()
    return channel


def channel_send_test(*, channel_id: int, actor: Any) -> NotificationChannel:
    """Send a test message now, with a short timeout, to a channel the actor manages (enabled or not).
    Raises DeliveryFailed with the reason; nothing is queued or retried."""
    channel = channel_get_managed(channel_id=channel_id, actor=actor)
    try:
        channel_send(
            channel=channel,
            title=_("【测试】舆情应急处置平台通知测试"),
            body=_("这是一条测试消息。收到即说明此通知方式配置正确，无需回复。"),
            url="",
            idempotency_key=f"test:c{channel.pk}:{uuid.uuid4().hex}",
            timeout=TEST_SEND_TIMEOUT_SECONDS,
        )
    except DeliveryFailed as exc:
        # The person at the screen needs apprise's reason, not its log timestamps and levels.
        raise DeliveryFailed(LOG_PREFIX.sub("", str(exc))) from exc
    except Exception as exc:  # the user is shown why, never a server error
        logger.exception("Test message to channel %s failed unexpectedly", channel.pk)
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    return channel


def apprise_url(channel: NotificationChannel, idempotency_key: str) -> str:
    """The apprise URL for a chat or webhook channel, from the address the user pasted."""
    kind, target = channel.kind, channel.target.strip()
    if kind == NotificationChannel.Kind.WECOM:
        return f"wecombot://{quote(_chat_token(kind, target), safe='')}/"
    if kind == NotificationChannel.Kind.DINGTALK:
        token = quote(_chat_token(kind, target), safe="")
        return f"dingtalk://{quote(channel.secret, safe='')}@{token}/" if channel.secret else f"dingtalk://{token}/"
    if kind == NotificationChannel.Kind.FEISHU:
        return f"feishu://{quote(_chat_token(kind, target), safe='')}/"
    parts = urlsplit(target)
    scheme = "jsons" if parts.scheme == "https" else "json"
    query = f"{parts.query}&" if parts.query else ""
    # Receivers drop repeats by this header: a send cut short by a killed worker is retried.
    return f"{scheme}://{parts.netloc}{parts.path or '/'}?{query}+X-Idempotency-Key={quote(idempotency_key, safe='')}"


def channel_send(
    *,
    channel: NotificationChannel,
    title: str,
    body: str,
    url: str,
    idempotency_key: str,
    timeout: float | None = None,
) -> None:
    """Send one message to one channel; raise DeliveryFailed with the reason when it does not go out.
    `timeout` (seconds) bounds connecting and reading; by default the mail and apprise defaults apply."""
    text = f"{body}\n{url}".strip() if url else body
    if channel.kind == NotificationChannel.Kind.EMAIL:
        try:
            connection = get_connection(fail_silently=False, timeout=timeout) if timeout else None
            send_mail(
                title, text, settings.DEFAULT_FROM_EMAIL, [channel.target], fail_silently=False, connection=connection
            )
        except Exception as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        return
    notifier = apprise.Apprise()
    address = apprise_url(channel, idempotency_key)
    if timeout:
        address += f"{'&' if '?' in address else '?'}cto={timeout}&rto={timeout}"
    if not notifier.add(address):
        raise DeliveryFailed(_("渠道地址无效，无法发送。"))
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = notifier.notify(title=title, body=text)
        log = captured.getvalue()
    if not ok:
        raise DeliveryFailed((log.strip() or _("渠道返回失败。"))[-1000:])


# --- writing notifications


@dataclass
class Message:
    """One message to some people (their notification centre and channels) and some groups' channels."""

    key: str
    kind: str
    title: str
    body: str = ""
    url: str = ""
    recipients: Iterable[Any] = ()
    groups: Iterable[ResponseGroup] = ()
    incident: Incident | None = None
    deadline: Deadline | None = None


def notifications_send(
    *,
    key: str,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    recipients: Iterable[Any] = (),
    groups: Iterable[ResponseGroup] = (),
    incident: Incident | None = None,
    deadline: Deadline | None = None,
) -> list[int]:
    """Write the message to each recipient's notification centre and queue it on their channels
    and the groups' channels. Call inside the transaction of the change that caused it.

    Guarantees: under one `key` each person gets one notification and each channel one delivery,
    however often this is called; deliveries are nudged after commit. Returns the delivery ids.
    """
    return notifications_send_many(
        messages=[Message(key, kind, title, body, url, recipients, groups, incident, deadline)]
    )


def notifications_send_many(*, messages: list[Message]) -> list[int]:
    """notifications_send for many messages at once, in a fixed number of queries."""
    if not messages:
        return []
    now = timezone.now()
    notifications = []
    wanted: list[tuple[Message, set[int], set[int]]] = []
    for message in messages:
        users = {user.pk for user in message.recipients if user is not None}
        group_ids = {group.pk for group in message.groups if group is not None}
        wanted.append((message, users, group_ids))
        notifications += [
            Notification(
                recipient_id=user_id,
                incident=message.incident,
                deadline=message.deadline,
                kind=message.kind,
                title=message.title[:200],
                body=message.body,
                url=message.url,
                idempotency_key=f"{message.key}:u{user_id}",
            )
            for user_id in users
        ]
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    all_users = set().union(*(users for _m, users, _g in wanted))
    all_groups = set().union(*(groups for _m, _u, groups in wanted))
    channels = list(
        NotificationChannel.objects.filter(enabled=True).filter(Q(user_id__in=all_users) | Q(group_id__in=all_groups))
    )
    deliveries = [
        Delivery(
            channel=channel,
            incident=message.incident,
            kind=message.kind,
            title=message.title[:200],
            body=message.body,
            url=message.url,
            idempotency_key=f"{message.key}:c{channel.pk}",
            next_attempt_at=now + DISPATCH_LEASE,
        )
        for message, users, group_ids in wanted
        for channel in channels
        if channel.user_id in users or channel.group_id in group_ids
    ]
    if not deliveries:
        return []
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    ids = list(
        Delivery.objects.filter(
            idempotency_key__in=[d.idempotency_key for d in deliveries], status=Delivery.Status.PENDING
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: deliveries_dispatch(delivery_ids=ids))
    return ids


def deliveries_dispatch(*, delivery_ids: Iterable[int]) -> None:
    """Queue a send task per delivery. A broker that is down is not an error: the sweeper retries."""
    from notifications.tasks import deliver_notification_task

    for delivery_id in delivery_ids:
        try:
            deliver_notification_task.apply_async((delivery_id,), retry=False, priority=DELIVERY_PRIORITY)
        except Exception:
            logger.warning("Broker unavailable; delivery %s left to the sweeper", delivery_id, exc_info=True)
            return


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> str:
    """Claim the delivery (only one worker can), send it once, and record the attempt.

    Returns the delivery's status afterwards, or "skipped" when another worker has it or it is done.
    """
    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED]
    ).update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + SEND_LEASE)
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_id)
    started = time.monotonic()
    error = ""
    if not delivery.channel.enabled:
        error = _("渠道已停用。")
    else:
        try:
            channel_send(
                channel=delivery.channel,
                title=delivery.title,
                body=delivery.body,
                url=delivery.url,
                idempotency_key=delivery.idempotency_key,
            )
        except DeliveryFailed as exc:
            error = str(exc)
        except Exception as exc:  # a broken channel must never take the worker down
            logger.exception("Delivery %s failed unexpectedly", delivery_id)
            error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    finished = timezone.now()
    if not error:
        status = Delivery.Status.SENT
        changes: dict[str, Any] = {"status": status, "sent_at": finished, "next_attempt_at": None, "last_error": ""}
    elif delivery.attempts >= MAX_ATTEMPTS:
        status = Delivery.Status.DEAD
        changes = {"status": status, "next_attempt_at": None, "last_error": error[:2000]}
    else:
        status = Delivery.Status.FAILED
        changes = {
            "status": status,
            "next_attempt_at": finished + backoff(delivery.attempts),
            "last_error": error[:2000],
        }
    # Record the outcome first, in one statement, to keep the window in which a killed worker
    # leaves a sent message looking unsent (and so repeated, under the same key) as short as it can be.
    # Only the claim we hold may be finished; an admin retry in between would have changed it.
    Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.SENDING).update(**changes)
    DeliveryAttempt.objects.create(
        delivery_id=delivery_id,
        number=delivery.attempts,
        started_at=now,
        duration_ms=duration_ms,
        ok=not error,
        error=error[:2000],
    )
    return status


def deliveries_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue every delivery whose time has come: new ones whose nudge was lost, retries that are
    due, and sends whose worker died (its lease ran out). Reads only due rows, by index."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .only("pk", "status", "attempts")[:limit]
        )
        if not due:
            return 0
        lost = [d.pk for d in due if d.status == Delivery.Status.SENDING]
        if lost:
            DeliveryAttempt.objects.bulk_create(
                [
                    DeliveryAttempt(
                        delivery_id=d.pk,
                        number=d.attempts,
                        started_at=now,
                        ok=False,
                        error=_("发送中断（工作进程退出），将重试。"),
                    )
                    for d in due
                    if d.status == Delivery.Status.SENDING
                ]
            )
            Delivery.objects.filter(pk__in=lost).update(
                status=Delivery.Status.FAILED, last_error=_("发送中断（工作进程退出），将重试。")
            )
        ids = [d.pk for d in due]
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now + DISPATCH_LEASE)
        transaction.on_commit(lambda: deliveries_dispatch(delivery_ids=ids))
    return len(ids)


def deliveries_retry(*, delivery_ids: Iterable[int]) -> int:
    """An administrator sends failed or abandoned deliveries again (one more round of attempts)."""
    ids = list(delivery_ids)
    with transaction.atomic():
        count = Delivery.objects.filter(pk__in=ids, status__in=[Delivery.Status.FAILED, Delivery.Status.DEAD]).update(
            status=Delivery.Status.FAILED, attempts=0, next_attempt_at=timezone.now() + DISPATCH_LEASE
        )
        transaction.on_commit(lambda: deliveries_dispatch(delivery_ids=ids))
    return count


# --- the notification centre


def notification_mark_read(*, notification_id: int, user: Any) -> Notification:
    """Mark one of the user's own notifications read; someone else's is 'not found'."""
    try:
        notification = Notification.objects.get(pk=notification_id, recipient_id=user.pk)
    except Notification.DoesNotExist as exc:
        raise DomainError(_("通知不存在。"), code="not_found") from exc
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: Any) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=timezone.now())
