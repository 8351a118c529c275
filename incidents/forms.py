"""Browser forms. They only parse and present input; every rule is checked by the services,
whose DomainError is shown next to the field it names."""

from collections.abc import Callable
from functools import cached_property
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import (
    Assessment,
    Classification,
    HandlingCategory,
    Incident,
    IncidentType,
    Measure,
    Platform,
    Report,
    Statement,
    WarningLevel,
)
from organizations.models import ResponseGroup

LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=LOCAL_INPUT_FORMAT, **kwargs)


def local_datetime_field(label: Any, required: bool = True, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
    )


def now_local() -> str:
    return timezone.localtime().strftime(LOCAL_INPUT_FORMAT)


class VersionedForm(forms.Form):
    """Carries the version of the page the user saw, so a service can refuse a stale write."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class IncidentCreateForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=200)
    description = forms.CharField(
        label=_("看到了什么"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("简要描述内容和传播情况。"),
    )
    source_links = forms.CharField(
        label=_("来源链接"), required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("每行一个链接。")
    )
    platform = forms.ChoiceField(label=_("平台"), choices=Platform.choices, initial=Platform.WEIBO)
    incident_type = forms.ModelChoiceField(
        label=_("舆情类型"),
        queryset=IncidentType.objects.none(),
        required=False,
        empty_label=_("暂不确定"),
        help_text=_("按本单位预案的分类，可稍后在详情页修改。"),
    )
    discovered_at = local_datetime_field(_("发现时间"), help_text=_("默认当前时间，可改为更早的时间。"))
    is_drill = forms.BooleanField(label=_("应急演练"), required=False, help_text=_("演练数据不计入统计。"))
    logged_late = forms.BooleanField(
        label=_("后补登记"),
        required=False,
        help_text=_("事后补录的舆情：登记时已过期的时限记为逾期，不再发送提醒和升级。"),
    )

    def __init__(self, *args: Any, organization_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incident_type"].queryset = active_plan_types(organization_id)  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("discovered_at", now_local())


def active_plan_types(organization_id: int | None) -> Any:
    """The 舆情类型 of the unit's active plan, which a new incident is logged under."""
    return IncidentType.objects.filter(
        plan__organization_id=organization_id,  # type: ignore[misc]
        plan__status="active",
    ).order_by("order", "id")


class IncidentEditForm(VersionedForm):
    """修改基本情况: the facts of an open incident; a new discovery time needs a reason."""

    title = forms.CharField(label=_("标题"), max_length=200)
    platform = forms.ChoiceField(label=_("平台"), choices=Platform.choices)
    incident_type = forms.ModelChoiceField(
        label=_("舆情类型"), queryset=IncidentType.objects.none(), required=False, empty_label=_("暂不确定")
    )
    discovered_at = local_datetime_field(_("发现时间"))
    reason = forms.CharField(
        label=_("修改发现时间的理由"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("仅在修改发现时间时填写，记入处置记录；尚未到期的时限按新的发现时间重新计算。"),
    )
    description = forms.CharField(label=_("情况描述"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    source_links = forms.CharField(
        label=_("来源链接"), required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("每行一个链接。")
    )

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.incident = incident
        self.fields["incident_type"].queryset = IncidentType.objects.filter(plan_id=incident.plan_id).order_by(  # type: ignore[attr-defined]
            "order", "id"
        )
        if not self.is_bound:
            self.initial.update(
                {
                    "title": incident.title,
                    "platform": incident.platform,
                    "incident_type": incident.incident_type_id,
                    "discovered_at": timezone.localtime(incident.discovered_at).strftime(LOCAL_INPUT_FORMAT),
                    "description": incident.description,
                    "source_links": incident.source_links,
                }
            )

    def clean_discovered_at(self) -> Any:
        """The minute shown is the stored time: posting it back unchanged is no change."""
        value = self.cleaned_data["discovered_at"]
        shown = timezone.localtime(self.incident.discovered_at).replace(second=0, microsecond=0)
        return self.incident.discovered_at if value == shown else value


def clock_fields_add(form: forms.Form, clocks: Any, label: Any) -> None:
    """A leader settles each of `clocks` in the same step (merging a duplicate, moving on to 总结):
    waived or not applicable, each with a reason. `label` names the clock (%(name)s)."""
    form.settled_clocks = list(clocks)  # type: ignore[attr-defined]
    for clock in form.settled_clocks:  # type: ignore[attr-defined]
        form.fields[f"clock_{clock.pk}"] = forms.ChoiceField(
            label=label % {"name": clock.name},
            choices=[("waive", _("豁免")), ("not_applicable", _("不再适用"))],
        )
        form.fields[f"reason_{clock.pk}"] = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))


def clock_resolutions(form: forms.Form) -> dict[int, dict[str, str]]:
    """{deadline id: {"resolution": …, "reason": …}} from the fields clock_fields_add drew."""
    return {
        clock.pk: {
            "resolution": form.cleaned_data[f"clock_{clock.pk}"],
            "reason": form.cleaned_data[f"reason_{clock.pk}"],
        }
        for clock in form.settled_clocks  # type: ignore[attr-defined]
    }


class MergeForm(VersionedForm):
    """合并重复舆情; a leader settles each missed clock of this incident in the same step."""

    into = forms.CharField(
        label=_("并入的舆情编号"),
        max_length=20,
        help_text=_("本单位另一起尚未办结的舆情，例如 2026-0042。本事件的处置记录留在本事件，关联帖文转入该舆情。"),
    )
    reason = forms.CharField(label=_("合并理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, missed_clocks: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clock_fields_add(self, missed_clocks, _("已逾期的“%(name)s”"))

    def resolutions(self) -> dict[int, dict[str, str]]:
        return clock_resolutions(self)


class LinkForm(VersionedForm):
    related = forms.CharField(
        label=_("关联的舆情编号"), max_length=20, help_text=_("本单位的另一起舆情（可已办结），例如 2026-0042。")
    )
    note = forms.CharField(
        label=_("关联说明"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("发表评论"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("可用 @姓名 或 @用户名 提醒本单位人员，被提及的人会收到通知。评论发出后不能修改或删除。"),
    )


class AssessmentForm(forms.Form):
    nature = forms.CharField(label=_("舆情性质"), widget=forms.Textarea(attrs={"rows": 2}))
    scope = forms.CharField(label=_("影响范围"), widget=forms.Textarea(attrs={"rows": 2}))
    trend = forms.ChoiceField(label=_("发展趋势"), choices=Assessment.Trend.choices)
    risk = forms.ChoiceField(label=_("风险等级"), choices=Assessment.Risk.choices)
    proposed_level = forms.ModelChoiceField(
        label=_("建议预警级别"), queryset=WarningLevel.objects.none(), required=False
    )
    proposed_category = forms.ModelChoiceField(
        label=_("建议处置类别"), queryset=HandlingCategory.objects.none(), required=False
    )
    recommendation = forms.CharField(label=_("处置建议"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        incident: Incident,
        levels: Any,
        categories: Any,
        aids: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["proposed_level"].queryset = levels  # type: ignore[attr-defined]
        self.fields["proposed_category"].queryset = categories  # type: ignore[attr-defined]
        self._aids = aids

    @cached_property
    def assessment_aids(self) -> list[dict[str, Any]]:
        """What the registered aids show above the form (incidents.assessment_aids); read when drawn."""
        return list(self._aids() if callable(self._aids) else self._aids or [])


class LevelForm(VersionedForm):
    level = forms.ModelChoiceField(label=_("预警级别"), queryset=WarningLevel.objects.none(), empty_label=None)

    def __init__(self, *args: Any, incident: Incident, levels: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].queryset = levels  # type: ignore[attr-defined]


class WarningNoticeForm(LevelForm):
    """发布预警 as a notice: the level, the text, the groups that must act and what each must do."""

    text = forms.CharField(
        label=_("预警内容"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("发给各工作组的预警通知正文：情况、研判结论和总体要求。"),
    )
    groups = forms.ModelMultipleChoiceField(
        label=_("须行动的工作组及要求"),
        queryset=ResponseGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("勾选的工作组通过其通知方式收到预警通知，并列为承办工作组；每组可写明具体要求。"),
    )

    def __init__(self, *args: Any, incident: Incident, levels: Any, groups: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, incident=incident, levels=levels, **kwargs)
        group_rows = list(groups if groups is not None else ResponseGroup.objects.none())
        self.fields["groups"].queryset = groups if groups is not None else ResponseGroup.objects.none()  # type: ignore[attr-defined]
        for group in group_rows:
            self.fields[f"requirement_{group.pk}"] = forms.CharField(
                label=_("对“%(group)s”的要求") % {"group": group.name},
                required=False,
                max_length=1000,
            )

    def visible_notice_fields(self) -> list[Any]:
        """The fields drawn above the groups (the groups and their requirements are drawn as rows)."""
        return [bound for bound in self.visible_fields() if bound.name != "groups" and "requirement_" not in bound.name]

    def group_rows(self) -> list[tuple[Any, Any]]:
        """Each group's checkbox with its requirement field, in the order of the choices."""
        return [(widget, self[f"requirement_{widget.data['value'].value}"]) for widget in self["groups"].subwidgets]

    def assignments(self) -> list[tuple[ResponseGroup, str]]:
        return [
            (group, self.cleaned_data.get(f"requirement_{group.pk}") or "") for group in self.cleaned_data["groups"]
        ]


class ChangeLevelForm(WarningNoticeForm):
    reason = forms.CharField(label=_("调整理由"), widget=forms.Textarea(attrs={"rows": 2}))
    send_notice = forms.BooleanField(
        label=_("同时发出预警通知"),
        required=False,
        help_text=_("勾选后，级别调整连同预警内容和要求通知所选工作组。"),
    )
    field_order = ["level", "reason", "send_notice", "text", "groups"]


class ReasonForm(VersionedForm):
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))


class EscalateForm(VersionedForm):
    note = forms.CharField(label=_("上报说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AssignGroupsForm(VersionedForm):
    groups = forms.ModelMultipleChoiceField(
        label=_("承办工作组"),
        queryset=ResponseGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, incident: Incident, groups: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = groups  # type: ignore[attr-defined]


class ReviewForm(forms.Form):
    summary = forms.CharField(label=_("处置经过"), widget=forms.Textarea(attrs={"rows": 3}))
    evaluation = forms.CharField(label=_("效果评估"), widget=forms.Textarea(attrs={"rows": 2}))
    lessons = forms.CharField(label=_("经验教训"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    plan_suggestions = forms.CharField(
        label=_("预案修订建议"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    accountability = forms.CharField(label=_("责任追究"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TaskForm(forms.Form):
    title = forms.CharField(label=_("任务"), max_length=200)
    description = forms.CharField(label=_("要求"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    assignee_group = forms.ModelChoiceField(
        label=_("承办工作组"), queryset=ResponseGroup.objects.none(), required=False
    )
    assignee = forms.ModelChoiceField(label=_("承办人"), queryset=get_user_model().objects.none(), required=False)
    due_at = local_datetime_field(_("办理时限"), required=False)

    def __init__(self, *args: Any, incident: Incident, groups: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee_group"].queryset = groups  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = people  # type: ignore[attr-defined]
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.get_username()  # type: ignore[attr-defined]


class TaskCompleteForm(forms.Form):
    task_id = forms.IntegerField(widget=forms.HiddenInput)
    result = forms.CharField(label=_("办理结果"), widget=forms.Textarea(attrs={"rows": 2}))


class MeasureForm(forms.Form):
    kind = forms.ChoiceField(label=_("措施"), choices=Measure.Kind.choices)
    description = forms.CharField(label=_("具体情况"), widget=forms.Textarea(attrs={"rows": 2}))
    target = forms.CharField(label=_("对象（平台、部门或媒体）"), max_length=200, required=False)
    url = forms.CharField(label=_("相关链接"), max_length=1000, required=False)
    taken_at = local_datetime_field(_("采取时间"))
    outcome = forms.CharField(label=_("结果"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("taken_at", now_local())


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=_("报告方式"), choices=Report.Kind.choices)
    reported_to = forms.CharField(label=_("报告对象"), max_length=200)
    occurred_at = local_datetime_field(_("报告时间"), help_text=_("实际报告的时间，可早于登记时间。"))
    summary = forms.CharField(label=_("内容摘要"), widget=forms.Textarea(attrs={"rows": 2}))
    cause = forms.CharField(label=_("起因"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    facts = forms.CharField(label=_("基本事实"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    measures_taken = forms.CharField(label=_("已采取措施"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    to_superior = forms.BooleanField(
        label=_("同时报上级主管部门"),
        required=False,
        help_text=_("预警级别的响应层级为“上级主管部门处置”时，书面报告自动报上级。"),
    )
    copy_number = forms.CharField(
        label=_("份号"),
        required=False,
        max_length=6,
        help_text=_("仅书面报告；涉密时填写，不足 6 位的自动补零。"),
    )
    classification = forms.ChoiceField(
        label=_("密级"),
        required=False,
        choices=[("", _("不涉密")), *Classification.choices],
        help_text=_("仅书面报告；选定后印在公文左上角。"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("occurred_at", now_local())


class ObjectReasonForm(forms.Form):
    """A reason about one row of the incident (e.g. waiving one deadline)."""

    object_id = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))


class ObjectForm(forms.Form):
    object_id = forms.IntegerField(widget=forms.HiddenInput)


class ReportSignOffForm(ObjectForm):
    """审阅签批 of a written report, with the leader's 批示."""

    comment = forms.CharField(
        label=_("领导批示"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("批示写入审定记录，报告人会收到通知。"),
    )


DEADLINE_DECISIONS = {
    "waive": ("waive_deadline", _("豁免")),
    "not_applicable": ("close_deadline", _("不再适用")),
    "confirm": ("confirm_deadline", _("确认按时完成")),
}


class DeadlineDecisionForm(forms.Form):
    """A leader's decision on one clock: waive it, close it as not applicable, or confirm it on time."""

    object_id = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(label=_("处理方式"), choices=[(k, v[1]) for k, v in DEADLINE_DECISIONS.items()])
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))


class StartReviewForm(VersionedForm):
    """转入总结评估; a leader settles each clock still counting in the same step."""

    def __init__(self, *args: Any, open_clocks: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clock_fields_add(self, open_clocks, _("仍在计时的“%(name)s”"))

    def resolutions(self) -> dict[int, dict[str, str]]:
        return clock_resolutions(self)


class StatementCreateForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=Statement.Kind.choices)
    title = forms.CharField(label=_("标题"), max_length=200)
    text = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 6}))


class StatementReviseForm(VersionedForm):
    text = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 6}))


class StatementDecideForm(VersionedForm):
    decision = forms.ChoiceField(
        label=_("审定结果"), choices=[("approve", _("同意发布")), ("reject", _("退回修改"))], widget=forms.HiddenInput
    )
    comment = forms.CharField(label=_("审定意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StatementLegalReviewForm(VersionedForm):
    decision = forms.ChoiceField(
        label=_("法律审核结果"),
        choices=[("approve", _("审核通过")), ("reject", _("退回修改"))],
        widget=forms.HiddenInput,
    )
    comment = forms.CharField(label=_("法律审核意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StatementPublishForm(VersionedForm):
    channel = forms.CharField(label=_("发布渠道"), max_length=200)
    url = forms.CharField(label=_("发布链接"), max_length=1000, required=False)
    published_at = local_datetime_field(_("发布时间"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("published_at", now_local())


def unit_people(organization_id: int) -> Any:
    return get_user_model().objects.filter(membership__organization_id=organization_id).order_by("first_name", "id")
