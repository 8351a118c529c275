"""The outbox's part of the health page: deliveries waiting too long, failing, given up."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import Delivery
from notifications.services import DISPATCH_LEASE
from opinion_ops.health import Check


def outbox_check() -> Check:
    now = timezone.now()
    counts = Delivery.objects.aggregate(
        stuck=Count("id", filter=Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now - 2 * DISPATCH_LEASE)),
        failing=Count("id", filter=Q(status=Delivery.Status.FAILED)),
        dead=Count("id", filter=Q(status=Delivery.Status.DEAD, created_at__gte=now - timedelta(days=1))),
    )
    rows = [
        {
            _("标题"): d.title,
            _("渠道"): str(d.channel),
            _("状态"): d.get_status_display(),
            _("尝试次数"): d.attempts,
            _("最近错误"): d.last_error[:200],
        }
        for d in Delivery.objects.filter(status__in=[Delivery.Status.FAILED, Delivery.Status.DEAD])
        .select_related("channel")
        .order_by("-created_at")[:10]
    ]
    summary = _("积压 %(stuck)d 条，重试中 %(failing)d 条，近一天放弃 %(dead)d 条。") % counts
    return Check("outbox", counts["stuck"] == 0 and counts["dead"] == 0, summary, rows)
