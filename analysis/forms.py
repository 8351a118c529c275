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
