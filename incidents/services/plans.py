"""Emergency plans: the default drawn from the seed plans, revisions and activation.

A plan version that is active or superseded is frozen: incidents started under it keep it.
Changing a plan means copying it into a new draft, editing the draft and activating it.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.errors import DomainError
from incidents.models import (
    DeadlineRule,
    EmergencyPlan,
    HandlingCategory,
    IncidentType,
    Organization,
    ResponseGroup,
    WarningLevel,
)

DEFAULT_LEVELS = [
    # rank, name, colour, criteria, tier, requires_leader
    (
        1,
        "一级",
        "#cf1322",
        "涉及本单位的重大负面舆情，传播范围广、热度高，可能对单位形象和工作造成严重影响。",
        WarningLevel.Tier.SUPERIOR,
        True,
    ),
    (
        2,
        "二级",
        "#d46b08",
        "涉及本单位的较大负面舆情，可能对单位局部工作或形象造成一定影响。",
        WarningLevel.Tier.LEADERSHIP,
        True,
    ),
    (3, "三级", "#d4b106", "一般性舆情，影响范围有限，由责任部门依法依规处置。", WarningLevel.Tier.DEPARTMENT, False),
]

DEFAULT_CATEGORIES = [
    (
        HandlingCategory.Code.INQUIRY,
        "询问、置疑、诉求类",
        "安排相关部门依法依规办理、提出答复意见，经领导小组审定后统一回复；能当即回复的当即回复，"
        "需要一段时间办理的，当日回复处理意见并告知办理结果的具体时间。",
    ),
    (
        HandlingCategory.Code.HYPE,
        "恶意传播、炒作类",
        "依法告知事实真相或事件处置情况；造成重大负面影响、严重损失，或告知真相后仍继续恶意传播炒作的，"
        "商请执纪执法部门依纪依法查处。",
    ),
    (
        HandlingCategory.Code.FABRICATION,
        "捏造、歪曲、攻击、诽谤、违法类",
        "依法澄清事实真相；属内部人员的以说服教育为主，情节恶劣的按规定处理；属外部人员的商请执纪执法部门依纪依法查处。",
    ),
    (HandlingCategory.Code.CONSTRUCTIVE, "建设性意见类", "积极采纳建议，并按要求予以回复。"),
]

DEFAULT_TYPES = [
    "网络谣言、虚假信息",
    "网络暴力、网络诽谤",
    "网络安全事件",
    "个人信息泄露",
    "舆论引导不到位",
    "恶意炒作",
    "其他",
]

DEFAULT_RULES = [
    # name, kind, minutes, same_day, owner, reminders, categories
    ("口头报告", DeadlineRule.Kind.ORAL_REPORT, 30, False, ResponseGroup.Kind.OFFICE, [10, 2], []),
    ("书面报告", DeadlineRule.Kind.WRITTEN_REPORT, 90, False, ResponseGroup.Kind.OFFICE, [10, 2], []),
    ("公开回应", DeadlineRule.Kind.PUBLIC_RESPONSE, 180, False, ResponseGroup.Kind.PUBLICITY, [10, 2], []),
    (
        "当日答复诉求",
        DeadlineRule.Kind.REPLY,
        None,
        True,
        ResponseGroup.Kind.HANDLING,
        [60, 10],
        [HandlingCategory.Code.INQUIRY],
    ),
]

DEFAULT_GROUPS = [
    (
        ResponseGroup.Kind.LEADERSHIP,
        "网络舆情应急处置工作领导小组",
        "统一领导和指挥网络舆情应急处置工作；决定预警级别和启动预案；审定回应口径和报告；及时向上级主管部门报告。",
    ),
    (ResponseGroup.Kind.OFFICE, "领导小组办公室", "负责日常工作、信息汇总、报告起草和领导小组交办事项。"),
    (
        ResponseGroup.Kind.MONITORING,
        "舆情监测组",
        "对重点网站、论坛、微博、微信、客户端等进行日常监测，及时发现和报告舆情。",
    ),
    (ResponseGroup.Kind.ANALYSIS, "舆情研判组", "分析舆情的性质、影响范围和发展趋势，提出预警级别和处置建议。"),
    (
        ResponseGroup.Kind.HANDLING,
        "舆情处置组",
        "根据领导小组部署采取处置措施：答复、澄清、请求平台删除违法信息、协调相关部门。",
    ),
    (ResponseGroup.Kind.PUBLICITY, "宣传组", "起草并经审定后发布权威信息，回应社会关切，做好媒体沟通。"),
    (ResponseGroup.Kind.LEGAL, "法律援助组", "提供法律咨询和援助，依法移交公安、纪检监察等部门。"),
    (ResponseGroup.Kind.SUPPORT, "综合保障组", "提供人员、资金、物资和技术等保障。"),
]


def response_groups_create_default(*, organization: Organization) -> list[ResponseGroup]:
    """Create the plan's standard working groups for a unit (skips groups it already has)."""
    groups = []
    for kind, name, duties in DEFAULT_GROUPS:
        group, _created = ResponseGroup.objects.get_or_create(
            organization=organization, name=name, defaults={"kind": kind, "duties": duties}
        )
        groups.append(group)
    return groups


@transaction.atomic
def plan_create_default(*, organization: Organization, actor: Any = None) -> EmergencyPlan:
    """Create and activate the default plan drawn from the seed plans (version 1 if it is the first)."""
    version = (organization.plans.aggregate(v=Max("version"))["v"] or 0) + 1
    plan = EmergencyPlan.objects.create(
        organization=organization,
        version=version,
        title=_("%(unit)s网络舆情应急预案") % {"unit": organization.name},
        summary=_("为有效预防和妥善处置网络舆情突发事件，最大限度减少负面影响，制定本预案。"),
        created_by=actor,
    )
    levels = {}
    for rank, name, colour, criteria, tier, requires_leader in DEFAULT_LEVELS:
        levels[rank] = WarningLevel.objects.create(
            plan=plan,
            rank=rank,
            name=name,
            color=colour,
            criteria=criteria,
            response_tier=tier,
            requires_leader=requires_leader,
        )
    categories = {}
    for order, (code, name, measures) in enumerate(DEFAULT_CATEGORIES):
        categories[code] = HandlingCategory.objects.create(
            plan=plan, code=code, name=name, measures=measures, order=order
        )
    for order, name in enumerate(DEFAULT_TYPES):
        IncidentType.objects.create(plan=plan, name=name, order=order)
    for order, (name, kind, minutes, same_day, owner, reminders, rule_categories) in enumerate(DEFAULT_RULES):
        rule = DeadlineRule.objects.create(
            plan=plan,
            name=name,
            kind=kind,
            offset_minutes=minutes,
            same_day=same_day,
            owner_group_kind=owner,
            reminder_minutes=reminders,
            order=order,
        )
        rule.categories.set([categories[code] for code in rule_categories])
    plan_activate(plan=plan, actor=actor)
    return plan


@transaction.atomic
def plan_create_revision(*, plan: EmergencyPlan, actor: Any = None, change_note: str = "") -> EmergencyPlan:
    """Copy a plan version, with its levels, categories, types and rules, into a new draft."""
    organization = plan.organization
    if organization.plans.filter(status=EmergencyPlan.Status.DRAFT).exists():
        raise DomainError(_("本单位已有一份预案草稿，请先启用或删除它。"), code="draft_exists")
    version = (organization.plans.aggregate(v=Max("version"))["v"] or 0) + 1
    draft = EmergencyPlan.objects.create(
        organization=organization,
        version=version,
        title=plan.title,
        summary=plan.summary,
        same_day_cutoff=plan.same_day_cutoff,
        workday_end=plan.workday_end,
        based_on=plan,
        change_note=change_note,
        created_by=actor,
    )
    level_map = {}
    for level in plan.levels.all():
        old_pk = level.pk
        level.pk = None
        level.plan = draft
        level.save()
        level_map[old_pk] = level
    category_map = {}
    for category in plan.categories.all():
        old_pk = category.pk
        category.pk = None
        category.plan = draft
        category.save()
        category_map[old_pk] = category
    for incident_type in plan.incident_types.all():
        incident_type.pk = None
        incident_type.plan = draft
        incident_type.save()
    for rule in plan.deadline_rules.prefetch_related("levels", "categories"):
        level_ids = [level.pk for level in rule.levels.all()]
        category_ids = [category.pk for category in rule.categories.all()]
        rule.pk = None
        rule.plan = draft
        rule.save()
        rule.levels.set([level_map[pk] for pk in level_ids])
        rule.categories.set([category_map[pk] for pk in category_ids])
    return draft


def plan_validate(plan: EmergencyPlan) -> None:
    """Refuse a plan that could not run: no levels, or a rule that fails its own validation."""
    if not plan.levels.exists():
        raise DomainError(_("预案至少需要一个预警级别。"), field="levels")
    for rule in plan.deadline_rules.all():
        try:
            rule.full_clean(exclude=["plan"])
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise DomainError(
                _("时限规则“%(rule)s”：%(error)s") % {"rule": rule.name, "error": messages[0]}, field=field
            ) from exc


@transaction.atomic
def plan_activate(*, plan: EmergencyPlan, actor: Any = None) -> EmergencyPlan:
    """Make a draft the unit's active plan; the previous active version is superseded, not changed."""
    plan = EmergencyPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != EmergencyPlan.Status.DRAFT:
        raise DomainError(_("只有草稿可以启用。"), field="status")
    plan_validate(plan)
    EmergencyPlan.objects.filter(organization_id=plan.organization_id, status=EmergencyPlan.Status.ACTIVE).update(
        status=EmergencyPlan.Status.SUPERSEDED
    )
    plan.status = EmergencyPlan.Status.ACTIVE
    plan.activated_at = timezone.now()
    plan.save(update_fields=["status", "activated_at"])
    return plan
