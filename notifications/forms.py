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


class WebhookForm(forms.Form):
    """单位设置 → 系统对接: a subscription of another system to the unit's events."""

    name = forms.CharField(label=_("名称"), max_length=100, help_text=_("如“市舆情监测平台”。"))
    target_url = forms.CharField(
        label=_("接收地址"),
        max_length=1000,
        help_text=_("对方系统接收事件的 https:// 地址；须为公网地址，内网地址须由运维列入允许范围。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label=_("订阅事件"), choices=(), widget=forms.CheckboxSelectMultiple, required=False
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from notifications.routing import WEBHOOK_EVENTS

        super().__init__(*args, **kwargs)
        self.fields["events"].choices = [(name, f"{label}（{name}）") for name, label in WEBHOOK_EVENTS.items()]  # type: ignore[attr-defined]
