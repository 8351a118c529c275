"""Celery tasks of analysis: thin wrappers that call a service (matched posts are analysed by the
hook in monitoring's matching task; this sweeper catches what it missed, and tells the rebounds of
incidents in 跟踪)."""

import logging

from celery import shared_task

from analysis.rebound import incidents_rebound_check
from analysis.services import posts_analyse_due

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sweep_analysis_task() -> int:
    """Beat: cluster and score matched or incident posts that were not analysed yet, then tell each
    new rebound of an incident in 跟踪 (each part contained: one failing never stops the other)."""
    done = 0
    for part in (posts_analyse_due, incidents_rebound_check):
        try:
            done += part()
        except Exception:
            logger.exception("analysis sweep: %s failed", part.__name__)
    return done
