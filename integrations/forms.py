"""The form of 单位设置 → 接口令牌: it reads input; integrations.tokens validates."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.forms import local_datetime_field
from integrations.models import ApiToken


class TokenIssueForm(forms.Form):
    name = forms.CharField(label=_("对接系统名称"), max_length=100)
    user = forms.TypedChoiceField(
        label=_("对接账号"),
        coerce=int,
        choices=(),
        help_text=_("令牌以该账号的身份和工作组角色操作；建议为对接系统单独开设账号。"),
    )
    scope = forms.ChoiceField(label=_("权限范围"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
    expires_at = local_datetime_field(_("过期时间"), required=False, help_text=_("留空表示长期有效，直至吊销。"))
    rate_limit_per_minute = forms.IntegerField(
        label=_("每分钟请求上限"), required=False, min_value=1, help_text=_("留空使用系统默认值。")
    )

    def __init__(self, *args: Any, people: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "—"), *(people or [])]  # type: ignore[attr-defined]
