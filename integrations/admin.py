"""Operators issue and revoke API tokens here.

A token's secret is shown once, in the message after saving; only its hash is stored.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.models import ApiToken
from integrations.tokens import api_token_issue, api_token_revoke
from organizations.models import Membership


class ApiTokenForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ApiToken
        fields = ["organization", "name", "user", "scope", "rate_limit_per_minute", "expires_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        organization, user = data.get("organization"), data.get("user")
        if organization and user and not Membership.objects.filter(user=user, organization=organization).exists():
            self.add_error("user", _("对接账号须属于本单位。"))
        expires_at = data.get("expires_at")
        if expires_at and expires_at <= timezone.now():
            self.add_error("expires_at", _("过期时间须晚于当前时间。"))
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = [
        "name",
        "organization",
        "user",
        "scope",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["organization", "scope"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["organization", "name", "user", "scope", "rate_limit_per_minute", "expires_at"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj is None else [*self.fields, *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A token's identity never changes after issue; revoke and issue a new one instead.
        return [] if obj is None else [*self.fields, *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return
        token, raw = api_token_issue(
            organization=obj.organization,
            name=obj.name,
            user=obj.user,
            scope=obj.scope,
            actor=request.user,
            expires_at=obj.expires_at,
            rate_limit_per_minute=obj.rate_limit_per_minute,
        )
        obj.pk = token.pk
        self.message_user(
            request, _("令牌已签发，请立即复制，之后不会再显示：%(raw)s") % {"raw": raw}, messages.WARNING
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token_id=token.pk, actor=request.user)
        self.message_user(request, _("已吊销 %(n)s 个令牌。") % {"n": queryset.count()})
