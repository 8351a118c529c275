"""Operators issue and revoke API tokens, manage webhook subscriptions and resend deliveries here.

A token's secret is shown once, in the message after saving; only its hash is stored.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.admin import UnitScopedAdmin
from incidents.errors import DomainError
from incidents.models import Membership
from integrations.models import ApiToken, WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.tokens import api_token_issue, api_token_revoke
from integrations.webhooks import (
    WEBHOOK_EVENTS,
    webhook_delivery_resend,
    webhook_subscription_create,
    webhook_subscription_update,
)


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
class ApiTokenAdmin(UnitScopedAdmin):
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


class WebhookSubscriptionForm(forms.ModelForm):  # type: ignore[type-arg]
    events = forms.MultipleChoiceField(
        label=_("订阅事件"),
        choices=[(k, f"{k} · {v}") for k, v in WEBHOOK_EVENTS.items()],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookSubscription
        fields = ["organization", "name", "target_url", "events", "is_active"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(UnitScopedAdmin):
    form = WebhookSubscriptionForm
    list_display = ["name", "organization", "target_url", "is_active", "created_at"]
    list_filter = ["organization", "is_active"]
    readonly_fields = ["secret", "created_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        if change:
            webhook_subscription_update(
                subscription_id=obj.pk,
                actor=request.user,
                name=obj.name,
                target_url=obj.target_url,
                event_names=list(obj.events),
                is_active=obj.is_active,
            )
            return
        subscription = webhook_subscription_create(
            organization=obj.organization,
            actor=request.user,
            name=obj.name,
            target_url=obj.target_url,
            event_names=list(obj.events),
        )
        obj.pk, obj.secret = subscription.pk, subscription.secret


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("number", "attempted_at", "response_status", "error", "duration_ms")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(UnitScopedAdmin):
    unit_path = "subscription__organization"
    list_display = [
        "event",
        "subscription",
        "status",
        "attempts",
        "next_attempt_at",
        "last_response_status",
        "created_at",
    ]
    list_filter = ["status", "event"]
    inlines = [WebhookAttemptInline]
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("重新发送"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            try:
                webhook_delivery_resend(delivery_id=delivery.pk, actor=request.user)
            except DomainError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)
        self.message_user(request, _("已重新排队发送。"))
