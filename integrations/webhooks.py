"""Outbound webhooks: domain events become delivery rows with due times; a beat-ticked sweeper
claims due rows and Celery sends them, signed, with retries and backoff.

Each (subscription, event id) is delivered at most once as a row (the receiver's idempotency key
is the event id in `X-OpinionOps-Delivery`); "send again" re-queues the same row.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from datetime import timedelta
from typing import Any

import requests
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents import events
from incidents.errors import DomainError, NotPermitted
from incidents.models import Incident, Membership, Organization
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription, http_url_validator

logger = logging.getLogger(__name__)

# Events an integration can subscribe to. Deadline reminders/misses and keyword alerts are published
# under these names by the deadline sweeper and monitoring; nothing here depends on who publishes.
DEADLINE_REMINDER = "deadline.reminder"
DEADLINE_MISSED = "deadline.missed"
ALERT_RAISED = "alert.raised"
WEBHOOK_EVENTS: dict[str, Any] = {
    events.INCIDENT_CREATED: gettext_lazy("登记舆情"),
    events.INCIDENT_TRANSITIONED: gettext_lazy("舆情状态变更"),
    events.INCIDENT_LEVEL_CHANGED: gettext_lazy("预警级别调整"),
    DEADLINE_REMINDER: gettext_lazy("时限到期提醒"),
    DEADLINE_MISSED: gettext_lazy("时限逾期"),
    events.STATEMENT_APPROVED: gettext_lazy("回应稿审定通过"),
    events.STATEMENT_PUBLISHED: gettext_lazy("回应已发布"),
    ALERT_RAISED: gettext_lazy("关键词预警"),
}

SIGNATURE_HEADER = "X-OpinionOps-Signature"
LEASE = timedelta(minutes=2)  # a claimed row is not picked again while its send is in flight
MAX_ATTEMPTS = 8
BACKOFF = [timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 7200, 21600)]
SEND_TIMEOUT_SECONDS = 10
SWEEP_BATCH = 100


# --- signing
def sign(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as sent in X-OpinionOps-Signature."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """What a receiver does: recompute the HMAC and refuse old timestamps (replays)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def delivery_body(delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": str(delivery.event_id),
        "type": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


# --- subscriptions
def _check_admin(actor: Any, organization_id: int) -> None:
    if getattr(actor, "is_superuser", False):
        return
    if not Membership.objects.filter(user_id=actor.pk, organization_id=organization_id, is_unit_admin=True).exists():
        raise NotPermitted(_("只有本单位管理员可以管理 Webhook 订阅。"))


def _check_subscription(target_url: str, event_names: list[str]) -> None:
    try:
        http_url_validator(target_url)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="target_url") from exc
    unknown = [name for name in event_names if name not in WEBHOOK_EVENTS]
    if unknown or not event_names:
        raise DomainError(_("请从支持的事件中选择：%(names)s") % {"names": ", ".join(WEBHOOK_EVENTS)}, field="events")


def webhook_subscription_create(
    *, organization: Organization, actor: Any, name: str, target_url: str, event_names: list[str]
) -> WebhookSubscription:
    """Subscribe an http(s) endpoint to events of the unit; a signing secret is generated."""
    _check_admin(actor, organization.pk)
    if not (name or "").strip():
        raise DomainError(_("请填写名称。"), field="name")
    _check_subscription(target_url, event_names)
    return WebhookSubscription.objects.create(
        organization=organization,
        name=name.strip(),
        target_url=target_url,
        events=sorted(set(event_names)),
        secret=secrets.token_hex(32),
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def webhook_subscription_update(*, subscription_id: int, actor: Any, **changes: Any) -> WebhookSubscription:
    """Change name, target, events or the active flag; `rotate_secret=True` issues a new secret."""
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
        _check_admin(actor, subscription.organization_id)
        if "name" in changes:
            if not (changes["name"] or "").strip():
                raise DomainError(_("请填写名称。"), field="name")
            subscription.name = changes["name"].strip()
        target_url = changes.get("target_url", subscription.target_url)
        event_names = changes.get("event_names", subscription.events)
        _check_subscription(target_url, event_names)
        subscription.target_url = target_url
        subscription.events = sorted(set(event_names))
        if "is_active" in changes:
            subscription.is_active = bool(changes["is_active"])
        if changes.get("rotate_secret"):
            subscription.secret = secrets.token_hex(32)
        subscription.save()
    return subscription


def webhook_subscription_delete(*, subscription_id: int, actor: Any) -> None:
    subscription = WebhookSubscription.objects.get(pk=subscription_id)
    _check_admin(actor, subscription.organization_id)
    subscription.delete()


# --- turning events into deliveries
def _organization_id(payload: dict[str, Any]) -> int | None:
    if payload.get("organization_id"):
        return int(payload["organization_id"])
    if payload.get("incident_id"):
        return Incident.objects.filter(pk=payload["incident_id"]).values_list("organization_id", flat=True).first()
    return None


def webhook_deliveries_create(*, event: str, payload: dict[str, Any], event_id: uuid.UUID | None = None) -> list[int]:
    """One pending delivery per active subscription of the event's unit that wants this event.

    The rows are created already leased to the immediate send; if that send never happens (broker
    down, worker lost) the sweeper picks them up when the lease ends.
    """
    if event not in WEBHOOK_EVENTS:
        return []
    organization_id = _organization_id(payload)
    if organization_id is None:
        return []
    event_id = event_id or uuid.uuid4()
    subscriptions = [
        s
        for s in WebhookSubscription.objects.filter(organization_id=organization_id, is_active=True)
        if event in s.events
    ]
    if not subscriptions:
        return []
    due = timezone.now() + LEASE
    rows = [
        WebhookDelivery(subscription=s, event_id=event_id, event=event, payload=payload, next_attempt_at=due)
        for s in subscriptions
    ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        WebhookDelivery.objects.filter(event_id=event_id, subscription__in=subscriptions).values_list("pk", flat=True)
    )


def _enqueue(delivery_ids: list[int]) -> None:
    from integrations.tasks import send_webhook_delivery_task

    for delivery_id in delivery_ids:
        try:
            send_webhook_delivery_task.delay(delivery_id)
        except Exception:  # the row stays due; the sweeper sends it
            logger.warning("Could not queue webhook delivery %s; the sweeper will send it", delivery_id, exc_info=True)


def on_domain_event(event: str, payload: dict[str, Any]) -> None:
    """Listener for incidents.events, inside the change's transaction: the delivery rows commit
    with the change (a process that dies after the commit loses none); sends start after commit."""
    ids = webhook_deliveries_create(event=event, payload=payload)
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))


def subscribe_to_domain_events() -> None:
    for name in WEBHOOK_EVENTS:
        events.subscribe(name, on_domain_event, in_transaction=True)


# --- sending
def webhook_deliveries_claim_due(*, limit: int = SWEEP_BATCH) -> list[int]:
    """Claim due pending rows (skipping rows another sweeper holds) by pushing their due time past a lease."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + LEASE)
    return ids


def webhook_deliveries_sweep(*, limit: int = SWEEP_BATCH) -> list[int]:
    """What the beat-ticked task does: claim the due rows and queue a send for each."""
    ids = webhook_deliveries_claim_due(limit=limit)
    _enqueue(ids)
    return ids


def backoff_after(attempts: int) -> timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def webhook_delivery_send(*, delivery_id: int) -> WebhookDelivery | None:
    """POST the signed event once; success ends the row, failure schedules the next try or gives up.

    Returns None when the row is no longer pending (already delivered, given up, or sent by another
    worker), so a duplicate task is harmless.
    """
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return None
    # Take the row for this attempt: only one worker wins the conditional update.
    number = delivery.attempts + 1
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
    ).update(attempts=number, last_attempt_at=timezone.now(), next_attempt_at=timezone.now() + LEASE)
    if not claimed:
        return None
    subscription = delivery.subscription
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "OpinionOps-Webhooks/1",
        "X-OpinionOps-Event": delivery.event,
        "X-OpinionOps-Delivery": str(delivery.event_id),
        SIGNATURE_HEADER: sign(subscription.secret, body, int(time.time())),
    }
    started = time.monotonic()
    status_code: int | None = None
    response_text = ""
    error = ""
    try:
        response = requests.post(
            subscription.target_url, data=body, headers=headers, timeout=SEND_TIMEOUT_SECONDS, allow_redirects=False
        )
        status_code = response.status_code
        response_text = response.text[:2000]
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
    duration_ms = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=now,
            response_status=status_code,
            response_body=response_text,
            error=error,
            duration_ms=duration_ms,
        )
        update: dict[str, Any] = {"last_response_status": status_code, "last_error": error}
        if not error:
            update.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now, next_attempt_at=None)
        elif not subscription.is_active or number >= MAX_ATTEMPTS:
            update.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
        else:
            update.update(next_attempt_at=now + backoff_after(number))
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=number).update(**update)
    delivery.refresh_from_db()
    return delivery


def webhook_delivery_resend(*, delivery_id: int, actor: Any) -> WebhookDelivery:
    """ "Send again": put a delivered or failed row back in the queue, due now (same event id)."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("subscription").get(pk=delivery_id)
        _check_admin(actor, delivery.subscription.organization_id)
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = timezone.now() + LEASE
        delivery.save(update_fields=["status", "next_attempt_at"])
        transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery
