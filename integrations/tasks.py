"""Celery tasks of integrations: thin, fetch by id and call the service."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from integrations.models import IdempotencyRecord
from integrations.webhooks import webhook_deliveries_sweep, webhook_delivery_send

IDEMPOTENCY_TTL = timedelta(hours=24)


@shared_task(acks_late=True)
def send_webhook_delivery_task(delivery_id: int) -> None:
    # Retries are rows with due times (next_attempt_at), not Celery countdowns: the sweeper resends.
    webhook_delivery_send(delivery_id=delivery_id)


@shared_task
def sweep_webhook_deliveries_task() -> int:
    """Beat tick: queue sends for due deliveries and forget idempotency records older than a day."""
    IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    return len(webhook_deliveries_sweep())
