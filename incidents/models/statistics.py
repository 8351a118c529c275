from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization


class UnitStatistics(models.Model):
    """A unit's dashboard statistics (on-time rates, median time to first response, the charts),
    counted by the worker and read by the dashboard as one row.

    `refresh_due_at` is when they must be counted again: at once after any change to the unit's
    incidents or clocks, else STATISTICS_MAX_AGE after the last count (the period moves on). The
    statistics sweeper claims due rows like the clock sweeper claims clocks
    (incidents.services.statistics)."""

    organization = models.OneToOneField(
        Organization, verbose_name=_("单位"), primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    payload = models.JSONField(_("统计数据"), default=dict)
    computed_at = models.DateTimeField(_("统计时间"))
    refresh_due_at = models.DateTimeField(_("下次统计时间"), db_index=True)

    class Meta:
        verbose_name = _("单位统计")
        verbose_name_plural = _("单位统计")

    def __str__(self) -> str:
        return f"{self.organization_id} @ {self.computed_at:%Y-%m-%d %H:%M}"
