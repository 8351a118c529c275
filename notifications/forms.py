"""Browser forms for the notification channels. They only parse and present input; the rules are
checked by notifications.services, whose error is shown next to the field it names."""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from notifications.models import NotificationChannel
from organizations.models import ResponseGroup


class ChannelForm(forms.Form):
    group = forms.ModelChoiceField(
        label=_("归属"),
        queryset=ResponseGroup.objects.none(),
        required=False,
        empty_label=_("我本人"),
        help_text=_("选择工作组时，发给该工作组的提醒和督办也会发到这里。"),
    )
    kind = forms.ChoiceField(label=_("方式"), choices=NotificationChannel.Kind.choices)
    target = forms.CharField(
        label=_("地址"),
        max_length=500,
        help_text=_(
            "电子邮件地址；或原样粘贴机器人设置里的 Webhook 地址，"
            "如 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(
        label=_("名称"), max_length=100, required=False, help_text=_("便于识别，如“值班手机邮箱”“领导小组工作群”。")
    )
    secret = forms.CharField(
        label=_("加签密钥"),
        max_length=200,
        required=False,
        help_text=_("仅钉钉机器人开启“加签”时填写（以 SEC 开头）。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, groups: QuerySet[ResponseGroup], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group_field: Any = self.fields["group"]
        group_field.queryset = groups.prefetch_related(None)
        if not groups:
            # Only people who manage a group choose an owner; everyone else adds their own channels.
            group_field.widget = forms.HiddenInput()
