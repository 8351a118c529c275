"""应急演练: a unit's scenarios (template incidents with their posts and the level the team should
reach), the drills scheduled from them, and the score of each drill against the plan.

A drill is a row with a due time (`next_action_at`): the sweeper (drills.services.drills_sweep)
injects it as a drill incident at its start and then releases the scenario's posts as the drill
clock reaches each one. The drill incident runs through the ordinary lifecycle, clocks and
notifications; only its clocks may run faster (Incident.clock_speed).
"""

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import HandlingCategory, Incident, Platform
from organizations.models import Organization

MAX_POST_MINUTES = 7 * 24 * 60  # a post a week into a drill is a typo


class Scenario(models.Model):
    """演练脚本: what the drill incident looks like, the posts that appear as it develops, and the
    warning level the team is expected to reach. Plan parts are kept by name, code and rank, not by
    row, so a new plan version does not break the scenario."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="drill_scenarios"
    )
    title = models.CharField(_("演练舆情标题"), max_length=180)
    description = models.TextField(_("情况描述"), blank=True)
    platform = models.CharField(_("平台"), max_length=20, choices=Platform.choices, default=Platform.OTHER)
    incident_type_name = models.CharField(_("舆情类型"), max_length=60, blank=True)
    category_code = models.CharField(_("处置类别"), max_length=20, blank=True)
    expected_level_rank = models.PositiveSmallIntegerField(_("预期预警级别（严重程度）"), null=True, blank=True)
    expected_level_name = models.CharField(_("预期预警级别"), max_length=30, blank=True)
    objectives = models.TextField(_("演练目标"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("演练脚本")
        verbose_name_plural = _("演练脚本")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["organization", "-updated_at"], name="scenario_unit_recent")]

    def __str__(self) -> str:
        return self.title

    @property
    def expected_level_label(self) -> str:
        return self.expected_level_name or "—"

    @property
    def category_label(self) -> str:
        if self.category_code in HandlingCategory.Code.values:
            return str(HandlingCategory.Code(self.category_code).label)
        return self.category_code or "—"


class ScenarioPost(models.Model):
    """A post of the scenario: it appears on the drill incident this many drill minutes after the start."""

    scenario = models.ForeignKey(Scenario, verbose_name=_("演练脚本"), on_delete=models.CASCADE, related_name="posts")
    minutes_after = models.PositiveIntegerField(
        _("开始后（分钟）"), default=0, validators=[MaxValueValidator(MAX_POST_MINUTES)]
    )
    platform = models.CharField(_("平台"), max_length=20, choices=Platform.choices, default=Platform.OTHER)
    author = models.CharField(_("发布者"), max_length=200, blank=True)
    url = models.URLField(_("链接"), max_length=1000, blank=True)
    text = models.TextField(_("内容"))

    class Meta:
        verbose_name = _("演练信息")
        verbose_name_plural = _("演练信息")
        ordering = ["minutes_after", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class Drill(models.Model):
    """One scheduled drill: at `starts_at` the sweeper injects it; cancellable until then."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("待开始")
        RUNNING = "running", _("进行中")
        FINISHED = "finished", _("已结束")
        CANCELLED = "cancelled", _("已取消")

    class Speed(models.IntegerChoices):
        REAL = 1, _("×1（按预案实际时限）")
        TEN = 10, _("×10（时限缩短为十分之一）")
        SIXTY = 60, _("×60（1 分钟相当于 1 小时）")

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="drills"
    )
    scenario = models.ForeignKey(Scenario, verbose_name=_("演练脚本"), on_delete=models.PROTECT, related_name="drills")
    starts_at = models.DateTimeField(_("开始时间"))
    speed = models.PositiveSmallIntegerField(_("时限倍速"), choices=Speed.choices, default=Speed.REAL)
    note = models.TextField(_("备注"), blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("安排人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("安排时间"), auto_now_add=True)
    # When the sweeper next has work on this drill: its start, then the next post to release.
    next_action_at = models.DateTimeField(_("下次处理时间"), null=True, blank=True)
    incident = models.OneToOneField(
        Incident,
        verbose_name=_("演练舆情"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="drill",
    )
    started_at = models.DateTimeField(_("实际开始时间"), null=True, blank=True)
    # The scenario as it was injected (title, posts, expected level): the drill report scores against it.
    scenario_snapshot = models.JSONField(_("演练脚本快照"), default=dict, blank=True)
    posts_released = models.PositiveIntegerField(_("已投放信息数"), default=0)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("评估得分"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("取消人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.TextField(_("取消理由"), blank=True)
    # The sweeper's failures on this drill: how often, the last error; it retries with backoff.
    sweep_failures = models.PositiveIntegerField(_("处理失败次数"), default=0)
    sweep_error = models.TextField(_("最近处理错误"), blank=True)

    class Meta:
        verbose_name = _("应急演练")
        verbose_name_plural = _("应急演练")
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-starts_at"], name="drill_unit_recent"),
            models.Index(fields=["next_action_at"], condition=models.Q(next_action_at__isnull=False), name="drill_due"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(speed__in=[1, 10, 60]), name="drill_speed_allowed"),
        ]

    def __str__(self) -> str:
        return f"{self.scenario_snapshot.get('title') or self.scenario_id} @ {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def title(self) -> str:
        snapshot: dict[str, Any] = self.scenario_snapshot or {}
        return str(snapshot.get("title") or self.scenario.title)
