"""Feeds polled as clocks are swept: each feed source has an indexed `next_fetch_at`; the feed
sweeper (ticked by beat) claims the due ones with SKIP LOCKED, moves their due time past a lease
and queues one fetch each on the feeds queue. A fetch reads the feed conditionally (ETag /
Last-Modified), hands the items to posts_ingest, and records the source's health: when it last
succeeded, the last error and its time, consecutive failures. After a failure the next fetch backs
off (monitoring.feeds.feed_retry_delay); a lost fetch is claimed again when its lease ends."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from monitoring.feeds import FeedItem, feed_fetch, feed_retry_delay
from monitoring.ingest import PostIn, posts_ingest
from monitoring.models import Mention, Source

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a fetch that has not finished by then is presumed lost
FETCH_TIMEOUT = 10.0


def feeds_claim_due(now: datetime | None = None, limit: int = 100) -> list[int]:
    """The feed sources due now, claimed (their due time moved past the lease)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Source.objects.select_for_update(skip_locked=True)
            .filter(kind=Source.Kind.FEED, enabled=True, next_fetch_at__lte=now)
            .order_by("next_fetch_at")
            .values_list("pk", flat=True)[:limit]
        )
        if due:
            Source.objects.filter(pk__in=due).update(next_fetch_at=now + LEASE)
    return due


def _post(item: FeedItem) -> PostIn:
    return PostIn(
        text=item.text,
        title=item.title,
        url=item.url,
        author=item.author,
        published_at=item.published_at,
        external_id=item.external_id,
    )


def feed_poll(source_id: int) -> dict[str, int | str]:
    """Fetch one feed now and ingest its items; never raises for anything the feed can do."""
    source = Source.objects.filter(pk=source_id, kind=Source.Kind.FEED).first()
    if source is None or not source.url:
        return {"status": "gone"}
    result = feed_fetch(source.url, etag=source.etag, last_modified=source.last_modified, timeout=FETCH_TIMEOUT)
    now = timezone.now()
    interval = timedelta(minutes=max(1, source.interval_minutes))
    created = duplicates = rejected = 0
    if result.status == "failed":
        failures = source.failures + 1
        Source.objects.filter(pk=source.pk).update(
            failures=failures,
            last_fetch_at=now,
            last_error=result.error[:500],
            last_error_at=now,
            next_fetch_at=now + feed_retry_delay(interval, failures),
        )
        logger.info("feed %s failed (%s): %s", source.pk, failures, result.error)
        return {"status": "failed", "error": result.error}
    if result.status == "ok":
        ingested = posts_ingest(source_id=source.pk, posts=[_post(item) for item in result.items])
        created, duplicates, rejected = len(ingested.created), ingested.duplicates, len(ingested.rejected)
    skipped = len(result.skipped) + rejected
    Source.objects.filter(pk=source.pk).update(
        failures=0,
        last_fetch_at=now,
        last_success_at=now,
        etag=result.etag,
        last_modified=result.last_modified,
        # A feed read with items it had to skip is healthy; say what was skipped.
        last_error=(f"{skipped} 条未入库：{result.skipped[0][1] if result.skipped else ''}"[:500] if skipped else ""),
        last_error_at=now if skipped else source.last_error_at,
        next_fetch_at=now + interval,
    )
    return {"status": result.status, "created": created, "duplicates": duplicates, "skipped": skipped}


def sources_items_per_day(organization_id: int, days: int = 7) -> dict[int, list[int]]:
    """Posts taken in per source and day over the last `days` days (oldest first), for the health view."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    rows = (
        Mention.objects.filter(organization_id=organization_id, captured_at__gte=start, source__isnull=False)
        .annotate(day=TruncDate("captured_at", tzinfo=timezone.get_current_timezone()))
        .values("source_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[int, list[int]] = {}
    for row in rows:
        counts.setdefault(row["source_id"], [0] * days)[(row["day"] - first).days] += row["n"]
    return counts
