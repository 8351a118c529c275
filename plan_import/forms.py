"""Forms of 从文件导入. They only read input: plan_import.services checks the text and each item's
values, and its refusal is shown next to the field it names."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import DeadlineRule, HandlingCategory, WarningLevel
from incidents.plan_forms import EscalationChainField
from organizations.models import GroupMember, ResponseGroup
from plan_import.findings import CATEGORY, CHAIN, CLOCK, DRILL, GROUP, INCIDENT_TYPE, LEVEL, POSITION


def sample_choices() -> list[tuple[str, str]]:
    from plan_import.samples import SAMPLES

    return [(key, str(label)) for key, label in SAMPLES]


class FileImportForm(forms.Form):
    file = forms.FileField(
        label=_("预案文件"),
        help_text=_("Word 文件（.docx）或文本文件（.txt），不超过 10 MB。旧版 .doc 请先另存为 .docx。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".docx,.txt"}),
        error_messages={"required": _("请选择要导入的预案文件。")},
    )


class TextImportForm(forms.Form):
    text = forms.CharField(
        label=_("预案文字"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("从 Word、WPS 或网页中复制预案全文，粘贴在这里。"),
        error_messages={"required": _("请粘贴预案文字。")},
    )


class SampleImportForm(forms.Form):
    sample = forms.ChoiceField(
        label=_("预案范本"),
        help_text=_("没有现成预案的单位，可以从范本开始：导入后逐项核对、修改，再生成本单位的预案草稿。"),
        error_messages={"required": _("请选择一份范本。"), "invalid_choice": _("请选择列表中的范本。")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sample"].choices = [("", _("（请选择）")), *sample_choices()]  # type: ignore[attr-defined]


# --- one item of an import


class ItemForm(forms.Form):
    """The values of one item; its field names are the item's `values` keys."""

    wide_fields: tuple[str, ...] = ()


class GroupItemForm(ItemForm):
    wide_fields = ("duties",)
    name = forms.CharField(label=_("工作组名称"), max_length=100)
    role = forms.ChoiceField(label=_("工作组类别"), choices=ResponseGroup.Kind.choices)
    duties = forms.CharField(
        label=_("工作职责"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PositionItemForm(ItemForm):
    group = forms.CharField(label=_("所在工作组"), max_length=100)
    title = forms.CharField(label=_("职务名称"), max_length=20)
    position = forms.ChoiceField(label=_("职务"), choices=GroupMember.Position.choices)
    holder = forms.CharField(
        label=_("担任人"),
        required=False,
        max_length=100,
        help_text=_("写明姓名且与本单位人员姓名一致时，启用预案后自动加入该工作组。"),
    )


class LevelItemForm(ItemForm):
    wide_fields = ("criteria",)
    name = forms.CharField(label=_("级别名称"), max_length=30)
    rank = forms.IntegerField(label=_("严重程度"), help_text=_("1 为最严重。"))
    color = forms.CharField(
        label=_("颜色"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"placeholder": "#cf1322"}),
        help_text=_("留空按严重程度配色（红、橙、黄、蓝）。"),
    )
    tier = forms.ChoiceField(
        label=_("响应层级"),
        required=False,
        choices=[("", _("预案未写明（按责任部门处置）")), *WarningLevel.Tier.choices],
    )
    criteria = forms.CharField(
        label=_("判定标准"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ClockItemForm(ItemForm):
    name = forms.CharField(label=_("时限名称"), max_length=60)
    kind = forms.ChoiceField(label=_("事项"), choices=DeadlineRule.Kind.choices)
    minutes = forms.IntegerField(label=_("时限（分钟）"), required=False, help_text=_("“当日答复”留空。"))
    same_day = forms.BooleanField(label=_("当日答复"), required=False)
    anchor = forms.ChoiceField(label=_("起算时间"), choices=DeadlineRule.Anchor.choices)
    category = forms.ChoiceField(
        label=_("适用处置类别"), required=False, choices=[("", _("所有类别")), *HandlingCategory.Code.choices]
    )


class CategoryItemForm(ItemForm):
    wide_fields = ("measures",)
    name = forms.CharField(label=_("类别名称"), max_length=60)
    code = forms.ChoiceField(label=_("类别"), choices=HandlingCategory.Code.choices)
    measures = forms.CharField(
        label=_("标准处置措施"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class IncidentTypeItemForm(ItemForm):
    name = forms.CharField(label=_("舆情类型名称"), max_length=60)


class ChainItemForm(ItemForm):
    wide_fields = ("rungs",)
    rungs = EscalationChainField(
        label=_("逐级上报顺序"),
        error_messages={"required": _("请至少选择第 1 级“责任人”。")},
        help_text=_("须从责任人开始；上级主管部门如列入，须是最后一级。"),
    )


class DrillItemForm(ItemForm):
    months = forms.IntegerField(label=_("演练周期（月）"), help_text=_("每 N 个月至少开展一次应急演练。"))


ITEM_FORMS: dict[str, type[ItemForm]] = {
    GROUP: GroupItemForm,
    POSITION: PositionItemForm,
    LEVEL: LevelItemForm,
    CLOCK: ClockItemForm,
    CATEGORY: CategoryItemForm,
    INCIDENT_TYPE: IncidentTypeItemForm,
    CHAIN: ChainItemForm,
    DRILL: DrillItemForm,
}


def item_form(item: dict[str, Any], index: int, data: Any = None) -> ItemForm:
    """The form of the item at `index`, showing its saved values (or bound to what was posted)."""
    form_class = ITEM_FORMS[item["kind"]]
    prefix = f"item-{index}"
    if data is not None:
        return form_class(data, prefix=prefix)
    values = item.get("values") or {}
    return form_class(initial={name: values.get(name) for name in form_class.base_fields}, prefix=prefix)
