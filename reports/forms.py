"""Forms of the monitoring reports' pages; the rules (periods, recipients) live in reports.services,
whose DomainError is shown next to the field it names."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.forms import LOCAL_INPUT_FORMAT, local_datetime_field
from organizations.models import ResponseGroup
from organizations.selectors import person_name
from reports.models import SCHEDULED_KINDS, Kind


class PersonChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person_name(obj)


def _people(organization_id: int) -> Any:
    return (
        get_user_model()
        .objects.filter(is_active=True, membership__organization_id=organization_id)
        .order_by("last_name", "first_name", "username")
    )


class AudienceForm(forms.Form):
    """Who a report goes to: people of the unit (their notification centre and channels) and working
    groups (their channels, e.g. a chat group)."""

    recipients = PersonChoice(
        label=_("接收人"), queryset=get_user_model().objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    groups = forms.ModelMultipleChoiceField(
        label=_("接收工作组"),
        queryset=ResponseGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, organization_id: int, has_subordinates: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recipients = self.fields["recipients"]
        assert isinstance(recipients, forms.ModelMultipleChoiceField)
        recipients.queryset = _people(organization_id)
        groups = self.fields["groups"]
        assert isinstance(groups, forms.ModelMultipleChoiceField)
        groups.queryset = ResponseGroup.objects.filter(organization_id=organization_id).order_by("name")
        if not has_subordinates:
            del self.fields["includes_subordinates"]


class MonitoringReportForm(AudienceForm):
    kind = forms.ChoiceField(label=_("报告类型"), choices=Kind.choices)
    start = local_datetime_field(_("统计起始"))
    end = local_datetime_field(_("统计截止"), help_text=_("统计起始（含）至统计截止（不含）之间的舆情、信息和时限。"))
    title = forms.CharField(
        label=_("标题"),
        required=False,
        max_length=200,
        help_text=_("日报、周报、月报可不填，按单位和时段生成；专报必填。"),
    )
    includes_subordinates = forms.BooleanField(label=_("含下级单位上报的舆情"), required=False)
    commentary = forms.CharField(
        label=_("研判意见"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("对本期舆情态势的分析和下一步工作建议，印在报告末尾。"),
    )
    field_order = ["kind", "start", "end", "title", "includes_subordinates", "commentary", "recipients", "groups"]


def initial_period(kind: str, start: Any, end: Any) -> dict[str, str]:
    return {
        "kind": kind,
        "start": timezone.localtime(start).strftime(LOCAL_INPUT_FORMAT),
        "end": timezone.localtime(end).strftime(LOCAL_INPUT_FORMAT),
    }


class ReportScheduleForm(AudienceForm):
    kind = forms.ChoiceField(widget=forms.HiddenInput, choices=[(k.value, k.label) for k in SCHEDULED_KINDS])
    enabled = forms.BooleanField(label=_("启用"), required=False)
    send_time = forms.TimeField(
        label=_("报送时间"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), input_formats=["%H:%M"]
    )
    includes_subordinates = forms.BooleanField(label=_("含下级单位上报的舆情"), required=False)
