"""Adding a monitored post by hand; monitoring.services decides whether it may be saved."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.forms import local_datetime_field
from incidents.models import Platform


class MentionForm(forms.Form):
    platform = forms.ChoiceField(label=_("平台"), choices=Platform.choices, initial=Platform.WEIBO)
    url = forms.CharField(label=_("链接"), max_length=1000, required=False)
    author_handle = forms.CharField(label=_("发布者"), max_length=200, required=False)
    text = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 3}))
    published_at = local_datetime_field(_("发布时间"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "mention")
        super().__init__(*args, **kwargs)
