"""The forms of 应急演练: a scenario with its posts (a formset), scheduling and cancelling a drill.
They parse what the browser sends; the services decide what is allowed."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from drills.models import MAX_POST_MINUTES, Drill, Scenario
from drills.services import PostDraft
from incidents.forms import local_datetime_field
from incidents.models import EmergencyPlan, Platform


class ScenarioForm(forms.Form):
    title = forms.CharField(label=_("演练舆情标题"), max_length=180)
    platform = forms.ChoiceField(label=_("平台"), choices=Platform.choices, initial=Platform.WEIBO)
    description = forms.CharField(label=_("情况描述"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    incident_type_name = forms.ChoiceField(label=_("舆情类型"), required=False)
    category_code = forms.ChoiceField(label=_("处置类别"), required=False)
    expected_level_rank = forms.TypedChoiceField(
        label=_("预期预警级别"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("演练评估按此检查研判定级是否准确；参演人员看不到。"),
    )
    objectives = forms.CharField(
        label=_("演练目标"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如：检验 30 分钟口头报告、90 分钟书面报告和统一回复的审定流程。"),
    )

    def __init__(self, *args: Any, plan: EmergencyPlan | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        types = list(plan.incident_types.values_list("name", "name")) if plan else []  # type: ignore[attr-defined]
        categories = list(plan.categories.values_list("code", "name")) if plan else []  # type: ignore[attr-defined]
        levels = list(plan.levels.order_by("rank").values_list("rank", "name")) if plan else []  # type: ignore[attr-defined]
        self.fields["incident_type_name"].choices = blank + types  # type: ignore[attr-defined]
        self.fields["category_code"].choices = blank + categories  # type: ignore[attr-defined]
        self.fields["expected_level_rank"].choices = blank + [(str(rank), name) for rank, name in levels]  # type: ignore[attr-defined]

    @staticmethod
    def initial_of(scenario: Scenario) -> dict[str, Any]:
        return {
            "title": scenario.title,
            "platform": scenario.platform,
            "description": scenario.description,
            "incident_type_name": scenario.incident_type_name,
            "category_code": scenario.category_code,
            "expected_level_rank": scenario.expected_level_rank,
            "objectives": scenario.objectives,
        }


class ScenarioPostForm(forms.Form):
    minutes_after = forms.IntegerField(
        label=_("开始后（分钟）"), min_value=0, max_value=MAX_POST_MINUTES, initial=0, help_text=_("演练时间")
    )
    platform = forms.ChoiceField(label=_("平台"), choices=Platform.choices, initial=Platform.WEIBO)
    author = forms.CharField(label=_("发布者"), max_length=200, required=False)
    url = forms.CharField(label=_("链接"), max_length=1000, required=False)
    text = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 2}))


class BaseScenarioPostFormSet(forms.BaseFormSet):
    def drafts(self) -> list[PostDraft]:
        """The posts filled in (a blank row is skipped, a row marked for deletion dropped)."""
        posts = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not form.has_changed():
                continue
            posts.append(
                PostDraft(
                    text=data["text"],
                    minutes_after=data["minutes_after"],
                    platform=data["platform"],
                    author=data.get("author") or "",
                    url=data.get("url") or "",
                )
            )
        return posts


ScenarioPostFormSet = forms.formset_factory(
    ScenarioPostForm, formset=BaseScenarioPostFormSet, extra=2, can_delete=True, max_num=200, absolute_max=200
)


SPEED_CHOICES = [(str(value), label) for value, label in Drill.Speed.choices]


class DrillScheduleForm(forms.Form):
    scenario = forms.TypedChoiceField(label=_("演练脚本"), coerce=int)
    starts_at = local_datetime_field(_("开始时间"), help_text=_("到时系统自动生成演练舆情并开始计时。"))
    speed = forms.CharField(
        label=_("时限倍速"),
        widget=forms.Select(choices=SPEED_CHOICES),
        initial="60",
        help_text=_("×60 时，预案 30 分钟的口头报告时限在演练中为 30 秒，适合一小时内完成的桌面推演。"),
    )
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, scenarios: list[Scenario] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scenario"].choices = [(s.pk, s.title) for s in scenarios or []]  # type: ignore[attr-defined]

    def clean_speed(self) -> int:
        value = (self.cleaned_data.get("speed") or "").strip().lstrip("×xX")
        if value not in ("1", "10", "60"):
            raise forms.ValidationError(_("演练倍速只能是 ×1、×10 或 ×60。"))
        return int(value)


class DrillCancelForm(forms.Form):
    reason = forms.CharField(label=_("取消理由"), required=False, max_length=500)
