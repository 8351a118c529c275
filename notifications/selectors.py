"""Reading the notification centre and channels: a user only ever sees their own notifications, and
only the channels they may manage."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from notifications.models import Notification, NotificationChannel
from opinion_ops.errors import DomainError
from organizations.models import GroupMember, ResponseGroup
from organizations.roles import Role, user_has_role, user_is_unit_admin, user_organization_id


def notifications_for(*, user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient_id=user.pk).select_related(
        "incident",
        "deadline",
        "deadline__incident",
        "deadline__incident__organization",
        "deadline__incident__plan",
        "deadline__acknowledged_by",
        "deadline__owner",
        "deadline__owner_group",
    )


def notifications_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def channel_groups_managed_by(*, user: Any) -> QuerySet[ResponseGroup]:
    """The working groups whose channels the user may manage: every group of their own unit for a
    leader (领导小组) or the unit's administrator, otherwise the groups they head or deputy-head.
    Never another unit's groups."""
    org_id = user_organization_id(user)
    if org_id is None:
        return ResponseGroup.objects.none()
    groups = ResponseGroup.objects.filter(organization_id=org_id)
    if user_has_role(user, org_id, Role.LEADER) or user_is_unit_admin(user):
        return groups
    return groups.filter(
        pk__in=GroupMember.objects.filter(
            user_id=user.pk, position__in=[GroupMember.Position.HEAD, GroupMember.Position.DEPUTY]
        ).values("group_id")
    )


def channels_managed_by(*, user: Any) -> tuple[QuerySet[NotificationChannel], QuerySet[ResponseGroup]]:
    """The user's own channels, and the groups they manage with each group's channels prefetched."""
    own = NotificationChannel.objects.filter(user_id=user.pk)
    # In the order the unit's groups were set up: 领导小组 first, as in the plan.
    groups = channel_groups_managed_by(user=user).order_by("pk").prefetch_related("notification_channels")
    return own, groups


def channel_get_managed(*, channel_id: int, actor: Any) -> NotificationChannel:
    """The channel if the actor may manage it; anyone else's is 'not found', not 'forbidden'."""
    manageable = Q(user_id=actor.pk) | Q(group__in=channel_groups_managed_by(user=actor))
    try:
        return NotificationChannel.objects.select_related("group").get(manageable, pk=channel_id)
    except NotificationChannel.DoesNotExist as exc:
        raise DomainError(_("通知方式不存在。"), code="not_found") from exc
