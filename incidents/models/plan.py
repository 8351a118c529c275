from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization, ResponseGroup

MAX_DEADLINE_MINUTES = 30 * 24 * 60  # a plan clock longer than 30 days is a typo, not a deadline


class EscalationRung(models.TextChoices):
    """The rungs a missed clock climbs (逐级报告), in the order a plan lists them."""

    OWNER = "owner", _("责任人")
    GROUP_HEAD = "group_head", _("责任工作组组长、副组长")
    OFFICE = "office", _("领导小组办公室")
    LEADERSHIP = "leadership", _("领导小组")
    SUPERIOR = "superior", _("上级主管部门")


DEFAULT_ESCALATION_CHAIN = [
    EscalationRung.OWNER.value,
    EscalationRung.GROUP_HEAD.value,
    EscalationRung.LEADERSHIP.value,
    EscalationRung.SUPERIOR.value,
]


def default_escalation_chain() -> list[str]:
    return list(DEFAULT_ESCALATION_CHAIN)


def escalation_chain_errors(chain: object) -> str | None:
    """Why a plan's escalation chain could not run, or None: it starts with the owner, names each
    rung once, and the superior unit, if there, comes last."""
    codes = EscalationRung.values
    if not isinstance(chain, list) or not chain or not all(isinstance(code, str) for code in chain):
        return str(_("逐级上报顺序须为非空列表，例如 %(example)s。") % {"example": DEFAULT_ESCALATION_CHAIN})
    unknown = [code for code in chain if code not in codes]
    if unknown:
        return str(
            _("未知的上报层级：%(codes)s（可选：%(all)s）。") % {"codes": ", ".join(unknown), "all": ", ".join(codes)}
        )
    if chain[0] != EscalationRung.OWNER:
        return str(_("逐级上报须从责任人开始。"))
    if len(set(chain)) != len(chain):
        return str(_("每个上报层级只能出现一次。"))
    if EscalationRung.SUPERIOR in chain and chain[-1] != EscalationRung.SUPERIOR:
        return str(_("上级主管部门须是最后一级。"))
    return None


class EmergencyPlan(models.Model):
    """One version of a unit's plan. Active and superseded versions are frozen; edits make a new draft."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ACTIVE = "active", _("现行")
        SUPERSEDED = "superseded", _("已废止")

    class SameDayCutoff(models.TextChoices):
        END_OF_WORKDAY = "workday", _("当日下班前")
        END_OF_DAY = "midnight", _("当日 23:59 前")

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="plans"
    )
    version = models.PositiveIntegerField(_("版本号"))
    title = models.CharField(_("预案名称"), max_length=200)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    summary = models.TextField(_("总则与适用范围"), blank=True)
    same_day_cutoff = models.CharField(
        _("“当日答复”截止"), max_length=10, choices=SameDayCutoff.choices, default=SameDayCutoff.END_OF_WORKDAY
    )
    workday_end = models.TimeField(_("下班时间"), default="17:30")
    escalation_chain = models.JSONField(
        _("逐级上报顺序"),
        default=default_escalation_chain,
        help_text=_(
            "时限逾期后依次通知的层级，每个间隔上升一级，每级只通知一次。可选：owner（责任人）、"
            "group_head（责任工作组组长、副组长）、office（领导小组办公室）、leadership（领导小组）、"
            "superior（上级主管部门，仅在已上报或级别要求上级处置时）。"
        ),
    )
    four_eyes = models.BooleanField(
        _("审定回避（四眼原则）"),
        default=False,
        help_text=_(
            "开启后，审定回应稿的领导不能是该稿的起草人或所审版本的撰写人，审阅书面报告的领导不能是"
            "报告人：起草和审定、报告和审阅须由两个人完成。"
        ),
    )
    legal_review = models.BooleanField(
        _("法律审核"),
        default=False,
        help_text=_("开启后，回应稿提交后先由法律援助组审核，审核通过再送领导小组审定；法律援助组可退回修改。"),
    )
    drill_interval_months = models.PositiveSmallIntegerField(
        _("演练周期（月）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("每 N 个月至少开展一次应急演练；留空表示预案未规定。"),
    )
    based_on = models.ForeignKey(
        "self", verbose_name=_("修订自"), null=True, blank=True, on_delete=models.PROTECT, related_name="revisions"
    )
    change_note = models.TextField(_("修订说明"), blank=True)
    # The 总结评估 whose 预案修订建议 this version was drafted from (a lesson fed back into the plan).
    source_review = models.ForeignKey(
        "incidents.Review",
        verbose_name=_("依据的总结评估"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plan_drafts",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("应急预案")
        verbose_name_plural = _("应急预案")
        ordering = ["organization", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="plan_version_unique"),
            models.UniqueConstraint(
                fields=["organization"], condition=models.Q(status="active"), name="one_active_plan_per_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（第 {self.version} 版）"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    def clean(self) -> None:
        error = escalation_chain_errors(self.escalation_chain)
        if error:
            raise ValidationError({"escalation_chain": error})


class PlanPart(models.Model):
    """Common base of the rows that belong to one plan version."""

    plan = models.ForeignKey(EmergencyPlan, verbose_name=_("预案"), on_delete=models.CASCADE)

    class Meta:
        abstract = True


class WarningLevel(PlanPart):
    class Tier(models.TextChoices):
        DEPARTMENT = "department", _("责任部门处置")
        LEADERSHIP = "leadership", _("领导小组处置")
        SUPERIOR = "superior", _("上级主管部门处置")

    plan = models.ForeignKey(EmergencyPlan, verbose_name=_("预案"), on_delete=models.CASCADE, related_name="levels")
    rank = models.PositiveSmallIntegerField(
        _("严重程度"), validators=[MinValueValidator(1), MaxValueValidator(9)], help_text=_("1 为最严重。")
    )
    name = models.CharField(_("名称"), max_length=30)
    color = models.CharField(
        _("颜色"),
        max_length=7,
        default="#d4380d",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("颜色须为 #RRGGBB 格式。"))],
    )
    criteria = models.TextField(_("判定标准"), blank=True)
    response_tier = models.CharField(_("响应层级"), max_length=12, choices=Tier.choices, default=Tier.DEPARTMENT)
    requires_leader = models.BooleanField(_("须由领导小组发布"), default=True)

    class Meta:
        verbose_name = _("预警级别")
        verbose_name_plural = _("预警级别")
        ordering = ["plan", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "rank"], name="level_rank_unique"),
            models.UniqueConstraint(fields=["plan", "name"], name="level_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class HandlingCategory(PlanPart):
    """The four handling categories of 分类处置, each with its standard measures."""

    class Code(models.TextChoices):
        INQUIRY = "inquiry", _("询问、置疑、诉求类")
        HYPE = "hype", _("恶意传播、炒作类")
        FABRICATION = "fabrication", _("捏造、歪曲、攻击、诽谤、违法类")
        CONSTRUCTIVE = "constructive", _("建设性意见类")
        OTHER = "other", _("其他")

    plan = models.ForeignKey(EmergencyPlan, verbose_name=_("预案"), on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(_("类别代码"), max_length=20, choices=Code.choices)
    name = models.CharField(_("名称"), max_length=60)
    measures = models.TextField(_("标准处置措施"), blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("处置类别")
        verbose_name_plural = _("处置类别")
        ordering = ["plan", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="category_name_unique")]

    def __str__(self) -> str:
        return self.name


class IncidentType(PlanPart):
    plan = models.ForeignKey(
        EmergencyPlan, verbose_name=_("预案"), on_delete=models.CASCADE, related_name="incident_types"
    )
    name = models.CharField(_("名称"), max_length=60)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("舆情类型")
        verbose_name_plural = _("舆情类型")
        ordering = ["plan", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="type_name_unique")]

    def __str__(self) -> str:
        return self.name


class DeadlineRule(PlanPart):
    """A clock of the plan: what must happen, by when, counted from which moment, for which incidents."""

    class Kind(models.TextChoices):
        ORAL_REPORT = "oral_report", _("口头报告")
        WRITTEN_REPORT = "written_report", _("书面报告")
        PUBLIC_RESPONSE = "public_response", _("公开回应")
        REPLY = "reply", _("答复诉求")
        OTHER = "other", _("其他")

    class Anchor(models.TextChoices):
        DISCOVERED = "discovered", _("发现时间")
        LOGGED = "logged", _("登记时间")
        WARNING = "warning", _("发布预警时间")

    plan = models.ForeignKey(
        EmergencyPlan, verbose_name=_("预案"), on_delete=models.CASCADE, related_name="deadline_rules"
    )
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("事项"), max_length=20, choices=Kind.choices)
    anchor = models.CharField(_("起算时间"), max_length=12, choices=Anchor.choices, default=Anchor.DISCOVERED)
    offset_minutes = models.PositiveIntegerField(
        _("时限（分钟）"), null=True, blank=True, help_text=_("留空并勾选“当日答复”表示当日内完成。")
    )
    same_day = models.BooleanField(_("当日答复"), default=False)
    levels = models.ManyToManyField(
        WarningLevel, verbose_name=_("适用级别"), blank=True, help_text=_("不选表示适用所有级别（含未定级）。")
    )
    categories = models.ManyToManyField(
        HandlingCategory, verbose_name=_("适用处置类别"), blank=True, help_text=_("不选表示适用所有类别。")
    )
    owner_group_kind = models.CharField(
        _("责任工作组"), max_length=20, choices=ResponseGroup.Kind.choices, default=ResponseGroup.Kind.OFFICE
    )
    reminder_minutes = models.JSONField(
        _("提前提醒（分钟）"), default=list, blank=True, help_text=_("例如 [10, 2] 表示到期前 10 分钟和 2 分钟提醒。")
    )
    escalation_interval_minutes = models.PositiveIntegerField(
        _("逾期升级间隔（分钟）"), default=15, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering = ["plan", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="deadline_rule_name_unique")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.same_day:
            if self.offset_minutes is not None:
                errors["offset_minutes"] = _("“当日答复”规则不填写分钟时限。")
        elif self.offset_minutes is None:
            errors["offset_minutes"] = _("请填写时限（分钟），或勾选“当日答复”。")
        elif not 1 <= self.offset_minutes <= MAX_DEADLINE_MINUTES:
            errors["offset_minutes"] = _("时限须在 1 分钟到 30 天（43200 分钟）之间。")
        reminders = self.reminder_minutes
        if not isinstance(reminders, list) or not all(
            isinstance(m, int) and not isinstance(m, bool) for m in reminders
        ):
            errors["reminder_minutes"] = _("提前提醒须为整数分钟列表，例如 [10, 2]。")
        elif any(m < 1 or m > MAX_DEADLINE_MINUTES for m in reminders):
            errors["reminder_minutes"] = _("每个提醒须在到期前 1 分钟到 30 天之间。")
        elif self.offset_minutes is not None and any(m >= self.offset_minutes for m in reminders):
            errors["reminder_minutes"] = _("提醒时间须早于时限本身（小于时限分钟数）。")
        elif len(set(reminders)) != len(reminders):
            errors["reminder_minutes"] = _("提醒时间不能重复。")
        if errors:
            raise ValidationError(errors)
