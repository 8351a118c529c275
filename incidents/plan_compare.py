"""Reads of 单位设置 → 应急预案: a unit's plan versions with who activated each, one version with all
its parts, each part in the words of the plan (时限 30 分钟, 适用级别 一级、二级), and the comparison of
two versions in those same words, so the page and the comparison never disagree."""

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents.models import DeadlineRule, EmergencyPlan, EscalationRung
from organizations.models import AuditEntry


def plans_with_parts() -> QuerySet[EmergencyPlan]:
    """Plan versions with every part loaded: a page of one version costs the same few queries
    whatever its number of levels, categories, types and rules."""
    return EmergencyPlan.objects.select_related("created_by", "based_on").prefetch_related(
        "levels",
        "categories",
        "incident_types",
        Prefetch("deadline_rules", queryset=DeadlineRule.objects.prefetch_related("levels", "categories")),
    )


@dataclass(frozen=True)
class VersionRow:
    plan: EmergencyPlan
    activated_by: Any  # the user who activated it in the product or the admin; None for set-up code
    superseded_at: datetime.datetime | None


def plan_versions(organization_id: int) -> list[VersionRow]:
    """The unit's versions, newest first, with who activated each (from the audit trail) and when
    the next activation superseded it."""
    plans = list(
        EmergencyPlan.objects.filter(organization_id=organization_id)
        .select_related("created_by", "based_on", "source_review__incident")
        .order_by("-version")
    )
    entries = AuditEntry.objects.filter(organization_id=organization_id, action="plan.activate").select_related("actor")
    activated_by = {entry.target_id: entry.actor for entry in entries.order_by("recorded_at")}
    activated = sorted((plan for plan in plans if plan.activated_at), key=lambda plan: plan.activated_at)  # type: ignore[arg-type,return-value]
    ends = {earlier.pk: later.activated_at for earlier, later in itertools.pairwise(activated)}
    return [
        VersionRow(
            plan=plan,
            activated_by=activated_by.get(str(plan.pk)),
            superseded_at=ends.get(plan.pk) if plan.status == EmergencyPlan.Status.SUPERSEDED else None,
        )
        for plan in plans
    ]


# --- the words of a plan


def minutes_words(minutes: int | None) -> str:
    if minutes is None:
        return gettext("未填写")
    if minutes >= 24 * 60 and minutes % (24 * 60) == 0:
        return gettext("%(n)s 天") % {"n": minutes // (24 * 60)}
    if minutes >= 60 and minutes % 60 == 0:
        return gettext("%(n)s 小时") % {"n": minutes // 60}
    return gettext("%(n)s 分钟") % {"n": minutes}


def _yes_no(value: bool) -> str:
    return gettext("是") if value else gettext("否")


def _text(value: str) -> str:
    return value or "—"


def _names(rows: Any, everything: Promise) -> str:
    return "、".join(str(row) for row in rows.all()) or str(everything)


def _deadline(rule: DeadlineRule) -> str:
    return gettext("当日答复") if rule.same_day else minutes_words(rule.offset_minutes)


def _reminders(rule: DeadlineRule) -> str:
    reminders = rule.reminder_minutes if isinstance(rule.reminder_minutes, list) else []
    if not reminders:
        return gettext("不提醒")
    return gettext("到期前 %(times)s") % {"times": "、".join(minutes_words(m) for m in reminders)}


def _clock(value: Any) -> str:
    return value.strftime("%H:%M") if isinstance(value, datetime.time) else str(value)[:5]


def _chain(chain: Any) -> str:
    labels = dict(EscalationRung.choices)
    return " → ".join(str(labels.get(code, code)) for code in chain) if isinstance(chain, list) else str(chain)


def _drill(months: int | None) -> str:
    return gettext("每 %(n)s 个月至少一次") % {"n": months} if months else gettext("未规定")


Fact = tuple[Promise, Callable[[Any], str]]

HEADER_FACTS: list[Fact] = [
    (_("预案名称"), lambda plan: plan.title),
    (_("总则与适用范围"), lambda plan: _text(plan.summary)),
    (_("“当日答复”截止"), lambda plan: plan.get_same_day_cutoff_display()),
    (_("下班时间"), lambda plan: _clock(plan.workday_end)),
    (_("逐级上报顺序"), lambda plan: _chain(plan.escalation_chain)),
    (_("审定回避（四眼原则）"), lambda plan: gettext("开启") if plan.four_eyes else gettext("关闭")),
    (_("法律审核"), lambda plan: gettext("开启") if plan.legal_review else gettext("关闭")),
    (_("演练周期"), lambda plan: _drill(plan.drill_interval_months)),
]

# Each part kind, as the page lists it: (key, heading, the plan's related name, facts beside the name).
PART_SECTIONS: list[tuple[str, Promise, str, list[Fact]]] = [
    (
        "levels",
        _("预警级别"),
        "levels",
        [
            (_("严重程度"), lambda level: str(level.rank)),
            (_("颜色"), lambda level: level.color.upper()),
            (_("判定标准"), lambda level: _text(level.criteria)),
            (_("响应层级"), lambda level: level.get_response_tier_display()),
            (_("须由领导小组发布"), lambda level: _yes_no(level.requires_leader)),
        ],
    ),
    (
        "categories",
        _("处置类别"),
        "categories",
        [
            (_("类别"), lambda category: category.get_code_display()),
            (_("标准处置措施"), lambda category: _text(category.measures)),
            (_("排序"), lambda category: str(category.order)),
        ],
    ),
    ("types", _("舆情类型"), "incident_types", [(_("排序"), lambda incident_type: str(incident_type.order))]),
    (
        "rules",
        _("时限规则"),
        "deadline_rules",
        [
            (_("事项"), lambda rule: rule.get_kind_display()),
            (_("时限"), _deadline),
            (_("起算时间"), lambda rule: rule.get_anchor_display()),
            (_("适用级别"), lambda rule: _names(rule.levels, _("所有级别（含未定级）"))),
            (_("适用处置类别"), lambda rule: _names(rule.categories, _("所有类别"))),
            (_("责任工作组"), lambda rule: rule.get_owner_group_kind_display()),
            (_("提前提醒"), _reminders),
            (_("逾期升级间隔"), lambda rule: minutes_words(rule.escalation_interval_minutes)),
            (_("排序"), lambda rule: str(rule.order)),
        ],
    ),
]
PART_RELATED = {key: related for key, _label, related, _facts in PART_SECTIONS}


def header_facts(plan: EmergencyPlan) -> list[tuple[str, str]]:
    return [(str(label), words(plan)) for label, words in HEADER_FACTS]


@dataclass(frozen=True)
class PartRow:
    part: Any
    facts: list[tuple[str, str]]


@dataclass(frozen=True)
class PartSection:
    key: str
    label: str
    columns: list[str]
    rows: list[PartRow]


def plan_sections(plan: EmergencyPlan) -> list[PartSection]:
    """The plan's parts in the words of the plan, one section per kind (from prefetched rows)."""
    sections = []
    for key, label, related, facts in PART_SECTIONS:
        rows = [
            PartRow(part, [(str(name), words(part)) for name, words in facts]) for part in getattr(plan, related).all()
        ]
        sections.append(PartSection(key, str(label), [str(name) for name, _words in facts], rows))
    return sections


# --- comparing two versions


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class PartChange:
    name: str
    status: str  # "added", "removed" or "changed"
    changes: list[Change]  # for an added or removed part: each of its facts (old or new left empty)


@dataclass(frozen=True)
class SectionChanges:
    key: str
    label: str
    parts: list[PartChange]


@dataclass(frozen=True)
class PlanComparison:
    old: EmergencyPlan
    new: EmergencyPlan
    header: list[Change]
    sections: list[SectionChanges]

    @property
    def unchanged(self) -> bool:
        return not self.header and not any(section.parts for section in self.sections)


def _section_changes(old_rows: list[PartRow], new_rows: list[PartRow]) -> list[PartChange]:
    """Parts matched by name: a renamed part reads as one removed and one added."""
    old_by_name = {str(row.part): row for row in old_rows}
    new_names = {str(row.part) for row in new_rows}
    parts = []
    for row in new_rows:
        name = str(row.part)
        before = old_by_name.get(name)
        if before is None:
            parts.append(PartChange(name, "added", [Change(label, "", words) for label, words in row.facts]))
            continue
        changes = [
            Change(label, old_words, new_words)
            for (label, old_words), (_label, new_words) in zip(before.facts, row.facts, strict=True)
            if old_words != new_words
        ]
        if changes:
            parts.append(PartChange(name, "changed", changes))
    for row in old_rows:
        if str(row.part) not in new_names:
            parts.append(PartChange(str(row.part), "removed", [Change(label, words, "") for label, words in row.facts]))
    return parts


def plans_compare(old: EmergencyPlan, new: EmergencyPlan) -> PlanComparison:
    """What changes from `old` to `new`: the header fields, and the levels, categories, incident types
    and deadline rules added, removed or changed, each with its old and new values in words."""
    header = [
        Change(label, before, after)
        for (label, before), (_label, after) in zip(header_facts(old), header_facts(new), strict=True)
        if before != after
    ]
    sections = [
        SectionChanges(old_section.key, old_section.label, _section_changes(old_section.rows, new_section.rows))
        for old_section, new_section in zip(plan_sections(old), plan_sections(new), strict=True)
    ]
    return PlanComparison(old=old, new=new, header=header, sections=sections)


# What else activating a version changes, said by the app that does it (plan_import: the working
# groups of an imported plan), so the compare page can say it before the administrator confirms.
ActivationNotes = Callable[[EmergencyPlan], list[str]]
_ACTIVATION_NOTES: list[ActivationNotes] = []


def activation_notes_register(notes: ActivationNotes) -> None:
    if notes not in _ACTIVATION_NOTES:
        _ACTIVATION_NOTES.append(notes)


def activation_notes(plan: EmergencyPlan) -> list[str]:
    return [note for notes in _ACTIVATION_NOTES for note in notes(plan)]
