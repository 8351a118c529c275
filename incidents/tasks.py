"""Celery tasks of the incident domain: thin wrappers that call a service."""

import logging
import time

from celery import shared_task
from django.conf import settings

from incidents.services.deadline_clock import deadlines_sweep
from incidents.services.statistics import unit_statistics_sweep

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sweep_deadlines_task() -> int:
    """Beat runs this every second: remind, mark missed and escalate the clocks that are due, and
    those falling due before the next tick at their moment."""
    started = time.monotonic()
    result = deadlines_sweep(follow_seconds=settings.DEADLINE_SWEEP_SECONDS * 0.8)
    logger.info(
        "deadline sweep: advanced=%d failed=%d ms=%.1f busy_ms=%d",
        result["advanced"],
        result["failed"],
        (time.monotonic() - started) * 1000,
        result["busy_ms"],
    )
    return result["advanced"]


@shared_task(ignore_result=True)
def sweep_statistics_task() -> int:
    """Beat runs this every few seconds: count the dashboard statistics of the units that are due."""
    return unit_statistics_sweep()
