"""Celery tasks of the incident domain: thin wrappers that call a service."""

import logging
import time

from celery import shared_task

from incidents.services.deadline_clock import deadlines_sweep

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sweep_deadlines_task() -> int:
    """Beat runs this every second: remind, mark missed and escalate the clocks that are due."""
    started = time.monotonic()
    count = deadlines_sweep()
    logger.info("deadline sweep: advanced=%d ms=%.1f", count, (time.monotonic() - started) * 1000)
    return count
