"""What people record while handling an incident: assessments, tasks, measures, reports,
public statements, deadlines and the closing review."""

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from incidents.models.incident import Incident
from incidents.models.plan import DeadlineRule, EscalationRung, HandlingCategory, WarningLevel
from incidents.models.states import ConcurrentStates
from organizations.models import ResponseGroup


class Assessment(models.Model):
    class Trend(models.TextChoices):
        RISING = "rising", _("上升")
        STABLE = "stable", _("平稳")
        FALLING = "falling", _("回落")

    class Risk(models.TextChoices):
        HIGH = "high", _("高")
        MEDIUM = "medium", _("中")
        LOW = "low", _("低")

    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="assessments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("研判人"), on_delete=models.PROTECT, related_name="+"
    )
    nature = models.TextField(_("舆情性质"))
    scope = models.TextField(_("影响范围"))
    trend = models.CharField(_("发展趋势"), max_length=10, choices=Trend.choices)
    risk = models.CharField(_("风险等级"), max_length=10, choices=Risk.choices)
    proposed_level = models.ForeignKey(
        WarningLevel, verbose_name=_("建议预警级别"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_category = models.ForeignKey(
        HandlingCategory,
        verbose_name=_("建议处置类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recommendation = models.TextField(_("处置建议"), blank=True)
    created_at = models.DateTimeField(_("研判时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("研判意见")
        verbose_name_plural = _("研判意见")
        ordering = ["created_at", "id"]
        # An incident's latest assessment (the leader's 发布预警 list reads it per incident).
        indexes = [models.Index(fields=["incident", "-created_at", "-id"], name="assessment_incident_latest")]

    def __str__(self) -> str:
        return f"{self.incident} · {self.get_risk_display()}"


class Review(models.Model):
    """The closing summary and evaluation (总结评估); required before archiving."""

    incident = models.OneToOneField(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="review"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填写人"), on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(_("处置经过"))
    evaluation = models.TextField(_("效果评估"))
    lessons = models.TextField(_("经验教训"), blank=True)
    plan_suggestions = models.TextField(_("预案修订建议"), blank=True)
    accountability = models.TextField(_("责任追究"), blank=True)
    created_at = models.DateTimeField(_("填写时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("总结评估")
        verbose_name_plural = _("总结评估")

    def __str__(self) -> str:
        return f"{self.incident} · {_('总结评估')}"


class Task(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("办理中")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    incident = models.ForeignKey(Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(_("任务"), max_length=200)
    description = models.TextField(_("要求"), blank=True)
    assignee_group = models.ForeignKey(
        ResponseGroup,
        verbose_name=_("承办工作组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incident_tasks",
    )
    due_at = models.DateTimeField(_("办理时限"), null=True, blank=True, db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    result = models.TextField(_("办理结果"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("交办人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("交办时间"), auto_now_add=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("处置任务")
        verbose_name_plural = _("处置任务")
        ordering = ["status", "due_at", "id"]

    def __str__(self) -> str:
        return self.title


class Measure(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", _("回复网民")
        CLARIFICATION = "clarification", _("澄清辟谣")
        TAKEDOWN = "takedown", _("请求平台删除违法信息")
        ACCOUNT_BAN = "account_ban", _("请求平台封禁账号")
        POLICE = "police", _("移交公安机关")
        DISCIPLINE = "discipline", _("移交纪检监察")
        MEDIA = "media", _("媒体沟通")
        EDUCATION = "education", _("内部教育处理")
        OTHER = "other", _("其他")

    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="measures"
    )
    kind = models.CharField(_("措施"), max_length=20, choices=Kind.choices)
    description = models.TextField(_("具体情况"))
    target = models.CharField(_("对象（平台、部门或媒体）"), max_length=200, blank=True)
    url = models.URLField(_("相关链接"), max_length=1000, blank=True)
    taken_at = models.DateTimeField(_("采取时间"))
    outcome = models.TextField(_("结果"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("处置措施")
        verbose_name_plural = _("处置措施")
        ordering = ["taken_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.incident}"


class Classification(models.TextChoices):
    """密级 of a written report (GB/T 9704); blank: 不涉密, nothing printed."""

    INTERNAL = "internal", _("内部")
    SECRET = "secret", _("秘密")
    CONFIDENTIAL = "confidential", _("机密")


class Report(models.Model):
    """An oral or written report to leadership (and optionally on to the superior unit)."""

    class Kind(models.TextChoices):
        ORAL = "oral", _("口头报告")
        WRITTEN = "written", _("书面报告")

    incident = models.ForeignKey(Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(_("报告方式"), max_length=10, choices=Kind.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("报告人"), on_delete=models.PROTECT, related_name="+"
    )
    reported_to = models.CharField(_("报告对象"), max_length=200)
    to_superior = models.BooleanField(_("同时报上级主管部门"), default=False)
    occurred_at = models.DateTimeField(_("报告时间"), help_text=_("实际报告的时间，可早于登记时间。"))
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    summary = models.TextField(_("内容摘要"))
    cause = models.TextField(_("起因"), blank=True)
    facts = models.TextField(_("基本事实"), blank=True)
    measures_taken = models.TextField(_("已采取措施"), blank=True)
    # GB/T 9704 版头: 份号 and 密级 are printed only where set.
    copy_number = models.CharField(
        _("份号"),
        max_length=6,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{1,6}$", _("份号须为 1 至 6 位数字。"))],
        help_text=_("涉密公文须标注份号，一般为 6 位阿拉伯数字。"),
    )
    classification = models.CharField(_("密级"), max_length=12, choices=Classification.choices, blank=True, default="")
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审阅领导"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_off_at = models.DateTimeField(_("审阅时间"), null=True, blank=True)
    # The leader's written instruction given when signing; also the comment of the sign-off's Approval.
    sign_off_comment = models.TextField(_("领导批示"), blank=True)
    # 签收: the superior unit confirms it received a report sent up to it (to_superior).
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("上级签收时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("报告")
        verbose_name_plural = _("报告")
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.incident}"


def report_attachment_path(instance: "ReportAttachment", filename: str) -> str:
    return f"reports/{instance.report.incident_id}/{instance.report_id}/{filename}"


class ReportAttachment(models.Model):
    report = models.ForeignKey(Report, verbose_name=_("报告"), on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("附件"), upload_to=report_attachment_path)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("报告附件")
        verbose_name_plural = _("报告附件")

    def __str__(self) -> str:
        return self.file.name


class Statement(ConcurrentStates, models.Model):
    """A public statement or reply; only an approved version can be published (统一回复)."""

    class Kind(models.TextChoices):
        RESPONSE = "response", _("公开回应")
        BULLETIN = "bulletin", _("情况通报")
        REPLY = "reply", _("答复诉求")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        LEGAL_REVIEW = "legal_review", _("待法律审核")
        SUBMITTED = "submitted", _("待审定")
        APPROVED = "approved", _("已审定")
        REJECTED = "rejected", _("退回修改")
        PUBLISHED = "published", _("已发布")

    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="statements"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.RESPONSE)
    title = models.CharField(_("标题"), max_length=200)
    status = FSMField(_("状态"), default=Status.DRAFT, choices=Status.choices, protected=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("起草人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("起草时间"), auto_now_add=True)
    published_channel = models.CharField(_("发布渠道"), max_length=200, blank=True)
    published_url = models.URLField(_("发布链接"), max_length=1000, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("修改版本"), default=1)

    class Meta:
        verbose_name = _("公开回应")
        verbose_name_plural = _("公开回应")
        ordering = ["-created_at", "id"]
        # The statements waiting for someone (the dashboard's lists): a few among all ever written.
        indexes = [
            models.Index(
                fields=["status", "created_at", "id"],
                condition=Q(status__in=["legal_review", "submitted", "rejected", "approved"]),
                name="statement_waiting",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @transition(field=status, source=[Status.DRAFT, Status.REJECTED, Status.APPROVED], target=Status.DRAFT)
    def revise(self) -> None:
        pass

    @transition(field=status, source=[Status.DRAFT, Status.REJECTED], target=Status.SUBMITTED)
    def submit(self) -> None:
        pass

    # A plan with 法律审核 (EmergencyPlan.legal_review): the legal group reviews before the leaders decide.
    @transition(field=status, source=[Status.DRAFT, Status.REJECTED], target=Status.LEGAL_REVIEW)
    def submit_for_legal_review(self) -> None:
        pass

    @transition(field=status, source=Status.LEGAL_REVIEW, target=Status.SUBMITTED)
    def legal_approve(self) -> None:
        pass

    @transition(field=status, source=Status.LEGAL_REVIEW, target=Status.REJECTED)
    def legal_reject(self) -> None:
        pass

    @transition(field=status, source=[Status.SUBMITTED, Status.LEGAL_REVIEW], target=Status.DRAFT)
    def withdraw(self) -> None:
        """The drafter takes a submitted text back before anyone decided on it."""

    @transition(field=status, source=Status.SUBMITTED, target=Status.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=status, source=Status.APPROVED, target=Status.PUBLISHED)
    def publish(self, channel: str, url: str, at: object, by: object) -> None:
        self.published_channel = channel
        self.published_url = url
        self.published_at = at  # type: ignore[assignment]
        self.published_by = by  # type: ignore[assignment]


class StatementVersion(models.Model):
    """Every text of a statement ever written, with the decision taken on it; never changed."""

    class Decision(models.TextChoices):
        NONE = "", _("未审定")
        APPROVED = "approved", _("同意")
        REJECTED = "rejected", _("退回")

    statement = models.ForeignKey(
        Statement, verbose_name=_("公开回应"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本"))
    text = models.TextField(_("正文"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撰写人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("撰写时间"), auto_now_add=True)
    decision = models.CharField(_("审定结果"), max_length=10, choices=Decision.choices, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审定时间"), null=True, blank=True)
    decision_comment = models.TextField(_("审定意见"), blank=True)
    # 法律审核 of this version (plans with EmergencyPlan.legal_review), before the leaders decide.
    legal_decision = models.CharField(
        _("法律审核结果"), max_length=10, choices=Decision.choices, blank=True, default=""
    )
    legal_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("法律审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    legal_reviewed_at = models.DateTimeField(_("法律审核时间"), null=True, blank=True)
    legal_comment = models.TextField(_("法律审核意见"), blank=True)

    class Meta:
        verbose_name = _("回应稿版本")
        verbose_name_plural = _("回应稿版本")
        ordering = ["statement", "number"]
        constraints = [models.UniqueConstraint(fields=["statement", "number"], name="statement_version_unique")]

    def __str__(self) -> str:
        return f"{self.statement} v{self.number}"


class Deadline(ConcurrentStates, models.Model):
    """One clock on one incident, planned from a rule of the incident's plan version.

    Its status moves only through the transitions below; a concurrent change of the status makes
    the save fail instead of overwriting it. A miss is history: once missed, the clock can close
    only as late, waived or not applicable, or as on time when a leader confirms an earlier time.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("未到期")
        MET = "met", _("已按时完成")
        LATE = "late", _("逾期后完成")
        MISSED = "missed", _("已逾期")
        WAIVED = "waived", _("已豁免")
        CANCELLED = "cancelled", _("不再适用")

    OPEN = (Status.PENDING, Status.MISSED)

    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="deadlines"
    )
    rule = models.ForeignKey(
        DeadlineRule, verbose_name=_("时限规则"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("事项"), max_length=20, choices=DeadlineRule.Kind.choices)
    name = models.CharField(_("名称"), max_length=60)
    due_at = models.DateTimeField(_("到期时间"))
    status = FSMField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, protected=True)
    owner_group = models.ForeignKey(
        ResponseGroup, verbose_name=_("责任工作组"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    met_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    met_by_report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    met_by_statement = models.ForeignKey(Statement, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    met_recorded_at = models.DateTimeField(_("完成登记时间"), null=True, blank=True)
    # A leader's decision on the clock: waived, closed as not applicable, or confirmed as on time.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("决定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("豁免、确认不再适用或确认按时完成的领导。"),
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decision_reason = models.TextField(_("理由"), blank=True)
    reminder_minutes = models.JSONField(_("提前提醒（分钟）"), default=list, blank=True)
    escalation_interval_minutes = models.PositiveIntegerField(_("逾期升级间隔（分钟）"), default=15)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    # The clock's next reminder or escalation; the sweeper reads only rows whose time has come.
    next_action_at = models.DateTimeField(_("下次提醒或升级时间"), null=True, blank=True)
    missed_at = models.DateTimeField(_("逾期时间"), null=True, blank=True)
    late_logged = models.BooleanField(
        _("后补登记时已逾期"), default=False, help_text=_("登记时已过期，记为逾期，未发送提醒和升级。")
    )
    escalation_step = models.PositiveIntegerField(_("已通知层级数"), default=0)
    escalation_rung = models.CharField(
        _("已通知到"), max_length=20, choices=EscalationRung.choices, blank=True, help_text=_("最近通知到的上报层级。")
    )
    last_escalated_at = models.DateTimeField(_("最近通知时间"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # When the sweeper fails on this clock: how often, the last error, and since when it is set aside.
    sweep_failures = models.PositiveIntegerField(_("处理失败次数"), default=0)
    sweep_error = models.TextField(_("最近处理错误"), blank=True)
    quarantined_at = models.DateTimeField(_("隔离时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        ordering = ["due_at", "id"]
        indexes = [
            # "Due soon or overdue" on the dashboard: open clocks by due time.
            models.Index(
                fields=["due_at"], condition=models.Q(status__in=["pending", "missed"]), name="deadline_open_due"
            ),
            # On-time rates: closed clocks of a kind in a period.
            models.Index(
                fields=["kind", "due_at"],
                condition=models.Q(status__in=["met", "late", "missed"]),
                name="deadline_closed_kind_due",
            ),
            models.Index(fields=["incident", "status"], name="deadline_incident_status"),
            # 「我负责的时限」: a person's or a group's open clocks.
            models.Index(
                fields=["owner", "due_at"],
                condition=models.Q(status__in=["pending", "missed"]),
                name="deadline_open_owner",
            ),
            models.Index(
                fields=["owner_group", "due_at"],
                condition=models.Q(status__in=["pending", "missed"]),
                name="deadline_open_group",
            ),
            models.Index(
                fields=["next_action_at"], condition=models.Q(next_action_at__isnull=False), name="deadline_next_action"
            ),
            models.Index(
                fields=["quarantined_at"], condition=models.Q(sweep_failures__gt=0), name="deadline_sweep_failed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.incident}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def _decide(self, by: Any, at: Any, reason: str) -> None:
        self.decided_by = by
        self.decided_at = at
        self.decision_reason = reason
        self.next_action_at = None

    # --- transitions: the only ways a clock's status changes (services save and record them)
    @transition(field=status, source=Status.PENDING, target=Status.MISSED)
    def miss(self, at: Any, *, late_logged: bool = False) -> None:
        self.missed_at = at
        self.late_logged = late_logged

    @transition(field=status, source=Status.PENDING, target=Status.MET)
    def meet(self, at: Any, recorded_at: Any, report: Any = None, statement: Any = None) -> None:
        self.met_at, self.met_recorded_at = at, recorded_at
        self.met_by_report, self.met_by_statement = report, statement
        self.next_action_at = None

    @transition(field=status, source=[Status.PENDING, Status.MISSED], target=Status.LATE)
    def meet_late(self, at: Any, recorded_at: Any, report: Any = None, statement: Any = None) -> None:
        self.met_at, self.met_recorded_at = at, recorded_at
        self.met_by_report, self.met_by_statement = report, statement
        self.next_action_at = None

    @transition(field=status, source=Status.LATE, target=Status.MET)
    def confirm_on_time(self, by: Any, at: Any, reason: str) -> None:
        self._decide(by, at, reason)

    @transition(field=status, source=[Status.PENDING, Status.MISSED], target=Status.WAIVED)
    def waive(self, by: Any, at: Any, reason: str) -> None:
        self._decide(by, at, reason)

    @transition(field=status, source=[Status.PENDING, Status.MISSED], target=Status.CANCELLED)
    def close_not_applicable(self, by: Any, at: Any, reason: str) -> None:
        self._decide(by, at, reason)

    @transition(field=status, source=Status.PENDING, target=Status.CANCELLED)
    def withdraw(self) -> None:
        """Re-planning: the rule no longer applies to the incident (a leader's closing is kept apart)."""
        self.next_action_at = None

    def was_withdrawn(self) -> bool:
        return self.decided_by_id is None

    @transition(field=status, source=Status.CANCELLED, target=Status.PENDING, conditions=[was_withdrawn])  # type: ignore[list-item]
    def reinstate(self) -> None:
        """Re-planning: the rule applies again (only to a clock that re-planning withdrew)."""


class DeadlineSignal(models.Model):
    """One reminder, miss or escalation of a clock; its unique key makes it happen exactly once."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("到期提醒")
        MISSED = "missed", _("逾期通知")
        ESCALATION = "escalation", _("逾期升级")

    deadline = models.ForeignKey(Deadline, verbose_name=_("时限"), on_delete=models.PROTECT, related_name="signals")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    step = models.PositiveIntegerField(_("序号"), help_text=_("提醒为提前分钟数，升级为第几次通知。"))
    rung = models.CharField(_("通知层级"), max_length=20, choices=EscalationRung.choices, blank=True)
    key = models.CharField(_("幂等键"), max_length=120, unique=True)
    planned_at = models.DateTimeField(_("计划时间"))
    created_at = models.DateTimeField(_("发出时间"), auto_now_add=True)
    recipients = models.JSONField(_("接收人"), default=list, blank=True)

    class Meta:
        verbose_name = _("时限提醒记录")
        verbose_name_plural = _("时限提醒记录")
        ordering = ["planned_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.deadline}"
