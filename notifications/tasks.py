"""Celery tasks for notifications: thin wrappers that call a service."""

import logging
import time

from celery import shared_task

from notifications.services import deliveries_sweep, delivery_attempt

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def deliver_notification_task(delivery_id: int) -> str:
    """Send one delivery; a repeat of the task finds it claimed or done and does nothing."""
    return delivery_attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def sweep_deliveries_task() -> int:
    """Beat runs this every few seconds: queue deliveries whose nudge was lost and retries that are due."""
    started = time.monotonic()
    count = deliveries_sweep()
    if count:
        logger.info("delivery sweep: queued=%d ms=%.1f", count, (time.monotonic() - started) * 1000)
    return count
