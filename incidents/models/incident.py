from datetime import UTC

from django.conf import settings
from django.db import models
from django.db.models.functions import TruncMinute
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from incidents.models.chain import entry_digest
from incidents.models.plan import EmergencyPlan, HandlingCategory, IncidentType, WarningLevel
from incidents.models.states import ConcurrentStates
from incidents.states import CLOCK_STATES, LEVEL_CHANGE_STATES, OPEN_STATES, State
from organizations.models import Organization, ResponseGroup

__all__ = ["LEVEL_CHANGE_STATES", "OPEN_STATES", "Incident", "IncidentNumber", "Platform", "State", "TimelineEntry"]

# The first keys of the list's 「按紧急程度排序」 (incidents.selectors.incidents_by_urgency), indexed as
# these very expressions so the first page is read from the index, not sorted from every row.
# Open incidents first; then the minute of the nearest open clock (truncated in UTC: the same
# minutes as Asia/Shanghai, and a constant zone keeps the expression indexable).
URGENCY_CLOSED = models.Case(
    models.When(state__in=[State.ARCHIVED, State.DISMISSED], then=models.Value(1)),
    default=models.Value(0),
    output_field=models.IntegerField(),
)
URGENCY_DUE_MINUTE = TruncMinute("next_due_at", tzinfo=UTC)


class Platform(models.TextChoices):
    WEIBO = "weibo", _("微博")
    WECHAT = "wechat", _("微信")
    DOUYIN = "douyin", _("抖音")
    KUAISHOU = "kuaishou", _("快手")
    BILIBILI = "bilibili", _("哔哩哔哩")
    ZHIHU = "zhihu", _("知乎")
    XIAOHONGSHU = "xiaohongshu", _("小红书")
    FORUM = "forum", _("论坛 / 贴吧")
    NEWS = "news", _("新闻网站")
    APP = "app", _("新闻客户端")
    VIDEO = "video", _("视频网站")
    OTHER = "other", _("其他")


class Incident(ConcurrentStates, models.Model):
    """An online public-opinion incident, moved through its lifecycle only by incidents.services."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="incidents"
    )
    plan = models.ForeignKey(
        EmergencyPlan, verbose_name=_("适用预案版本"), on_delete=models.PROTECT, related_name="incidents"
    )
    reference = models.CharField(
        _("编号"), max_length=20, default="", editable=False, help_text=_("本单位内的舆情编号，例如 2026-0042。")
    )
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("情况描述"), blank=True)
    source_links = models.TextField(_("来源链接"), blank=True, help_text=_("每行一个链接。"))
    platform = models.CharField(_("平台"), max_length=20, choices=Platform.choices, default=Platform.OTHER)
    discovered_at = models.DateTimeField(_("发现时间"), db_index=True)
    logged_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    logged_late = models.BooleanField(
        _("后补登记"),
        default=False,
        help_text=_("事后补录：登记时已过期的时限记为逾期，不再发送提醒和升级。"),
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="reported_incidents"
    )
    incident_type = models.ForeignKey(
        IncidentType, verbose_name=_("舆情类型"), null=True, blank=True, on_delete=models.PROTECT
    )
    category = models.ForeignKey(
        HandlingCategory, verbose_name=_("处置类别"), null=True, blank=True, on_delete=models.PROTECT
    )
    level = models.ForeignKey(WarningLevel, verbose_name=_("预警级别"), null=True, blank=True, on_delete=models.PROTECT)
    state = FSMField(_("状态"), default=State.MONITORING, choices=State.choices, protected=True, db_index=True)
    assigned_groups = models.ManyToManyField(
        ResponseGroup, verbose_name=_("承办工作组"), blank=True, related_name="incidents"
    )
    is_drill = models.BooleanField(_("演练"), default=False, help_text=_("应急演练产生的舆情，不计入统计。"))
    # How much faster than real time this incident's clocks run: 1 for every real incident; a drill
    # may run at 10 or 60 so that a tabletop exercise fits in an hour (incidents.services.deadlines).
    clock_speed = models.PositiveSmallIntegerField(
        _("时限倍速"),
        default=1,
        choices=[(1, "×1"), (10, "×10"), (60, "×60")],
        help_text=_("仅演练可加快：×10、×60 时各项时限按比例缩短。"),
    )
    dismissal_reason = models.TextField(_("排除理由"), blank=True)
    warning_issued_at = models.DateTimeField(_("预警发布时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(
        _("上报上级时间"), null=True, blank=True, help_text=_("上报后上级主管部门可查看本事件。")
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # The due time of the nearest open (pending or missed) clock, kept by incidents.services.deadlines
    # whenever a clock is planned, re-timed, met, waived or closed: the list sorts and pages on it.
    next_due_at = models.DateTimeField(_("最近时限"), null=True, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并至"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_duplicates",
        help_text=_("重复登记的舆情并入的舆情；并入后本事件关闭，记录留在本事件。"),
    )
    version = models.PositiveIntegerField(_("修改版本"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("舆情事件")
        verbose_name_plural = _("舆情事件")
        ordering = ["-discovered_at"]
        indexes = [
            models.Index(fields=["organization", "state", "-discovered_at"], name="incident_unit_state"),
            models.Index(fields=["organization", "-discovered_at"], name="incident_unit_recent"),
            # The dashboard's count of open incidents by level and state, read from the index alone.
            models.Index(
                fields=["organization", "state", "level"],
                condition=models.Q(is_drill=False),
                name="incident_unit_open_count",
            ),
            models.Index(models.F("organization"), URGENCY_CLOSED, URGENCY_DUE_MINUTE, name="incident_unit_urgency"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "reference"],
                condition=~models.Q(reference=""),
                name="incident_reference_unique_per_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}" if self.reference else self.title

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # --- conditions (pure, no I/O beyond reading related rows)
    def has_assessment(self) -> bool:
        return self.assessments.exists()  # type: ignore[attr-defined]

    def has_review(self) -> bool:
        return hasattr(self, "review") and self.review is not None

    def has_open_clocks(self) -> bool:
        """A clock still counting: pending, or missed and not yet met, waived or closed."""
        return self.deadlines.filter(status__in=["pending", "missed"]).exists()  # type: ignore[attr-defined]

    def has_no_open_clocks(self) -> bool:
        return not self.has_open_clocks()

    # --- transitions: where the lifecycle may go (source, target, conditions). Who may take each
    # step is the action's one rule in incidents.policies, which reads the sources from here;
    # incidents.services checks the rule, runs the transition, saves, records and notifies.
    @transition(
        field=state,
        source=State.MONITORING,
        target=State.ASSESSING,
    )
    def start_assessment(self) -> None:
        pass

    @transition(
        field=state,
        source=State.ASSESSING,
        target=State.WARNING,
        conditions=[has_assessment],  # type: ignore[list-item]
    )
    def issue_warning(self, level: WarningLevel, at: object) -> None:
        self.level = level
        self.warning_issued_at = at  # type: ignore[assignment]

    @transition(
        field=state,
        source=State.ASSESSING,
        target=State.DISMISSED,
    )
    def dismiss(self, reason: str, at: object) -> None:
        self.dismissal_reason = reason
        self.closed_at = at  # type: ignore[assignment]

    @transition(
        field=state,
        source=State.WARNING,
        target=State.RESPONDING,
    )
    def start_response(self) -> None:
        pass

    @transition(
        field=state,
        source=State.RESPONDING,
        target=State.TRACKING,
    )
    def start_tracking(self) -> None:
        pass

    @transition(
        field=state,
        source=State.TRACKING,
        target=State.RESPONDING,
    )
    def rebound(self) -> None:
        pass

    @transition(
        field=state,
        source=State.TRACKING,
        target=State.REVIEWING,
        conditions=[has_no_open_clocks],  # type: ignore[list-item]
    )
    def start_review(self) -> None:
        pass

    @transition(
        field=state,
        source=State.REVIEWING,
        target=State.ARCHIVED,
        conditions=[has_review, has_no_open_clocks],  # type: ignore[list-item]
    )
    def archive(self, at: object) -> None:
        self.closed_at = at  # type: ignore[assignment]

    @transition(
        field=state,
        source=list(LEVEL_CHANGE_STATES),
        target=None,
    )
    def change_level(self, level: WarningLevel) -> None:
        self.level = level

    # A duplicate closes as 已排除 with the reason "合并至 …"; its record stays here (incidents.services.corrections).
    @transition(
        field=state,
        source=list(CLOCK_STATES),
        target=State.DISMISSED,
    )
    def merge_into(self, into: "Incident", reason: str, at: object) -> None:
        self.merged_into = into
        self.dismissal_reason = reason
        self.closed_at = at  # type: ignore[assignment]


class IncidentNumber(models.Model):
    """The last incident number a unit gave out in a year: 2026-0001, 2026-0002 …"""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("舆情编号")
        verbose_name_plural = _("舆情编号")
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="incident_number_per_unit_year")]

    def __str__(self) -> str:
        return f"{self.organization_id}:{self.year}:{self.last}"


class TimelineEntry(models.Model):
    """Append-only record of everything that happened to an incident: who, what, when.

    Each incident's entries form one hash chain: `seq` counts 1, 2, 3 … without gaps, `prev_hash`
    is the `hash` of entry seq − 1 (64 zeros for the first) and `hash` is the SHA-256 of the
    entry's canonical content including `prev_hash` (incidents.models.chain). Changing, removing
    or inserting an entry therefore shows at that entry or the next (incidents.integrity). Rows
    are written only by incidents.services.timeline.timeline_record, holding the incident's lock;
    on PostgreSQL the database refuses UPDATE, DELETE and TRUNCATE (opinion_ops.append_only).
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("登记")
        EDITED = "edited", _("修改")
        TRANSITION = "transition", _("状态变更")
        LEVEL = "level", _("级别调整")
        ASSIGNMENT = "assignment", _("分派")
        ASSESSMENT = "assessment", _("研判")
        MENTION = "mention", _("关联信息")
        TASK = "task", _("任务")
        MEASURE = "measure", _("处置措施")
        REPORT = "report", _("报告")
        STATEMENT = "statement", _("公开回应")
        DEADLINE = "deadline", _("时限")
        REMINDER = "reminder", _("时限提醒")
        REVIEW = "review", _("总结评估")
        ESCALATION = "escalation", _("上报")
        MERGE = "merge", _("合并")
        LINK = "link", _("关联舆情")
        COMMENT = "comment", _("评论")

    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="timeline"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set by timeline_record before hashing (auto_now_add would change it after the digest).
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now, editable=False, db_index=True)
    occurred_at = models.DateTimeField(_("发生时间"), null=True, blank=True)
    from_state = models.CharField(_("原状态"), max_length=20, blank=True, choices=State.choices)
    to_state = models.CharField(_("新状态"), max_length=20, blank=True, choices=State.choices)
    summary = models.CharField(_("摘要"), max_length=500)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    seq = models.PositiveIntegerField(_("序号"), editable=False, help_text=_("本事件处置记录中的第几条。"))
    prev_hash = models.CharField(_("上一条哈希"), max_length=64, editable=False)
    hash = models.CharField(_("本条哈希"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("处置记录")
        verbose_name_plural = _("处置记录")
        ordering = ["recorded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["incident", "seq"], name="timeline_seq_unique_per_incident")]

    def __str__(self) -> str:
        return self.summary

    def compute_hash(self) -> str:
        """The SHA-256 this entry's content and link give now (equal to `hash` unless altered)."""
        return entry_digest(
            incident_id=self.incident_id,
            seq=self.seq,
            kind=self.kind,
            actor_id=self.actor_id,
            recorded_at=self.recorded_at,
            occurred_at=self.occurred_at,
            from_state=self.from_state,
            to_state=self.to_state,
            summary=self.summary,
            details=self.details,
            prev_hash=self.prev_hash,
        )

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("Timeline entries are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Timeline entries are append-only")
