"""The upload and withdrawal forms of the incident page; evidence.services decides what is kept."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evidence.content import allowed_extensions, size_label, too_large_message
from incidents.models import Report


def target_choices(reports: list[Report], mentions: list[Any]) -> list[tuple[str, str]]:
    choices = [("incident", str(_("本舆情")))]
    for report in reports:
        label = _("报告：%(kind)s · 向%(to)s报告 · %(at)s") % {
            "kind": report.get_kind_display(),
            "to": report.reported_to,
            "at": timezone.localtime(report.occurred_at).strftime("%m-%d %H:%M"),
        }
        choices.append((f"report-{report.pk}", str(label)))
    for mention in mentions:
        label = _("帖文：%(platform)s · %(text)s") % {
            "platform": mention.get_platform_display(),
            "text": mention.text[:30],
        }
        choices.append((f"mention-{mention.pk}", str(label)))
    return choices


class EvidenceUploadForm(forms.Form):
    target = forms.ChoiceField(label=_("附于"))
    description = forms.CharField(
        label=_("说明"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如：截图来源、采集时间、原帖是否已删除。"),
    )
    file = forms.FileField(label=_("文件"))

    def __init__(
        self, *args: Any, reports: list[Report], mentions: list[Any], too_large: bool = False, **kwargs: Any
    ) -> None:
        kwargs.setdefault("prefix", "evidence")
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.fields["target"].choices = target_choices(reports, mentions)  # type: ignore[attr-defined]
        extensions = allowed_extensions()
        self.fields["file"].widget.attrs["accept"] = ",".join(f".{ext}" for ext in extensions)
        self.fields["file"].help_text = _("可上传 %(types)s，单个文件不超过 %(limit)s；按文件内容核验类型。") % {
            "types": "、".join(f".{ext}" for ext in extensions),
            "limit": size_label(settings.EVIDENCE_MAX_BYTES),
        }

    def full_clean(self) -> None:
        """A file skipped for its size (evidence.uploads) reads "too large", not "missing"."""
        super().full_clean()
        if self.is_bound and self.too_large:
            self._errors["file"] = self.error_class(  # type: ignore[attr-defined]
                [too_large_message()], renderer=self.renderer
            )
            self.cleaned_data.pop("file", None)

    def target_ids(self) -> dict[str, int | None]:
        """The service's report_id / mention_id for the chosen target."""
        kind, _sep, pk = self.cleaned_data["target"].partition("-")
        return {
            "report_id": int(pk) if kind == "report" else None,
            "mention_id": int(pk) if kind == "mention" else None,
        }


class EvidenceWithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回理由"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("证据不会被删除：撤回后仍保留在处置记录中，并标明撤回人、时间和理由。"),
    )
