"""Retention (个人信息最小化): posts that no incident holds are deleted once older than their unit's
retention period; each purge of a unit is logged with its counts (PostPurge)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from monitoring.models import Mention, MonitoringSettings, PostPurge
from organizations.models import Organization

DEFAULT_RETENTION_DAYS = 180
PURGE_BATCH = 5_000


def posts_purge(now: datetime | None = None) -> int:
    """Delete, unit by unit, posts captured before the unit's cutoff that no incident holds (nor any
    evidence file); returns how many were deleted."""
    now = now or timezone.now()
    days = dict(MonitoringSettings.objects.values_list("organization_id", "retention_days"))
    total = 0
    for organization_id in Organization.objects.values_list("pk", flat=True):
        cutoff = now - timedelta(days=days.get(organization_id, DEFAULT_RETENTION_DAYS))
        stale = Mention.objects.filter(
            organization_id=organization_id, captured_at__lt=cutoff, incident__isnull=True, evidence__isnull=True
        )
        deleted = 0
        while True:
            ids = list(stale.values_list("pk", flat=True)[:PURGE_BATCH])
            if not ids:
                break
            with transaction.atomic():
                deleted += Mention.objects.filter(pk__in=ids).delete()[1].get("monitoring.Mention", 0)
        if deleted:
            PostPurge.objects.create(organization_id=organization_id, cutoff=cutoff, posts_deleted=deleted)
            total += deleted
    return total
