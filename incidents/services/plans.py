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

from incidents.models import DeadlineRule, EmergencyPlan, HandlingCategory, IncidentType, WarningLevel
from incidents.models.plan import escalation_chain_errors
from opinion_ops.errors import DomainError
from organizations.models import Organization, ResponseGroup

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
        escalation_chain=list(plan.escalation_chain),
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
    chain_error = escalation_chain_errors(plan.escalation_chain)
    if chain_error:
        raise DomainError(chain_error, field="escalation_chain")
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
