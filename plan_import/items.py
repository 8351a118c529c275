"""The items of an import: what each kind holds, how the rules' findings become stored items, and
the check every kept item's values pass (the draft relies on it)."""

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from incidents.models import DeadlineRule, HandlingCategory, WarningLevel
from incidents.models.plan import MAX_DEADLINE_MINUTES, escalation_chain_errors
from opinion_ops.errors import DomainError
from organizations.models import GroupMember, ResponseGroup
from plan_import.findings import (
    CATEGORY,
    CHAIN,
    CLOCK,
    DRILL,
    GROUP,
    INCIDENT_TYPE,
    KINDS,
    LEVEL,
    POSITION,
    Extraction,
)

if TYPE_CHECKING:
    from plan_import.models import PlanImport

KIND_LABELS: dict[str, Promise] = {
    GROUP: gettext_lazy("工作组"),
    POSITION: gettext_lazy("职务"),
    LEVEL: gettext_lazy("预警级别"),
    CLOCK: gettext_lazy("时限"),
    CATEGORY: gettext_lazy("处置类别"),
    INCIDENT_TYPE: gettext_lazy("舆情类型"),
    CHAIN: gettext_lazy("逐级上报顺序"),
    DRILL: gettext_lazy("演练周期"),
}
KIND_COUNTS: dict[str, Any] = {  # ngettext_lazy: "1 working group", "6 working groups"
    GROUP: ngettext_lazy("%(n)s 个工作组", "%(n)s 个工作组", "n"),
    POSITION: ngettext_lazy("%(n)s 个职务", "%(n)s 个职务", "n"),
    LEVEL: ngettext_lazy("%(n)s 个预警级别", "%(n)s 个预警级别", "n"),
    CLOCK: ngettext_lazy("%(n)s 个时限", "%(n)s 个时限", "n"),
    CATEGORY: ngettext_lazy("%(n)s 个处置类别", "%(n)s 个处置类别", "n"),
    INCIDENT_TYPE: ngettext_lazy("%(n)s 个舆情类型", "%(n)s 个舆情类型", "n"),
    CHAIN: ngettext_lazy("%(n)s 条逐级上报顺序", "%(n)s 条逐级上报顺序", "n"),
    DRILL: ngettext_lazy("%(n)s 项演练要求", "%(n)s 项演练要求", "n"),
}
# The working group that answers for a clock of each kind (the draft's DeadlineRule.owner_group_kind).
CLOCK_OWNERS = {
    DeadlineRule.Kind.ORAL_REPORT: ResponseGroup.Kind.OFFICE,
    DeadlineRule.Kind.WRITTEN_REPORT: ResponseGroup.Kind.OFFICE,
    DeadlineRule.Kind.PUBLIC_RESPONSE: ResponseGroup.Kind.PUBLICITY,
    DeadlineRule.Kind.REPLY: ResponseGroup.Kind.HANDLING,
    DeadlineRule.Kind.OTHER: ResponseGroup.Kind.OFFICE,
}
LEVEL_COLOURS = {1: "#cf1322", 2: "#d46b08", 3: "#d4b106", 4: "#1677ff"}  # 红 橙 黄 蓝, as warnings go
OTHER_LEVEL_COLOUR = "#8c8c8c"
SOURCE_LIMIT = 200
TEXT_LIMIT = 5000  # a level's criteria, a category's measures (as incidents.services.plans.TEXT_LIMITS)
GROUP_DUTIES_LIMIT = 2000  # as organizations.services
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


# --- the values of one item


def _text(values: dict[str, Any], key: str, label: str, limit: int, *, required: bool = True) -> str:
    value = values.get(key)
    value = "" if value is None else value
    if not isinstance(value, str):
        raise DomainError(_("%(label)s须为文字。") % {"label": label}, field=key)
    value = value.strip()
    if required and not value:
        raise DomainError(_("请填写%(label)s。") % {"label": label}, field=key)
    if len(value) > limit:
        raise DomainError(_("%(label)s不超过 %(n)s 个字符。") % {"label": label, "n": limit}, field=key)
    return value


def _choice(
    values: dict[str, Any], key: str, label: str, choices: Iterable[tuple[str, Any]], *, blank: bool = False
) -> str:
    value = values.get(key)
    value = "" if value is None else value
    value = value.strip() if isinstance(value, str) else value
    if blank and value == "":
        return ""
    options = dict(choices)
    if value not in options:
        raise DomainError(
            _("请选择%(label)s（可选：%(options)s）。")
            % {"label": label, "options": "、".join(str(name) for name in options.values())},
            field=key,
        )
    return str(value)


def _number(
    values: dict[str, Any], key: str, message: str, low: int, high: int, *, optional: bool = False
) -> int | None:
    value = values.get(key)
    if optional and (value is None or value == ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DomainError(message, field=key)
    return value


def _flag(values: dict[str, Any], key: str) -> bool:
    value = values.get(key, False)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def _group_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": _text(values, "name", _("工作组名称"), 100),
        "role": _choice(values, "role", _("工作组类别"), ResponseGroup.Kind.choices),
        "duties": _text(values, "duties", _("工作职责"), GROUP_DUTIES_LIMIT, required=False),
    }


def _position_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "group": _text(values, "group", _("所在工作组"), 100),
        "title": _text(values, "title", _("职务名称"), 20),
        "position": _choice(values, "position", _("职务"), GroupMember.Position.choices),
        "holder": _text(values, "holder", _("担任人"), 100, required=False),
    }


def _level_values(values: dict[str, Any]) -> dict[str, Any]:
    color = _text(values, "color", _("颜色"), 7, required=False)
    if color and not _COLOUR.match(color):
        raise DomainError(_("颜色须为 #RRGGBB 格式，或留空按严重程度配色。"), field="color")
    return {
        "rank": _number(values, "rank", _("严重程度须为 1 到 9 之间的整数（1 为最严重）。"), 1, 9),
        "name": _text(values, "name", _("级别名称"), 30),
        "color": color.lower(),
        "criteria": _text(values, "criteria", _("判定标准"), TEXT_LIMIT, required=False),
        "tier": _choice(values, "tier", _("响应层级"), WarningLevel.Tier.choices, blank=True),
    }


def _clock_values(values: dict[str, Any]) -> dict[str, Any]:
    same_day = _flag(values, "same_day")
    minutes_message = _("时限须在 1 分钟到 30 天（43200 分钟）之间，或勾选“当日答复”。")
    minutes = _number(values, "minutes", minutes_message, 1, MAX_DEADLINE_MINUTES, optional=True)
    if same_day and minutes is not None:
        raise DomainError(_("“当日答复”时限不填写分钟数：请清空分钟数，或取消“当日答复”。"), field="minutes")
    if not same_day and minutes is None:
        raise DomainError(minutes_message, field="minutes")
    anchor = _choice(values, "anchor", _("起算时间"), DeadlineRule.Anchor.choices, blank=True)
    return {
        "name": _text(values, "name", _("时限名称"), 60),
        "kind": _choice(values, "kind", _("事项"), DeadlineRule.Kind.choices),
        "minutes": minutes,
        "same_day": same_day,
        "anchor": anchor or DeadlineRule.Anchor.DISCOVERED.value,
        "category": _choice(values, "category", _("适用处置类别"), HandlingCategory.Code.choices, blank=True),
    }


def _category_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": _choice(values, "code", _("类别"), HandlingCategory.Code.choices),
        "name": _text(values, "name", _("类别名称"), 60),
        "measures": _text(values, "measures", _("标准处置措施"), TEXT_LIMIT, required=False),
    }


def _type_values(values: dict[str, Any]) -> dict[str, Any]:
    return {"name": _text(values, "name", _("舆情类型名称"), 60)}


def _chain_values(values: dict[str, Any]) -> dict[str, Any]:
    rungs = values.get("rungs")
    rungs = [rung for rung in rungs if rung] if isinstance(rungs, list) else rungs
    error = escalation_chain_errors(rungs)
    if error:
        raise DomainError(error, field="rungs")
    return {"rungs": list(rungs)}  # type: ignore[arg-type]


def _drill_values(values: dict[str, Any]) -> dict[str, Any]:
    return {"months": _number(values, "months", _("演练周期须为 1 到 60 之间的整数（月）。"), 1, 60)}


VALUE_CHECKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    GROUP: _group_values,
    POSITION: _position_values,
    LEVEL: _level_values,
    CLOCK: _clock_values,
    CATEGORY: _category_values,
    INCIDENT_TYPE: _type_values,
    CHAIN: _chain_values,
    DRILL: _drill_values,
}
VALUE_KEYS: dict[str, tuple[str, ...]] = {
    GROUP: ("name", "role", "duties"),
    POSITION: ("group", "title", "position", "holder"),
    LEVEL: ("rank", "name", "color", "criteria", "tier"),
    CLOCK: ("name", "kind", "minutes", "same_day", "anchor", "category"),
    CATEGORY: ("code", "name", "measures"),
    INCIDENT_TYPE: ("name",),
    CHAIN: ("rungs",),
    DRILL: ("months",),
}


def item_values_check(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """The item's values, trimmed and typed, or a refusal naming the first value that could not go
    into the plan (names within the models' lengths, a clock of 1 to 43200 minutes or 当日, a known
    group kind, response tier, handling category …)."""
    check = VALUE_CHECKS.get(kind)
    if check is None:
        raise DomainError(_("未知的识别结果类型：%(kind)s。") % {"kind": kind}, field="kind")
    if not isinstance(values, dict):
        raise DomainError(_("识别结果的内容无效。"), field="values")
    return check(values)


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return str(value)


def import_items(extraction: Extraction) -> list[dict[str, Any]]:
    """The stored items of an extraction: each kept, or dropped with the reason when the rules
    proposed values that could not go into a plan."""
    items = []
    length = len(extraction.text)
    for finding in extraction.findings:
        if finding.kind not in KINDS:
            continue
        start = min(max(int(finding.start), 0), length)
        end = min(max(int(finding.end), start), length)
        note = str(finding.note or "")
        try:
            values, keep = item_values_check(finding.kind, dict(finding.values)), True
        except DomainError as error:
            values, keep = _json_safe(dict(finding.values)), False
            reason = _("未采用：%(reason)s 修改后可恢复采用。") % {"reason": error.message}
            note = f"{note} {reason}".strip()
        items.append({"kind": finding.kind, "values": values, "start": start, "end": end, "note": note, "keep": keep})
    return items


def item_label(item: dict[str, Any]) -> str:
    """How the page, the trail and the command name one item."""
    values = item.get("values") or {}
    kind = item.get("kind", "")
    if kind == POSITION:
        return f"{values.get('group', '')}{values.get('title', '')}"
    if kind == DRILL:
        return _("每 %(n)s 个月") % {"n": values.get("months")}
    if kind == CHAIN:
        return str(KIND_LABELS[CHAIN])
    return str(values.get("name") or KIND_LABELS.get(kind, kind))


def kept_items(plan_import: "PlanImport", kind: str) -> list[dict[str, Any]]:
    return [item for item in plan_import.items if item.get("keep") and item.get("kind") == kind]
