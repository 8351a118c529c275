"""Reading the notification centre: a user only ever sees their own notifications."""

from typing import Any

from django.db.models import QuerySet

from notifications.models import Notification


def notifications_for(*, user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient_id=user.pk).select_related("incident", "deadline")


def notifications_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
