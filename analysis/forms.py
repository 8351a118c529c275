from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from analysis.models import RiskLabel

MAX_CSV_BYTES = 20 * 1024 * 1024


class LabelForm(forms.Form):
    label = forms.ChoiceField(
        label=_("标注"),
        choices=[("", _("取消标注")), *RiskLabel.choices],
        required=False,
        error_messages={"invalid_choice": _("请选择负面、中性或正面。")},
    )


class RiskWordsForm(forms.Form):
    risk_words = forms.CharField(
        label=_("本单位风险词"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("本单位特别关注的词（如校名简称、在办事项），含有这些词的信息风险分更高；用空格、逗号或换行分隔。"),
    )


class TrainForm(forms.Form):
    csv = forms.FileField(
        label=_("标注文件（可选）"),
        required=False,
        help_text=_(
            "CSV 文件，列名 text,label；label 为 negative/neutral/positive（或负面/中性/正面、0/1）。"
            "不选文件则用本单位已标注的信息训练。"
        ),
    )

    def clean_csv(self) -> object:
        upload = self.cleaned_data.get("csv")
        if upload is not None and upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("文件不超过 20 MB。"))
        return upload


def _count(label: Any, required: bool = False, help_text: Any = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=1,
        max_value=1_000_000,
        help_text=help_text,
        error_messages={
            "min_value": _("须为不小于 1 的整数。"),
            "max_value": _("不能超过 1000000。"),
            "invalid": _("请填写整数。"),
            "required": _("请填写此项。"),
        },
    )


def _window(label: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=7 * 24 * 60,
        error_messages={
            "min_value": _("统计时段须在 1 到 10080 分钟之间。"),
            "max_value": _("统计时段须在 1 到 10080 分钟之间。"),
            "invalid": _("请填写整数（分钟）。"),
            "required": _("请填写统计时段。"),
        },
    )


class RiskRulesForm(forms.Form):
    """A scheme's alert rules on risk and growth; an empty threshold turns its rule off."""

    risky_posts = _count(_("负面信息达到（条）"), help_text=_("留空不启用。"))
    risky_minutes = _window(_("负面信息统计时段（分钟）"))
    growth_percent = _count(_("增长幅度达到（%）"), help_text=_("最近一个时段较前一时段的增幅；留空不启用。"))
    growth_minutes = _window(_("增长统计时段（分钟）"))
    growth_min_posts = _count(
        _("最近时段至少（条）"), required=True, help_text=_("条数太少时不计增长，避免 1 条变 2 条就算增长 100%。")
    )
    cluster_posts = _count(_("聚类热度达到（条）"), help_text=_("同一聚类在统计时段内的信息条数；留空不启用。"))
    cluster_minutes = _window(_("聚类热度统计时段（分钟）"))
