"""Forms of 单位设置 → 应急预案. They only read input; incidents.services.plans validates (through the
models' own rules) and its refusal is shown next to the field it names."""

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from incidents.models import DeadlineRule, EmergencyPlan, EscalationRung, HandlingCategory, WarningLevel
from organizations.models import ResponseGroup

CHAIN_RUNGS = 5  # every rung of EscalationRung once at most


class PlanRevisionForm(forms.Form):
    change_note = forms.CharField(
        label=_("修订说明"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("为什么修订、准备改哪些内容，例如“根据 3 月演练总结，口头报告时限缩短为 20 分钟”。"),
    )


class EscalationChainWidget(forms.MultiWidget):
    def __init__(self) -> None:
        choices = [("", _("（不再上报）")), *EscalationRung.choices]
        widgets = [
            forms.Select(choices=choices, attrs={"aria-label": _("第 %(n)s 级") % {"n": n + 1}})
            for n in range(CHAIN_RUNGS)
        ]
        super().__init__(widgets)

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_0" if id_ else id_  # the label names the first rung

    def decompress(self, value: Any) -> list[Any]:
        chain = list(value) if isinstance(value, list | tuple) else []
        return [*chain, *[""] * CHAIN_RUNGS][:CHAIN_RUNGS]


class EscalationChainField(forms.MultiValueField):
    """The rungs in order, one select each; the blanks are dropped (the service checks the order)."""

    widget = EscalationChainWidget

    def __init__(self, **kwargs: Any) -> None:
        choices = EscalationRung.choices
        fields = [forms.ChoiceField(choices=choices, required=False) for _n in range(CHAIN_RUNGS)]
        super().__init__(fields=fields, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[Any]) -> list[str]:
        return [code for code in data_list or [] if code]


class PlanHeaderForm(forms.Form):
    wide_fields = ("summary", "escalation_chain", "change_note")

    title = forms.CharField(label=_("预案名称"), max_length=200)
    summary = forms.CharField(
        label=_("总则与适用范围"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    same_day_cutoff = forms.ChoiceField(
        label=_("“当日答复”截止"),
        choices=EmergencyPlan.SameDayCutoff.choices,
        help_text=_("“当日答复”类时限在这一时刻到期。"),
    )
    workday_end = forms.TimeField(
        label=_("下班时间"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        input_formats=["%H:%M", "%H:%M:%S"],
    )
    escalation_chain = EscalationChainField(
        label=_("逐级上报顺序"),
        error_messages={"required": _("请至少选择第 1 级“责任人”。")},
        help_text=_(
            "时限逾期后依次通知的层级，每隔一个升级间隔上升一级，每级只通知一次。须从责任人开始；"
            "上级主管部门如列入，须是最后一级。"
        ),
    )
    four_eyes = forms.BooleanField(
        label=_("审定回避（四眼原则）"),
        required=False,
        help_text=_("开启后，起草回应稿的人不能审定同一稿件，报告人不能审阅自己的书面报告。"),
    )
    legal_review = forms.BooleanField(
        label=_("法律审核"),
        required=False,
        help_text=_("开启后，回应稿提交后先由法律援助组审核，审核通过再送领导小组审定。"),
    )
    drill_interval_months = forms.IntegerField(
        label=_("演练周期（月）"),
        required=False,
        min_value=1,
        max_value=60,
        help_text=_("每 N 个月至少开展一次应急演练；留空表示预案未规定。"),
    )
    change_note = forms.CharField(
        label=_("修订说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    @staticmethod
    def initial_for(plan: EmergencyPlan) -> dict[str, Any]:
        return {name: getattr(plan, name) for name in PlanHeaderForm.base_fields}


class MinutesListField(forms.CharField):
    """Minutes as the person types them (“10, 2”, “10，2”, “10、2”) → [10, 2]."""

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip()
        if not text:
            return []
        parts = [part for part in re.split(r"[\s,，、;；]+", text) if part]
        if not all(re.fullmatch(r"\d{1,6}", part) for part in parts):
            raise ValidationError(_("请填写整数分钟，用逗号分隔，例如 10, 2。"), code="invalid")
        return [int(part) for part in parts]

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return value


class PlanPartForm(forms.Form):
    """A row of a draft: `plan` gives the choices that depend on the draft (a rule's levels)."""

    wide_fields = ("criteria", "measures", "levels", "categories")

    def __init__(self, *args: Any, plan: EmergencyPlan | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    @classmethod
    def initial_for(cls, part: Any) -> dict[str, Any]:
        return {name: getattr(part, name) for name in cls.base_fields}


class LevelForm(PlanPartForm):
    name = forms.CharField(label=_("名称"), max_length=30)
    rank = forms.IntegerField(label=_("严重程度"), help_text=_("1 为最严重，各级别不能相同。"))
    color = forms.CharField(label=_("颜色"), max_length=7, widget=forms.TextInput(attrs={"type": "color"}))
    response_tier = forms.ChoiceField(label=_("响应层级"), choices=WarningLevel.Tier.choices)
    criteria = forms.CharField(
        label=_("判定标准"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    requires_leader = forms.BooleanField(label=_("须由领导小组发布"), required=False)


class CategoryForm(PlanPartForm):
    name = forms.CharField(label=_("名称"), max_length=60)
    code = forms.ChoiceField(label=_("类别"), choices=HandlingCategory.Code.choices)
    measures = forms.CharField(
        label=_("标准处置措施"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    order = forms.IntegerField(label=_("排序"), initial=0, help_text=_("数字小的排在前面。"))


class TypeForm(PlanPartForm):
    name = forms.CharField(label=_("名称"), max_length=60)
    order = forms.IntegerField(label=_("排序"), initial=0, help_text=_("数字小的排在前面。"))


class RuleForm(PlanPartForm):
    name = forms.CharField(label=_("名称"), max_length=60)
    kind = forms.ChoiceField(label=_("事项"), choices=DeadlineRule.Kind.choices)
    offset_minutes = forms.IntegerField(
        label=_("时限（分钟）"), required=False, help_text=_("从起算时间起多少分钟内完成；“当日答复”规则留空。")
    )
    same_day = forms.BooleanField(label=_("当日答复"), required=False)
    anchor = forms.ChoiceField(label=_("起算时间"), choices=DeadlineRule.Anchor.choices)
    owner_group_kind = forms.ChoiceField(label=_("责任工作组"), choices=ResponseGroup.Kind.choices)
    reminder_minutes = MinutesListField(
        label=_("提前提醒（分钟）"),
        required=False,
        max_length=200,
        help_text=_("到期前多少分钟提醒，例如 10, 2；留空不提醒。"),
    )
    escalation_interval_minutes = forms.IntegerField(
        label=_("逾期升级间隔（分钟）"), initial=15, help_text=_("逾期后每隔多久向上一级通知。")
    )
    order = forms.IntegerField(label=_("排序"), initial=0)
    levels = forms.TypedMultipleChoiceField(
        label=_("适用级别"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示适用所有级别（含未定级）。"),
    )
    categories = forms.TypedMultipleChoiceField(
        label=_("适用处置类别"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示适用所有类别。"),
    )

    def __init__(self, *args: Any, plan: EmergencyPlan | None = None, **kwargs: Any) -> None:
        super().__init__(*args, plan=plan, **kwargs)
        if plan is not None:
            self.fields["levels"].choices = [(level.pk, level.name) for level in plan.levels.all()]  # type: ignore[attr-defined]
            self.fields["categories"].choices = [(c.pk, c.name) for c in plan.categories.all()]  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, part: Any) -> dict[str, Any]:
        initial = {name: getattr(part, name) for name in cls.base_fields if name not in ("levels", "categories")}
        initial["levels"] = [level.pk for level in part.levels.all()]
        initial["categories"] = [category.pk for category in part.categories.all()]
        return initial


PART_FORMS: dict[str, type[PlanPartForm]] = {
    "levels": LevelForm,
    "categories": CategoryForm,
    "types": TypeForm,
    "rules": RuleForm,
}
