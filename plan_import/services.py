"""Importing a unit's existing plan: store what the rules found in its text, let the unit's
administrator correct or drop each item and turn the kept items into the unit's one plan draft
(plan_import.items holds what an item may contain; plan_import.groups brings the unit's working
groups in line with the plan when that draft is activated).

Every write takes an `actor` and asks organizations.policies ("manage_plans") for the unit, finds
imports only within the actor's own unit (another unit's import reads as "not found") and writes its
audit entry in the same transaction. Without an actor (`manage.py plan_import`, set-up code) nothing
is checked or audited, as in incidents.services.plans. Locks are taken in the plans' order: the unit,
then the import (then the plan version and its parts, inside incidents.services.plans).

The invariant the draft relies on: every kept item has values that pass `item_values_check`. An item
whose values the rules could not make valid is stored dropped, with the reason in its note."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from incidents.models import DeadlineRule, EmergencyPlan, HandlingCategory, IncidentType, WarningLevel
from incidents.models.plan import default_escalation_chain
from incidents.services.plans import plan_create_revision
from opinion_ops.errors import DomainError
from organizations.audit import audit_record
from organizations.models import Organization, ResponseGroup
from organizations.policies import unit_require
from organizations.roles import user_organization_id
from plan_import.extract import extract, extraction_refusal
from plan_import.findings import (
    CATEGORY,
    CHAIN,
    CLOCK,
    DRILL,
    INCIDENT_TYPE,
    KINDS,
    LEVEL,
)
from plan_import.items import (
    CLOCK_OWNERS,
    KIND_COUNTS,
    KIND_LABELS,
    LEVEL_COLOURS,
    OTHER_LEVEL_COLOUR,
    SOURCE_LIMIT,
    VALUE_KEYS,
    import_items,
    item_label,
    item_values_check,
    kept_items,
)
from plan_import.models import PlanImport
from plan_import.reader import plan_text_check

Status = PlanImport.Status


def _not_found() -> DomainError:
    return DomainError(_("预案导入记录不存在。"), code="not_found")


# --- reads


def import_counts(plan_import: PlanImport) -> dict[str, int]:
    """The number of kept items of each kind, in the order of KINDS."""
    counts = dict.fromkeys(KINDS, 0)
    for item in plan_import.items:
        if item.get("keep") and item.get("kind") in counts:
            counts[item["kind"]] += 1
    return counts


def counts_words(counts: dict[str, int]) -> str:
    """识别出 6 个工作组、3 个预警级别 …: only the kinds with items."""
    parts = [KIND_COUNTS[kind] % {"n": n} for kind, n in counts.items() if n and kind in KIND_COUNTS]
    if not parts:
        return _("没有保留任何识别结果")
    return _("识别出 %(parts)s") % {"parts": _("、").join(parts)}  # a list separator: ", " in English


def plan_imports_recent(organization_id: int, limit: int = 10) -> list[PlanImport]:
    return list(
        PlanImport.objects.filter(organization_id=organization_id)
        .select_related("created_by", "plan")
        .defer("text", "summary")[:limit]
    )


def can_draft(plan_import: PlanImport) -> bool:
    """Under review, or drafted once and that draft since deleted."""
    return plan_import.status == Status.REVIEW or (plan_import.status == Status.DRAFTED and plan_import.plan_id is None)


# --- writes


def _import_locked(actor: Any, import_id: Any) -> PlanImport:
    """The import with that id, locked after its unit, in the actor's own unit (any unit for set-up
    code and operators); permission is asked before looking."""
    imports = PlanImport.objects.all()
    if actor is not None and not getattr(actor, "is_superuser", False):
        organization_id = user_organization_id(actor)
        unit_require("manage_plans", actor, organization_id)
        assert organization_id is not None  # unit_require refuses anyone without a unit
        imports = imports.filter(organization_id=organization_id)
    if not isinstance(import_id, int) or isinstance(import_id, bool):
        raise _not_found()
    found = imports.filter(pk=import_id).values_list("organization_id", flat=True).first()
    if found is None:
        raise _not_found()
    if actor is not None:
        unit_require("manage_plans", actor, found)
    Organization.objects.select_for_update().filter(pk=found).first()
    return PlanImport.objects.select_for_update().get(pk=import_id)


def _refuse_closed(plan_import: PlanImport) -> None:
    if plan_import.status != Status.REVIEW:
        raise DomainError(
            _("本次导入%(status)s，不能再修改识别结果。") % {"status": plan_import.get_status_display()},
            code="import_closed",
        )


@transaction.atomic
def plan_import_create(
    *, actor: Any, organization_id: int, source_name: str, text: str, field: str = "text"
) -> PlanImport:
    """Read the plan's text with the extraction rules and keep what they found for review. A text
    that is not a plan (no item found, or what extraction_refusal says) is refused on `field` ("file"
    or "text") and nothing is stored."""
    if actor is not None:
        unit_require("manage_plans", actor, organization_id)
    if not Organization.objects.filter(pk=organization_id).exists():
        raise DomainError(_("单位不存在。"), code="not_found")
    text = plan_text_check(text, field=field)
    extraction = extract(text)
    refusal = extraction_refusal(extraction)
    if refusal:
        raise DomainError(refusal, field=field, code="not_a_plan")
    source_name = " ".join(str(source_name or "").split()) or _("粘贴的文字")
    if len(source_name) > SOURCE_LIMIT:
        source_name = source_name[: SOURCE_LIMIT - 1] + "…"
    plan_import = PlanImport.objects.create(
        organization_id=organization_id,
        created_by=actor if getattr(actor, "pk", None) else None,
        source_name=source_name,
        text=extraction.text,
        title=extraction.title.strip()[:200],
        summary=extraction.summary.strip(),
        items=import_items(extraction),
        unmapped=[
            {"title": str(section.title)[:200], "start": int(section.start), "end": int(section.end)}
            for section in extraction.unmapped
        ],
    )
    if actor is not None:
        counts = import_counts(plan_import)
        audit_record(
            organization=organization_id,
            actor=actor,
            action="plan.import_read",
            target=plan_import,
            summary=_("导入预案《%(source)s》：%(found)s，待核对")
            % {"source": source_name, "found": counts_words(counts)},
            after={"source": source_name, "title": plan_import.title, "counts": counts},
        )
    return plan_import


@transaction.atomic
def plan_import_item_update(
    *, actor: Any, import_id: int, index: int, keep: bool | None = None, values: dict[str, Any] | None = None
) -> PlanImport:
    """Correct one item's values and/or keep or drop it, while the import is under review. The
    values are checked as a whole (the ones given over the ones saved); a kept item always has valid
    values. A refusal names the field and leaves the item as it was saved."""
    plan_import = _import_locked(actor, import_id)
    _refuse_closed(plan_import)
    items = list(plan_import.items)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(items):
        raise DomainError(_("识别结果不存在。"), code="not_found")
    before = items[index]
    kind = before["kind"]
    values = values or {}
    unknown = sorted(set(values) - set(VALUE_KEYS.get(kind, ())))
    if unknown:
        raise DomainError(_("不能修改字段：%(fields)s") % {"fields": ", ".join(unknown)}, field=unknown[0])
    keep_now = bool(before.get("keep")) if keep is None else bool(keep)
    merged = {**before.get("values", {}), **values}
    if values or keep_now:
        merged = item_values_check(kind, merged)
    after = {**before, "values": merged, "keep": keep_now}
    if after == before:
        return plan_import
    items[index] = after
    plan_import.items = items
    plan_import.save(update_fields=["items"])
    if actor is not None:
        if keep_now != bool(before.get("keep")):
            what = _("采用") if keep_now else _("不采用")
        else:
            what = _("修改")
        audit_record(
            organization=plan_import.organization_id,
            actor=actor,
            action="plan.import_item",
            target=plan_import,
            summary=_("核对导入的预案《%(source)s》：%(what)s%(kind)s“%(name)s”")
            % {"source": plan_import.source_name, "what": what, "kind": KIND_LABELS[kind], "name": item_label(after)},
            before={"index": index, "keep": before.get("keep"), "values": before.get("values")},
            after={"index": index, "keep": keep_now, "values": merged},
        )
    return plan_import


@transaction.atomic
def plan_import_discard(*, actor: Any, import_id: int) -> PlanImport:
    """Set an import under review aside; nothing of the plan or the groups changes."""
    plan_import = _import_locked(actor, import_id)
    _refuse_closed(plan_import)
    plan_import.status = Status.DISCARDED
    plan_import.save(update_fields=["status"])
    if actor is not None:
        audit_record(
            organization=plan_import.organization_id,
            actor=actor,
            action="plan.import_discard",
            target=plan_import,
            summary=_("放弃导入预案《%(source)s》") % {"source": plan_import.source_name},
            before={"status": Status.REVIEW.value},
            after={"status": Status.DISCARDED.value},
        )
    return plan_import


def _distinct(items: list[dict[str, Any]], kind: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """The items without repeats (the same values found twice), refused when two different items
    would share a name (or a level a rank) in the plan."""
    unique: list[dict[str, Any]] = []
    for item in items:
        if any(other["values"] == item["values"] for other in unique):
            continue
        for key in keys:
            clash = next((other for other in unique if other["values"][key] == item["values"][key]), None)
            if clash is not None:
                raise DomainError(
                    _("保留的%(kind)s中有两个%(what)s相同（“%(value)s”）：请修改其中一个，或不采用其中一个。")
                    % {
                        "kind": KIND_LABELS[kind],
                        "what": _("严重程度") if key == "rank" else _("名称"),
                        "value": item["values"][key],
                    },
                    field="items",
                    code="duplicate_items",
                )
        unique.append(item)
    return unique


def _checked(part: Any, kind: str) -> Any:
    """Save a new part of the draft after the model's own validation; a refusal names the item."""
    try:
        part.full_clean(exclude=["plan"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(
            _("%(kind)s“%(name)s”：%(error)s") % {"kind": KIND_LABELS[kind], "name": part.name, "error": messages[0]},
            field=field,
        ) from exc
    part.save()
    return part


def _levels_replace(draft: EmergencyPlan, items: list[dict[str, Any]]) -> None:
    """The imported levels instead of the draft's; a kept rule limited to some levels is limited to
    the new levels of the same name, else of the same rank."""
    rules = list(draft.deadline_rules.prefetch_related("levels"))
    links = {rule.pk: [(level.name, level.rank) for level in rule.levels.all()] for rule in rules}
    draft.levels.all().delete()
    created = []
    for item in items:
        values = item["values"]
        level = WarningLevel(
            plan=draft,
            rank=values["rank"],
            name=values["name"],
            color=values["color"] or LEVEL_COLOURS.get(values["rank"], OTHER_LEVEL_COLOUR),
            criteria=values["criteria"],
            response_tier=values["tier"] or WarningLevel.Tier.DEPARTMENT,
        )
        created.append(_checked(level, LEVEL))
    by_name = {level.name: level for level in created}
    by_rank = {level.rank: level for level in created}
    for rule in rules:
        if not links[rule.pk]:
            continue
        found = (by_name.get(name) or by_rank.get(rank) for name, rank in links[rule.pk])
        mapped = {level for level in found if level is not None}
        if not mapped:
            raise DomainError(
                _("现行预案的时限“%(rule)s”只适用于级别“%(levels)s”，导入的预警级别中没有同名或同等严重程度的级别。")
                % {"rule": rule.name, "levels": "、".join(name for name, _rank in links[rule.pk])},
                field="items",
            )
        rule.levels.set(mapped)


def _categories_replace(draft: EmergencyPlan, items: list[dict[str, Any]]) -> None:
    """The imported categories instead of the draft's. A kept rule limited to a category moves to
    the new category of the same code; with none, the old category stays so that the rule is not
    silently widened to every category (the comparison shows it)."""
    rules = list(draft.deadline_rules.prefetch_related("categories"))
    new_codes = {item["values"]["code"] for item in items}
    referenced = {category.pk for rule in rules for category in rule.categories.all()}
    draft.categories.exclude(pk__in=referenced).delete()
    draft.categories.filter(pk__in=referenced, code__in=new_codes).delete()
    kept_names = set(draft.categories.values_list("name", flat=True))
    by_code: dict[str, HandlingCategory] = {}
    for order, item in enumerate(items):
        values = item["values"]
        if values["name"] in kept_names:
            raise DomainError(
                _("处置类别“%(name)s”与现行预案中仍被时限使用的同名类别冲突：请修改其名称。")
                % {"name": values["name"]},
                field="items",
            )
        category = HandlingCategory(
            plan=draft, code=values["code"], name=values["name"], measures=values["measures"], order=order
        )
        by_code.setdefault(values["code"], _checked(category, CATEGORY))
    for rule in rules:
        old = list(rule.categories.all())
        if old:
            rule.categories.set([by_code.get(category.code, category) for category in old])


def _types_replace(draft: EmergencyPlan, items: list[dict[str, Any]]) -> None:
    draft.incident_types.all().delete()
    for order, item in enumerate(items):
        _checked(IncidentType(plan=draft, name=item["values"]["name"], order=order), INCIDENT_TYPE)


def _clocks_create(draft: EmergencyPlan, items: list[dict[str, Any]]) -> None:
    categories: dict[str, list[HandlingCategory]] = {}
    for category in draft.categories.all():
        categories.setdefault(category.code, []).append(category)
    for order, item in enumerate(items):
        values = item["values"]
        minutes = values["minutes"]
        rule = DeadlineRule(
            plan=draft,
            name=values["name"],
            kind=values["kind"],
            anchor=values["anchor"],
            offset_minutes=None if values["same_day"] else minutes,
            same_day=values["same_day"],
            owner_group_kind=CLOCK_OWNERS.get(values["kind"], ResponseGroup.Kind.OFFICE),
            reminder_minutes=[10, 2] if minutes and minutes > 10 else [],
            order=order,
        )
        linked: list[HandlingCategory] = []
        if values["category"]:
            linked = categories.get(values["category"], [])
            if not linked:
                raise DomainError(
                    _(
                        "时限“%(rule)s”只适用于“%(category)s”，草稿中没有这一处置类别：请采用识别出的该类别，或清除该时限的处置类别。"
                    )
                    % {"rule": values["name"], "category": HandlingCategory.Code(values["category"]).label},
                    field="category",
                )
        _checked(rule, CLOCK)
        rule.categories.set(linked)


@transaction.atomic
def plan_import_draft(*, actor: Any, import_id: int) -> EmergencyPlan:
    """Turn the kept items into the unit's one plan draft (refused while another draft exists).

    With an active plan, the draft is its revision (plan_create_revision) with the levels, handling
    categories, clocks and incident types replaced by the imported ones of each kind the import has
    kept items of; the active plan's parts of the other kinds stay. Without one, a new draft holds
    only what was imported. The header takes the plan's title and summary, a kept reporting chain
    and drill interval; the change note names the source. Nothing is invented: a level's tier the
    text leaves open is the model's default (责任部门处置), and a plan without levels is shown with
    that problem on the comparison page rather than given made-up ones."""
    plan_import = _import_locked(actor, import_id)
    if not can_draft(plan_import):
        raise DomainError(
            _("本次导入%(status)s，不能再生成草稿。") % {"status": plan_import.get_status_display()},
            code="import_closed",
        )
    organization = Organization.objects.get(pk=plan_import.organization_id)
    if organization.plans.filter(status=EmergencyPlan.Status.DRAFT).exists():
        raise DomainError(_("本单位已有一份预案草稿，请先启用或删除它。"), code="draft_exists")
    kept = {
        LEVEL: _distinct(kept_items(plan_import, LEVEL), LEVEL, ("name", "rank")),
        CATEGORY: _distinct(kept_items(plan_import, CATEGORY), CATEGORY, ("name",)),
        INCIDENT_TYPE: _distinct(kept_items(plan_import, INCIDENT_TYPE), INCIDENT_TYPE, ("name",)),
        CLOCK: _distinct(kept_items(plan_import, CLOCK), CLOCK, ("name",)),
    }
    chain = next(iter(kept_items(plan_import, CHAIN)), None)
    drill = next(iter(kept_items(plan_import, DRILL)), None)
    note = _("从《%(source)s》导入") % {"source": plan_import.source_name}
    title = plan_import.title or _("%(unit)s网络舆情应急预案") % {"unit": organization.name}
    active = organization.plans.filter(status=EmergencyPlan.Status.ACTIVE).first()
    if active is not None:
        draft = plan_create_revision(plan=active, actor=actor, change_note=note)
    else:
        version = (organization.plans.aggregate(v=Max("version"))["v"] or 0) + 1
        draft = EmergencyPlan.objects.create(
            organization=organization,
            version=version,
            title=title,
            escalation_chain=default_escalation_chain(),
            change_note=note,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
    draft.title = title
    draft.summary = plan_import.summary or draft.summary
    if chain is not None:
        draft.escalation_chain = list(chain["values"]["rungs"])
    if drill is not None:
        draft.drill_interval_months = drill["values"]["months"]
    draft.save(update_fields=["title", "summary", "escalation_chain", "drill_interval_months"])
    if kept[CLOCK]:
        draft.deadline_rules.all().delete()
    if kept[LEVEL]:
        _levels_replace(draft, kept[LEVEL])
    if kept[CATEGORY]:
        _categories_replace(draft, kept[CATEGORY])
    if kept[INCIDENT_TYPE]:
        _types_replace(draft, kept[INCIDENT_TYPE])
    if kept[CLOCK]:
        _clocks_create(draft, kept[CLOCK])
    replaced = [kind for kind, items in kept.items() if items]
    plan_import.plan = draft
    plan_import.status = Status.DRAFTED
    plan_import.save(update_fields=["plan", "status"])
    if actor is not None:
        audit_record(
            organization=organization,
            actor=actor,
            action="plan.import",
            target=draft,
            summary=_("从《%(source)s》导入，生成预案草稿第 %(version)s 版（%(found)s）")
            % {
                "source": plan_import.source_name,
                "version": draft.version,
                "found": counts_words(import_counts(plan_import)),
            },
            after={
                "import": plan_import.pk,
                "source": plan_import.source_name,
                "version": draft.version,
                "based_on": active.version if active is not None else None,
                "replaced": [str(KIND_LABELS[kind]) for kind in replaced],
                "counts": import_counts(plan_import),
            },
        )
    return draft
