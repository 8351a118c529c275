from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确（区分大小写），请重新输入。"),
        "inactive": _("该账号已停用，请联系本单位管理员。"),
    }


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("动态验证码或恢复码"),
        max_length=32,
        help_text=_("输入身份验证器上当前显示的 6 位数字；手机不在身边时，可输入一个恢复码（每个只能用一次）。"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("身份验证器显示的 6 位数字"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": True}
        ),
    )
