"""The forms of the monitoring configuration pages; monitoring.config checks and saves what they carry."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.forms import local_datetime_field
from incidents.models import Platform
from monitoring.config import INTERVAL_MINUTES, RETENTION_DAYS, THRESHOLD_POSTS, WINDOW_MINUTES, WORDS_LIMIT
from monitoring.models import KeywordScheme

WORDS_HELP = _("多个词用空格、顿号、逗号、分号或换行分开；任意一个出现即可。")


def _words(label: Any, help_text: Any = WORDS_HELP) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=WORDS_LIMIT,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FeedForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    url = forms.CharField(
        label=_("订阅地址"),
        max_length=1000,
        help_text=_("RSS/Atom 地址或 RSSHub 路由地址，须以 http:// 或 https:// 开头。"),
        widget=forms.URLInput(attrs={"inputmode": "url"}),
    )
    platform = forms.ChoiceField(label=_("平台"), choices=Platform.choices, initial=Platform.NEWS)
    interval_minutes = forms.IntegerField(
        label=_("抓取间隔（分钟）"), min_value=INTERVAL_MINUTES[0], max_value=INTERVAL_MINUTES[1], initial=15
    )
    enabled = forms.BooleanField(label=_("启用"), required=False, initial=True)


class SourceNameForm(forms.Form):
    """The unit's API, import and manual sources: only their name and platform are theirs to change."""

    name = forms.CharField(label=_("名称"), max_length=100)
    platform = forms.ChoiceField(label=_("平台"), choices=Platform.choices)


class SchemeForm(forms.Form):
    name = forms.CharField(label=_("方案名称"), max_length=100)
    regions = _words(_("地域词"))
    subjects = _words(_("主体词"))
    events = _words(_("事件词"))
    exclusions = _words(_("排除词"), _("含有任意一个排除词的信息不命中本方案。"))
    expression = forms.CharField(
        label=_("高级表达式"),
        required=False,
        max_length=2000,
        help_text=_(
            "可选，与上面的词同时满足。A+B 或 A B：同时出现；A|B：任一出现；-A：不出现；A ~10 B：相距不超过 10 个字；"
            "( ) 分组；引号内为整体短语。"
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    scope = forms.ChoiceField(
        label=_("匹配范围"), choices=KeywordScheme.Scope.choices, initial=KeywordScheme.Scope.FULL
    )
    severity = forms.ChoiceField(
        label=_("预警等级"), choices=KeywordScheme.Severity.choices, initial=KeywordScheme.Severity.MEDIUM
    )
    threshold_posts = forms.IntegerField(
        label=_("触发条数"),
        min_value=THRESHOLD_POSTS[0],
        max_value=THRESHOLD_POSTS[1],
        initial=1,
        help_text=_("统计时段内命中达到这么多条即预警。"),
    )
    window_minutes = forms.IntegerField(
        label=_("统计时段（分钟）"), min_value=WINDOW_MINUTES[0], max_value=WINDOW_MINUTES[1], initial=60
    )
    watched_accounts = forms.CharField(
        label=_("重点关注账号"),
        required=False,
        max_length=WORDS_LIMIT,
        help_text=_("每行一个；这些账号发布的相关信息立即预警。"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    recipients = forms.TypedMultipleChoiceField(
        label=_("接收人"),
        required=False,
        coerce=int,
        help_text=_("除当班值班人员外，预警还通知这些人。"),
        widget=forms.CheckboxSelectMultiple,
    )
    enabled = forms.BooleanField(label=_("启用"), required=False, initial=True)
    auto_incident = forms.BooleanField(
        label=_("预警时自动登记为舆情事件"), required=False, help_text=_("以方案创建人的名义登记。")
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipients"].choices = people  # type: ignore[attr-defined]

    def scheme_fields(self) -> dict[str, Any]:
        """What monitoring.config reads as the scheme's fields."""
        data = self.cleaned_data
        return {name: data[name] for name in self.fields if name not in ("recipients", "expected_version")}


class DutyShiftForm(forms.Form):
    user = forms.TypedChoiceField(label=_("值班人"), coerce=int)
    starts_at = local_datetime_field(_("开始时间"))
    ends_at = local_datetime_field(_("结束时间"), help_text=_("一次值班不超过 31 天。"))
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "——"), *people]  # type: ignore[attr-defined]


class MonitoringSettingsForm(forms.Form):
    exclusions = _words(
        _("全局排除词"), _("含有这些词的信息不触发任何监测方案。多个词用空格、顿号、逗号、分号或换行分开。")
    )
    retention_days = forms.IntegerField(
        label=_("信息保存天数"),
        min_value=RETENTION_DAYS[0],
        max_value=RETENTION_DAYS[1],
        help_text=_("7 至 3650 天。"),
    )
