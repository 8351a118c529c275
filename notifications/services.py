"""The outbox: writing messages and delivering them.

A message is written in the transaction of the change that caused it, under a unique key: a row in
each recipient's notification centre, and a Delivery for each channel that should carry it — the
recipients' own channels, their groups' channels, and the unit's signed webhooks subscribed to the
event. So it exists exactly once, or not at all if the change rolls back.

Deliveries of every kind are then sent the same way: a task is queued on commit as a nudge; the
delivery sweeper finds any row whose nudge was lost (broker down, worker killed) by its indexed
`next_attempt_at`; a conditional update lets exactly one worker claim a send; failures are retried
with backoff and every try is logged. Only notifications.transports differs per kind.
"""

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import Delivery, DeliveryAttempt, Notification, NotificationChannel
from notifications.transports import DeliveryFailed, Outgoing, transport_send
from opinion_ops.errors import DomainError

logger = logging.getLogger(__name__)

# A queued nudge that has not claimed its row within this time is sent again by the sweeper.
DISPATCH_LEASE = timedelta(seconds=getattr(settings, "NOTIFICATION_DISPATCH_LEASE_SECONDS", 15))
# Longer than any send can take (apprise, SMTP and webhooks time out well before); then the worker is presumed lost.
SEND_LEASE = timedelta(seconds=getattr(settings, "NOTIFICATION_SEND_LEASE_SECONDS", 60))
MAX_ATTEMPTS = getattr(settings, "NOTIFICATION_MAX_ATTEMPTS", 8)
# On Redis 0 is the most urgent: the sweepers (default 0) never wait behind a backlog of sends.
DELIVERY_PRIORITY = 6
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
DELIVER_TASK = "notifications.tasks.deliver_notification_task"
# After the broker refused a nudge, don't try again for a while: the sweeper sends those rows.
BROKER_PAUSE_SECONDS = 15.0


def _pk(value: Any) -> int | None:
    if value is None:
        return None
    return value if isinstance(value, int) else value.pk


@dataclass
class Message:
    """One message: to some people (their notification centre and channels), some groups' channels,
    and — when it carries an event `payload` — the unit's systems subscribed to the event `kind`."""

    key: str
    kind: str
    title: str = ""
    body: str = ""
    url: str = ""
    recipients: Iterable[Any] = ()
    groups: Iterable[Any] = ()
    incident: Any = None
    deadline: Any = None
    organization_id: int | None = None
    payload: dict[str, Any] | None = None
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


def notifications_send(
    *,
    key: str,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    recipients: Iterable[Any] = (),
    groups: Iterable[Any] = (),
    incident: Any = None,
    deadline: Any = None,
) -> list[int]:
    """Write one message to people and groups (see notifications_send_many)."""
    return notifications_send_many(
        messages=[Message(key, kind, title, body, url, recipients, groups, incident, deadline)]
    )


def notifications_send_many(*, messages: list[Message]) -> list[int]:
    """Write messages to the outbox, in a fixed number of queries. Call inside the transaction of
    the change that caused them.

    Guarantees: under one key each person gets one notification and each channel one delivery,
    however often this is called; deliveries are nudged after commit. Returns the delivery ids.
    """
    if not messages:
        return []
    now = timezone.now()
    notifications = []
    wanted: list[tuple[Message, set[int], set[int]]] = []
    for message in messages:
        users = {pk for pk in (_pk(user) for user in message.recipients) if pk is not None}
        group_ids = {pk for pk in (_pk(group) for group in message.groups) if pk is not None}
        wanted.append((message, users, group_ids))
        notifications += [
            Notification(
                recipient_id=user_id,
                incident_id=_pk(message.incident),
                deadline_id=_pk(message.deadline),
                kind=message.kind,
                title=message.title[:200],
                body=message.body,
                url=message.url,
                idempotency_key=f"{message.key}:u{user_id}",
            )
            for user_id in users
        ]
    if notifications:
        Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    all_users = set().union(*(users for _m, users, _g in wanted))
    all_groups = set().union(*(groups for _m, _u, groups in wanted))
    units = {m.organization_id for m in messages if m.payload is not None and m.organization_id is not None}
    reach = Q(user_id__in=all_users) | Q(group_id__in=all_groups)
    if units:
        reach |= Q(organization_id__in=units, kind=NotificationChannel.Kind.SIGNED_WEBHOOK)
    channels = (
        list(NotificationChannel.objects.filter(enabled=True).filter(reach))
        if (all_users or all_groups or units)
        else []
    )
    deliveries = [
        Delivery(
            channel=channel,
            incident_id=_pk(message.incident),
            kind=message.kind,
            title=message.title[:200],
            body=message.body,
            url=message.url,
            payload=message.payload or {},
            event_id=message.event_id,
            idempotency_key=f"{message.key}:c{channel.pk}",
            next_attempt_at=now + DISPATCH_LEASE,
        )
        for message, users, group_ids in wanted
        for channel in channels
        if channel.user_id in users
        or channel.group_id in group_ids
        or (
            message.payload is not None
            and channel.organization_id is not None
            and channel.organization_id == message.organization_id
            and message.kind in channel.events
        )
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


_broker_paused_until = 0.0


def deliveries_dispatch(*, delivery_ids: Iterable[int]) -> None:
    """Queue a send task per delivery. A broker that is down is not an error: the rows are due in the
    database and the sweeper sends them; we stop trying for a few seconds and log one line."""
    global _broker_paused_until
    if time.monotonic() < _broker_paused_until:
        return
    for delivery_id in delivery_ids:
        try:
            # By name: the tasks module calls this one, not the other way round.
            current_app.send_task(DELIVER_TASK, args=(delivery_id,), retry=False, priority=DELIVERY_PRIORITY)
        except Exception as exc:
            _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
            logger.warning("Broker unavailable (%s); deliveries left to the sweeper", exc)
            return


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def _outgoing(delivery: Delivery) -> Outgoing:
    return Outgoing(
        title=delivery.title,
        body=delivery.body,
        url=delivery.url,
        idempotency_key=delivery.idempotency_key,
        kind=delivery.kind,
        event_id=str(delivery.event_id),
        payload=delivery.payload,
        created_at=delivery.created_at.isoformat(),
    )


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
    response_status: int | None = None
    response_body = ""
    if not delivery.channel.enabled:
        error = _("渠道已停用。")
    else:
        try:
            sent = transport_send(channel=delivery.channel, message=_outgoing(delivery))
            response_status, response_body = sent.response_status, sent.response_body
        except DeliveryFailed as exc:
            error = str(exc)
            response_status, response_body = exc.response_status, exc.response_body
        except Exception as exc:  # a broken channel must never take the worker down
            logger.exception("Delivery %s failed unexpectedly", delivery_id)
            error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    finished = timezone.now()
    changes: dict[str, Any] = {"last_response_status": response_status}
    if not error:
        status = Delivery.Status.SENT
        changes.update(status=status, sent_at=finished, next_attempt_at=None, last_error="")
    elif delivery.attempts >= MAX_ATTEMPTS or not delivery.channel.enabled:
        status = Delivery.Status.DEAD
        changes.update(status=status, next_attempt_at=None, last_error=error[:2000])
    else:
        status = Delivery.Status.FAILED
        changes.update(status=status, next_attempt_at=finished + backoff(delivery.attempts), last_error=error[:2000])
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
        response_status=response_status,
        response_body=response_body[:2000],
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
        lost = [d for d in due if d.status == Delivery.Status.SENDING]
        if lost:
            interrupted = _("发送中断（工作进程退出），将重试。")
            DeliveryAttempt.objects.bulk_create(
                [
                    DeliveryAttempt(delivery_id=d.pk, number=d.attempts, started_at=now, ok=False, error=interrupted)
                    for d in lost
                ]
            )
            Delivery.objects.filter(pk__in=[d.pk for d in lost]).update(
                status=Delivery.Status.FAILED, last_error=interrupted
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
