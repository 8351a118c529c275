"""The clocks' part of the health page: is the sweeper keeping up, and which clocks are set aside."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Deadline
from opinion_ops.health import Check


def sweeper_check() -> Check:
    """Behind = clocks whose moment passed more than CLOCK_LAG_ALERT_SECONDS ago and are still waiting."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.CLOCK_LAG_ALERT_SECONDS)
    behind = Deadline.objects.filter(next_action_at__lte=cutoff, sweep_failures=0)
    oldest = behind.order_by("next_action_at").values_list("next_action_at", flat=True).first()
    if oldest is None:
        return Check("clock sweeper", True, _("时限提醒和升级按时处理。"), critical=True)
    return Check(
        "clock sweeper",
        False,
        _("时限处理落后 %(seconds)d 秒（%(count)d 个待处理）：请检查 worker 和 beat 是否在运行。")
        % {"seconds": (now - oldest).total_seconds(), "count": behind.count()},
        critical=True,
    )


def set_aside_check() -> Check:
    set_aside = Deadline.objects.filter(sweep_failures__gt=0).select_related("incident").order_by("quarantined_at")
    rows = [
        {
            _("舆情"): f"{d.incident.reference} {d.incident.title}",
            _("时限"): d.name,
            _("失败次数"): d.sweep_failures,
            _("隔离时间"): timezone.localtime(d.quarantined_at).strftime("%m-%d %H:%M") if d.quarantined_at else "",
            _("下次重试"): timezone.localtime(d.next_action_at).strftime("%m-%d %H:%M") if d.next_action_at else "",
            _("错误"): d.sweep_error[:200],
        }
        for d in set_aside[:20]
    ]
    if not rows:
        return Check("set-aside clocks", True, _("没有被隔离的时限。"))
    return Check(
        "set-aside clocks",
        False,
        _("%(count)d 个时限处理失败，已隔离并按退避重试。") % {"count": set_aside.count()},
        rows,
    )
