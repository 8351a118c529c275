"""Forms of 单位设置 (people and working groups): they only read input; the services validate."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.models import GroupMember, ResponseGroup


class MemberCreateForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150, help_text=_("登录用，创建后不能修改。"))
    full_name = forms.CharField(label=_("姓名"), max_length=150)
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("请当面或通过可靠途径告知本人，并提醒其登录后修改。"),
    )
    email = forms.CharField(label=_("电子邮件"), max_length=254, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)
    is_unit_admin = forms.BooleanField(label=_("单位管理员"), required=False, help_text=_("可进入单位设置。"))


class MemberEditForm(forms.Form):
    full_name = forms.CharField(label=_("姓名"), max_length=150)
    email = forms.CharField(label=_("电子邮件"), max_length=254, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)
    is_unit_admin = forms.BooleanField(label=_("单位管理员"), required=False)
    is_active = forms.BooleanField(label=_("账号可用"), required=False, help_text=_("停用后不能登录；其处置记录保留。"))


class PasswordSetForm(forms.Form):
    password = forms.CharField(
        label=_("新密码"), widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
    )


class GroupForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(
        label=_("类别"), choices=ResponseGroup.Kind.choices, help_text=_("类别决定成员在平台上的职责权限。")
    )
    duties = forms.CharField(label=_("工作职责"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class GroupMemberForm(forms.Form):
    user = forms.TypedChoiceField(label=_("人员"), coerce=int, choices=())
    position = forms.ChoiceField(label=_("职务"), choices=GroupMember.Position.choices, initial="member")
    duties = forms.CharField(label=_("分工"), max_length=200, required=False)

    def __init__(self, *args: Any, people: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "—"), *(people or [])]  # type: ignore[attr-defined]


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("类别"), required=False, choices=())
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    since = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, actions: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("全部")), *(actions or [])]  # type: ignore[attr-defined]
