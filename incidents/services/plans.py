"""Emergency plans: the default drawn from the seed plans, revisions, editing a draft and activation.

A plan version that is active or superseded is frozen: incidents started under it keep it.
Changing a plan means copying it into a new draft, editing the draft and activating it.

With an `actor` (单位设置, the API, the operators' admin) every write asks organizations.policies
("manage_plans") for the plan's unit, finds rows only within the actor's own unit (another unit's
id reads as "not found") and writes its audit entry in the same transaction. Without an actor
(setting up a unit, load_demo, tests) nothing is checked or audited. Locks are taken in one
order: the unit, then the plan version, then its parts.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.stepup import second_factor_require
from incidents.models import DeadlineRule, EmergencyPlan, HandlingCategory, IncidentType, WarningLevel
from incidents.models.plan import escalation_chain_errors
from opinion_ops.errors import DomainError
from organizations.audit import audit_record, changed, snapshot
from organizations.models import Organization, ResponseGroup
from organizations.policies import unit_require
from organizations.roles import user_organization_id

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


HEADER_FIELDS = (
    "title",
    "summary",
    "same_day_cutoff",
    "workday_end",
    "escalation_chain",
    "four_eyes",
    "legal_review",
    "drill_interval_months",
    "change_note",
)
TEXT_LIMITS = {"summary": 20000, "change_note": 2000, "criteria": 5000, "measures": 5000}
RELATED_FIELDS = ("levels", "categories")  # a deadline rule's levels and categories, by id


@dataclass(frozen=True)
class PartKind:
    """One kind of row of a plan version: its model, the plan's name for its rows, the fields a
    plan administrator edits."""

    model: type[models.Model]
    related_name: str
    fields: tuple[str, ...]


PART_KINDS: dict[str, PartKind] = {
    "levels": PartKind(
        WarningLevel, "levels", ("rank", "name", "color", "criteria", "response_tier", "requires_leader")
    ),
    "categories": PartKind(HandlingCategory, "categories", ("code", "name", "measures", "order")),
    "types": PartKind(IncidentType, "incident_types", ("name", "order")),
    "rules": PartKind(
        DeadlineRule,
        "deadline_rules",
        (
            "name",
            "kind",
            "anchor",
            "offset_minutes",
            "same_day",
            "levels",
            "categories",
            "owner_group_kind",
            "reminder_minutes",
            "escalation_interval_minutes",
            "order",
        ),
    ),
}


# --- snapshots and checks shared by the writers


def _clock(value: Any) -> str:
    return value.strftime("%H:%M") if isinstance(value, datetime.time) else str(value)[:5]


def _plan_snapshot(plan: EmergencyPlan) -> dict[str, Any]:
    values = snapshot(plan, ("version", "status", *(f for f in HEADER_FIELDS if f != "workday_end"))) or {}
    values["workday_end"] = _clock(plan.workday_end)
    return values


def _part_snapshot(kind: str, part: Any, related: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    fields = PART_KINDS[kind].fields
    values = snapshot(part, [f for f in fields if f not in RELATED_FIELDS]) or {}
    for field in RELATED_FIELDS:
        if field in fields:
            rows = (related or {}).get(field)
            if rows is None:
                rows = list(getattr(part, field).all()) if part.pk is not None else []
            values[field] = [str(row) for row in rows]
    return values


def _part_names(plan: EmergencyPlan, kind: str) -> list[str]:
    return [str(part) for part in getattr(plan, PART_KINDS[kind].related_name).all()]


def _labels(model: type[models.Model], names: Iterable[str]) -> str:
    return "、".join(str(model._meta.get_field(name).verbose_name) for name in names)  # type: ignore[union-attr]


def _not_found(what: str) -> DomainError:
    return DomainError(_("%(what)s不存在。") % {"what": what}, code="not_found")


def _validation_error(exc: ValidationError) -> DomainError:
    """The first problem full_clean found, on the field it names."""
    field, messages = next(iter(exc.message_dict.items()))
    return DomainError(messages[0], field=None if field == NON_FIELD_ERRORS else field)


def _full_clean(instance: models.Model, exclude: list[str]) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise _validation_error(exc) from exc


def _assign(instance: models.Model, name: str, value: Any) -> None:
    """Set one edited field: text trimmed and within its limit, a required value present."""
    field = instance._meta.get_field(name)
    label = str(field.verbose_name)  # type: ignore[union-attr]
    if isinstance(value, str):
        value = value.strip()
        limit = TEXT_LIMITS.get(name)
        if limit is not None and len(value) > limit:
            raise DomainError(_("%(label)s不超过 %(n)s 个字符。") % {"label": label, "n": limit}, field=name)
    required = not getattr(field, "blank", True) and not isinstance(field, models.BooleanField)
    if (value is None and not getattr(field, "null", False)) or (required and value in ("", None)):
        raise DomainError(_("请填写%(label)s。") % {"label": label}, field=name)
    setattr(instance, name, value)


def _refuse_unknown(fields: Iterable[str], allowed: Iterable[str]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise DomainError(_("不能修改字段：%(fields)s") % {"fields": ", ".join(unknown)}, field=unknown[0])


def _plan_locked(actor: Any, plan_id: int) -> EmergencyPlan:
    """The version with that id, locked, in the actor's own unit (any unit for set-up code and
    operators); permission is asked before looking, so a refusal says nothing about other units."""
    plans = EmergencyPlan.objects.select_for_update()
    if actor is not None and not getattr(actor, "is_superuser", False):
        organization_id = user_organization_id(actor)
        unit_require("manage_plans", actor, organization_id)
        assert organization_id is not None  # unit_require refuses anyone without a unit
        plans = plans.filter(organization_id=organization_id)
    plan = plans.filter(pk=plan_id).first()
    if plan is None:
        raise _not_found(_("预案版本"))
    if actor is not None:
        unit_require("manage_plans", actor, plan.organization_id)
    return plan


def _draft_locked(actor: Any, plan_id: int) -> EmergencyPlan:
    plan = _plan_locked(actor, plan_id)
    if not plan.is_editable:
        raise DomainError(
            _("第 %(version)s 版是%(status)s版本，已经冻结，不能修改；如需调整，请创建修订草稿。")
            % {"version": plan.version, "status": plan.get_status_display()},
            code="plan_frozen",
        )
    return plan


# --- creating, revising, activating


@transaction.atomic
def plan_create_default(*, organization: Organization, actor: Any = None) -> EmergencyPlan:
    """Create and activate the default plan drawn from the seed plans (version 1 if it is the first)."""
    if actor is not None:
        unit_require("manage_plans", actor, organization.pk)
        second_factor_require(actor)
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    version = (organization.plans.aggregate(v=Max("version"))["v"] or 0) + 1
    plan = EmergencyPlan.objects.create(
        organization=organization,
        version=version,
        title=_("%(unit)s网络舆情应急预案") % {"unit": organization.name},
        summary=_("为有效预防和妥善处置网络舆情突发事件，最大限度减少负面影响，制定本预案。"),
        created_by=actor if getattr(actor, "pk", None) else None,
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
    if actor is not None:
        audit_record(
            organization=organization,
            actor=actor,
            action="plan.create_default",
            target=plan,
            summary=_("按预案范本创建第 %(version)s 版") % {"version": plan.version},
            after=_plan_snapshot(plan),
        )
    _activate(plan, actor)
    return plan


@transaction.atomic
def plan_create_revision(
    *, plan: EmergencyPlan, actor: Any = None, change_note: str = "", source_review: Any = None
) -> EmergencyPlan:
    """Copy a plan version, with its levels, categories, types and rules, into a new draft: the
    unit's only draft (a unit revises one draft at a time)."""
    if actor is not None:
        unit_require("manage_plans", actor, plan.organization_id)
    change_note = str(change_note or "").strip()
    if len(change_note) > TEXT_LIMITS["change_note"]:
        raise DomainError(_("修订说明不超过 %(n)s 个字符。") % {"n": TEXT_LIMITS["change_note"]}, field="change_note")
    organization = Organization.objects.select_for_update().get(pk=plan.organization_id)
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
        four_eyes=plan.four_eyes,
        legal_review=plan.legal_review,
        drill_interval_months=plan.drill_interval_months,
        based_on=plan,
        change_note=change_note,
        source_review=source_review,
        created_by=actor if getattr(actor, "pk", None) else None,
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
    if actor is not None:
        audit_record(
            organization=organization,
            actor=actor,
            action="plan.draft",
            target=draft,
            summary=_("创建预案修订草稿第 %(version)s 版（以第 %(base)s 版为底稿）")
            % {"version": draft.version, "base": plan.version},
            after={
                **_plan_snapshot(draft),
                "based_on": plan.version,
                **({"source_review": source_review.incident.reference} if source_review is not None else {}),
            },
        )
    return draft


@transaction.atomic
def plan_revision_from_review(*, actor: Any, review_id: int) -> EmergencyPlan:
    """Turn a 总结评估's 预案修订建议 into the unit's plan draft in one step: a copy of the active
    version whose change note quotes the suggestion and which names the review it came from (the
    plan's history shows it). Only the plan's administrators; only a review of their own unit."""
    from incidents.models import Review

    organization_id = user_organization_id(actor)
    unit_require("manage_plans", actor, organization_id)
    assert organization_id is not None  # unit_require refuses anyone without a unit
    review = (
        Review.objects.select_related("incident")
        .filter(pk=review_id, incident__organization_id=organization_id)
        .first()
    )
    if review is None:
        raise _not_found(_("总结评估"))
    suggestion = review.plan_suggestions.strip()
    if not suggestion:
        raise DomainError(_("这份总结评估没有预案修订建议。"), field="plan_suggestions")
    active = EmergencyPlan.objects.filter(organization_id=organization_id, status=EmergencyPlan.Status.ACTIVE).first()
    if active is None:
        raise DomainError(_("本单位还没有现行预案，无法据此修订。"), code="no_active_plan")
    note = _("根据 %(ref)s 的总结评估修订：%(suggestion)s") % {
        "ref": review.incident.reference,
        "suggestion": suggestion,
    }
    return plan_create_revision(
        plan=active, actor=actor, change_note=note[: TEXT_LIMITS["change_note"]], source_review=review
    )


def plan_problems(plan: EmergencyPlan) -> list[DomainError]:
    """Every reason the plan could not run, in the order a plan administrator fixes them (reads the
    plan's prefetched parts when the caller loaded them)."""
    problems = []
    if not list(plan.levels.all()):
        problems.append(DomainError(_("预案至少需要一个预警级别。"), field="levels"))
    chain_error = escalation_chain_errors(plan.escalation_chain)
    if chain_error:
        problems.append(DomainError(chain_error, field="escalation_chain"))
    for rule in plan.deadline_rules.all():
        try:
            rule.full_clean(exclude=["plan"])
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            problems.append(
                DomainError(_("时限规则“%(rule)s”：%(error)s") % {"rule": rule.name, "error": messages[0]}, field=field)
            )
    return problems


def plan_validate(plan: EmergencyPlan) -> None:
    """Refuse a plan that could not run: no levels, a broken escalation chain, or a rule that fails
    its own validation (the first such reason)."""
    problems = plan_problems(plan)
    if problems:
        raise problems[0]


@transaction.atomic
def plan_activate(*, plan: EmergencyPlan, actor: Any = None) -> EmergencyPlan:
    """Make a draft the unit's active plan; the previous active version is superseded, not changed.
    New incidents start under it; incidents already open keep the version they started under.
    With an actor: an administrator of the plan's unit who verified a second factor recently."""
    if actor is not None:
        unit_require("manage_plans", actor, plan.organization_id)
        second_factor_require(actor)
    return _activate(plan, actor)


ActivationHook = Callable[[EmergencyPlan, Any], None]
_ACTIVATION_HOOKS: list[ActivationHook] = []


def activation_hook_register(hook: ActivationHook) -> None:
    """Have `hook(plan, actor)` run each time a draft becomes the active plan: inside the activation's
    transaction, after the status change, so a refusal it raises undoes the activation too. How a
    capability app keeps unit configuration in step with the plan (plan_import: the working groups of
    an imported plan) without incidents importing it. Registering the same function again is a no-op."""
    if hook not in _ACTIVATION_HOOKS:
        _ACTIVATION_HOOKS.append(hook)


def _activate(plan: EmergencyPlan, actor: Any) -> EmergencyPlan:
    Organization.objects.select_for_update().filter(pk=plan.organization_id).first()
    plan = EmergencyPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != EmergencyPlan.Status.DRAFT:
        raise DomainError(_("只有草稿可以启用。"), field="status")
    plan_validate(plan)
    previous = (
        EmergencyPlan.objects.select_for_update()
        .filter(organization_id=plan.organization_id, status=EmergencyPlan.Status.ACTIVE)
        .first()
    )
    if previous is not None:
        previous.status = EmergencyPlan.Status.SUPERSEDED
        previous.save(update_fields=["status"])
    plan.status = EmergencyPlan.Status.ACTIVE
    plan.activated_at = timezone.now()
    plan.save(update_fields=["status", "activated_at"])
    if actor is not None:
        old = previous.version if previous is not None else None
        if old is None:
            summary = _("启用预案第 %(version)s 版") % {"version": plan.version}
        else:
            summary = _("启用预案第 %(version)s 版，第 %(old)s 版同时废止") % {"version": plan.version, "old": old}
        audit_record(
            organization=plan.organization_id,
            actor=actor,
            action="plan.activate",
            target=plan,
            summary=summary,
            before={"active_version": old, "version": plan.version, "status": EmergencyPlan.Status.DRAFT.value},
            after={"active_version": plan.version, "superseded_version": old, "activated_at": plan.activated_at},
        )
    for hook in _ACTIVATION_HOOKS:
        hook(plan, actor)
    return plan


# --- editing a draft


@transaction.atomic
def plan_draft_update(*, actor: Any, plan_id: int, **changes: Any) -> EmergencyPlan:
    """Change the header of a draft (title, summary, the same-day cutoff, the escalation chain, the
    four-eyes and legal-review settings, the change note); nothing is saved unless every field is valid."""
    _refuse_unknown(changes, HEADER_FIELDS)
    plan = _draft_locked(actor, plan_id)
    before = _plan_snapshot(plan)
    if "escalation_chain" in changes:
        chain_error = escalation_chain_errors(changes["escalation_chain"])
        if chain_error:
            raise DomainError(chain_error, field="escalation_chain")
    for name, value in changes.items():
        if name in ("four_eyes", "legal_review"):
            value = bool(value)
        _assign(plan, name, value)
    _full_clean(plan, exclude=["organization", "version", "status", "based_on", "created_by", "activated_at"])
    after = _plan_snapshot(plan)
    fields = changed(before, after)
    if not fields:
        return plan
    plan.save(update_fields=fields)
    if actor is not None:
        audit_record(
            organization=plan.organization_id,
            actor=actor,
            action="plan.draft_update",
            target=plan,
            summary=_("修改预案草稿第 %(version)s 版：%(fields)s")
            % {"version": plan.version, "fields": _labels(EmergencyPlan, fields)},
            before={name: before[name] for name in fields},
            after={name: after[name] for name in fields},
        )
    return plan


def _related_rows(plan: EmergencyPlan, field: str, ids: Any) -> list[Any]:
    model: type[WarningLevel] | type[HandlingCategory] = WarningLevel if field == "levels" else HandlingCategory
    what = str(model._meta.verbose_name)
    message = _("所选%(what)s须是本草稿中的%(what)s。") % {"what": what}
    if not isinstance(ids, list | tuple | set | frozenset):
        raise DomainError(message, field=field)
    try:
        wanted = {int(pk) for pk in ids}
    except (TypeError, ValueError) as exc:
        raise DomainError(message, field=field) from exc
    rows = list(model.objects.filter(plan=plan, pk__in=wanted))
    if len(rows) != len(wanted):
        raise DomainError(message, field=field)
    return rows


def _check_unique(kind: str, part: Any) -> None:
    spec = PART_KINDS[kind]
    siblings = spec.model._default_manager.filter(plan_id=part.plan_id)
    if part.pk is not None:
        siblings = siblings.exclude(pk=part.pk)
    what = str(spec.model._meta.verbose_name)
    if siblings.filter(name=part.name).exists():
        raise DomainError(_("本草稿已有名为“%(name)s”的%(what)s。") % {"name": part.name, "what": what}, field="name")
    if kind == "levels" and siblings.filter(rank=part.rank).exists():
        raise DomainError(_("本草稿已有严重程度为 %(rank)s 的级别。") % {"rank": part.rank}, field="rank")


def _part_locked(plan: EmergencyPlan, kind: str, part_id: int) -> Any:
    spec = PART_KINDS[kind]
    part = spec.model._default_manager.select_for_update().filter(pk=part_id, plan=plan).first()
    if part is None:
        raise _not_found(str(spec.model._meta.verbose_name))
    return part


def _part_kind(kind: str) -> PartKind:
    spec = PART_KINDS.get(kind)
    if spec is None:
        raise _not_found(_("预案内容"))
    return spec


@transaction.atomic
def plan_part_save(*, actor: Any, plan_id: int, kind: str, values: dict[str, Any], part_id: int | None = None) -> Any:
    """Add a level, handling category, incident type or deadline rule to a draft (`part_id` None)
    or change one of its rows. Every field is checked by the model's own validation and a rule's
    levels and categories must be the draft's own; a refusal names the field and saves nothing."""
    spec = _part_kind(kind)
    _refuse_unknown(values, spec.fields)
    plan = _draft_locked(actor, plan_id)
    part = _part_locked(plan, kind, part_id) if part_id is not None else spec.model(plan=plan)
    before = _part_snapshot(kind, part) if part_id is not None else None
    related: dict[str, list[Any]] = {}
    for name, value in values.items():
        if name in RELATED_FIELDS:
            related[name] = _related_rows(plan, name, value)
        else:
            _assign(part, name, value)
    _full_clean(part, exclude=["plan"])
    _check_unique(kind, part)
    after = _part_snapshot(kind, part, related)
    if before == after:
        return part
    part.save()
    for name, rows in related.items():
        getattr(part, name).set(rows)
    if actor is not None:
        what = str(spec.model._meta.verbose_name)
        if before is None:
            summary = _("预案草稿第 %(version)s 版：新增%(what)s“%(name)s”")
        else:
            summary = _("预案草稿第 %(version)s 版：修改%(what)s“%(name)s”（%(fields)s）")
        fields = changed(before, after)
        audit_record(
            organization=plan.organization_id,
            actor=actor,
            action="plan.part_create" if before is None else "plan.part_update",
            target=plan,
            summary=summary
            % {"version": plan.version, "what": what, "name": part, "fields": _labels(spec.model, fields)},
            before={"kind": kind, **{name: before[name] for name in fields}} if before is not None else None,
            after={"kind": kind, **(after if before is None else {name: after[name] for name in fields})},
        )
    return part


@transaction.atomic
def plan_part_delete(*, actor: Any, plan_id: int, kind: str, part_id: int) -> None:
    """Remove a row from a draft. A level or category that a deadline rule is limited to stays until
    the rule no longer names it: removing it would silently widen the rule to every level."""
    spec = _part_kind(kind)
    plan = _draft_locked(actor, plan_id)
    part = _part_locked(plan, kind, part_id)
    what = str(spec.model._meta.verbose_name)
    if kind in RELATED_FIELDS:
        rules = list(plan.deadline_rules.filter(**{kind: part}).values_list("name", flat=True))
        if rules:
            raise DomainError(
                _("时限规则“%(rules)s”适用于该%(what)s，请先在这些规则中取消勾选，再删除。")
                % {"rules": "”“".join(rules), "what": what},
                field=kind,
            )
    before = {"kind": kind, **_part_snapshot(kind, part)}
    try:
        with transaction.atomic():
            part.delete()
    except ProtectedError as exc:
        raise DomainError(_("该%(what)s已被引用，不能删除。") % {"what": what}) from exc
    if actor is not None:
        audit_record(
            organization=plan.organization_id,
            actor=actor,
            action="plan.part_delete",
            target=plan,
            summary=_("预案草稿第 %(version)s 版：删除%(what)s“%(name)s”")
            % {"version": plan.version, "what": what, "name": before.get("name", part)},
            before=before,
        )


@transaction.atomic
def plan_draft_delete(*, actor: Any, plan_id: int) -> None:
    """Discard a draft with its parts (a unit has one draft at a time: a stale one blocks every new
    revision). Active and superseded versions are the record incidents were handled under: never."""
    plan = _plan_locked(actor, plan_id)
    if not plan.is_editable:
        raise DomainError(
            _("只能删除草稿；第 %(version)s 版是%(status)s版本，作为事件处置的依据永久保留。")
            % {"version": plan.version, "status": plan.get_status_display()},
            code="plan_frozen",
        )
    before = {
        **_plan_snapshot(plan),
        "based_on": plan.based_on.version if plan.based_on_id else None,  # type: ignore[union-attr]
        **{kind: _part_names(plan, kind) for kind in PART_KINDS},
    }
    try:
        with transaction.atomic():
            plan.delete()
    except ProtectedError as exc:
        raise DomainError(_("该草稿已被引用，不能删除。")) from exc
    if actor is not None:
        audit_record(
            organization=plan.organization_id,
            actor=actor,
            action="plan.draft_delete",
            target_type="emergencyplan",
            summary=_("删除预案草稿第 %(version)s 版（%(title)s）")
            % {"version": before["version"], "title": before["title"]},
            before=before,
        )
