"""Monitoring reports (舆情日报、周报、月报、专报): each issued report keeps the figures of its period as
they were counted when it was issued, so the document reads the same every time it is opened; a
unit's schedule is a row with its next due time, claimed by a sweeper (reports.services)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization, ResponseGroup


class Kind(models.TextChoices):
    DAILY = "daily", _("舆情日报")
    WEEKLY = "weekly", _("舆情周报")
    MONTHLY = "monthly", _("舆情月报")
    SPECIAL = "special", _("舆情专报")


SCHEDULED_KINDS = (Kind.DAILY, Kind.WEEKLY, Kind.MONTHLY)


class ReportSchedule(models.Model):
    """定期报送: a unit's daily, weekly or monthly report, issued at `send_time` (local) on the first
    day after its period and sent to its subscribers and groups."""

    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(
        _("报告类型"), max_length=10, choices=[(k.value, k.label) for k in SCHEDULED_KINDS], default=Kind.DAILY
    )
    enabled = models.BooleanField(_("启用"), default=True)
    send_time = models.TimeField(
        _("报送时间"), help_text=_("北京时间；日报次日、周报周一、月报次月 1 日的这个时间生成并报送。")
    )
    includes_subordinates = models.BooleanField(
        _("含下级单位"),
        default=False,
        help_text=_("上级主管部门可汇总下级单位上报的舆情；下级单位未上报的舆情不计入。"),
    )
    subscribers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), blank=True, related_name="+"
    )
    groups = models.ManyToManyField(
        ResponseGroup,
        verbose_name=_("接收工作组"),
        blank=True,
        related_name="+",
        help_text=_("报送到工作组的通知方式（如工作群）。"),
    )
    # The planned time of the next report: it also names the period (the days before its date).
    next_due_at = models.DateTimeField(_("下次报送时间"), null=True, blank=True)
    # After a failure, not before this time (the period stays the one `next_due_at` names).
    retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    failures = models.PositiveIntegerField(_("连续失败次数"), default=0, editable=False)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True, editable=False)
    last_issued_at = models.DateTimeField(_("最近报送"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("设置人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("定期报送")
        verbose_name_plural = _("定期报送")
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="report_schedule_one_per_kind")]
        indexes = [
            models.Index(fields=["next_due_at"], condition=models.Q(enabled=True), name="report_schedule_due"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_kind_display()}"


class MonitoringReport(models.Model):
    """One issued report: its period, number (第 N 期 of the year) and the figures counted for it."""

    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("报告类型"), max_length=10, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    number = models.PositiveIntegerField(_("期号"))
    title = models.CharField(_("标题"), max_length=200)
    period_start = models.DateTimeField(_("统计起始"))
    period_end = models.DateTimeField(_("统计截止"))
    includes_subordinates = models.BooleanField(_("含下级单位"), default=False)
    # 编者按 / 研判意见: what the person who issued it wrote; empty for a scheduled report.
    commentary = models.TextField(_("研判意见"), blank=True)
    figures = models.JSONField(_("统计数据"), default=dict, editable=False)
    schedule = models.ForeignKey(
        ReportSchedule, verbose_name=_("定期报送"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("定期报送由系统生成。"),
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("舆情报告")
        verbose_name_plural = _("舆情报告")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "year", "number"], name="monitoring_report_number"),
            # A schedule issues each period once, however many sweepers run.
            models.UniqueConstraint(
                fields=["schedule", "period_start"],
                condition=models.Q(schedule__isnull=False),
                name="monitoring_report_once_per_period",
            ),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"], name="monitoring_report_recent")]

    def __str__(self) -> str:
        return self.title
