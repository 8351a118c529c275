"""Celery tasks of monitoring: thin wrappers that call a service. They run on queues of their own
(feeds, matching; settings.CELERY_TASK_ROUTES), so a flood of posts never delays a clock."""

import logging

from celery import shared_task

from monitoring.alerts import posts_match, posts_match_due
from monitoring.polling import feed_poll, feeds_claim_due
from monitoring.retention import posts_purge

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def match_posts_task(post_ids: list[int]) -> dict[str, int]:
    """Segment and match posts just ingested; a repeat finds them matched and does nothing."""
    return posts_match(post_ids)


@shared_task(ignore_result=True)
def sweep_matching_task() -> int:
    """Beat: match posts whose queued task was lost."""
    return posts_match_due()


@shared_task(ignore_result=True)
def poll_feed_task(source_id: int) -> dict[str, int | str]:
    return feed_poll(source_id)


@shared_task(ignore_result=True)
def sweep_feeds_task() -> int:
    """Beat: queue a fetch for each feed that is due."""
    due = feeds_claim_due()
    for source_id in due:
        poll_feed_task.apply_async(args=[source_id])
    return len(due)


@shared_task(ignore_result=True)
def purge_posts_task() -> int:
    """Beat (hourly): delete posts past their unit's retention period that no incident holds."""
    return posts_purge()
