"""Celery tasks of the API platform."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from opinion_ops.api.models import IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)


@shared_task(ignore_result=True)
def forget_idempotency_records_task() -> int:
    """Beat runs this hourly: a retry with the same key is replayed for a day, then forgotten."""
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    return deleted
