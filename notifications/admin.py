"""Admin: channels, the in-app notifications, and the delivery log with failed deliveries to retry."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from incidents.models import DeadlineSignal
from notifications.channels import channel_unit_id, channel_validate
from notifications.models import Delivery, DeliveryAttempt, Notification, NotificationChannel
from notifications.services import deliveries_retry
from organizations.admin import AuditedAdmin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NotificationChannelForm(forms.ModelForm):  # type: ignore[type-arg]
    """The admin checks a channel the way self-service does: one owner, an address that can deliver."""

    class Meta:
        model = NotificationChannel
        fields = ["user", "group", "organization", "kind", "name", "target", "secret", "events", "enabled"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            channel_validate(
                kind=data.get("kind", ""),
                target=data.get("target", ""),
                secret=data.get("secret", ""),
                user_id=getattr(data.get("user"), "pk", None),
                group_id=getattr(data.get("group"), "pk", None),
                organization_id=getattr(data.get("organization"), "pk", None),
                events=data.get("events"),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


@admin.register(NotificationChannel)
class NotificationChannelAdmin(AuditedAdmin):
    audit_category = "channel"
    form = NotificationChannelForm
    list_display = ["__str__", "kind", "name", "user", "group", "organization", "enabled", "created_at"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "user__username", "group__name", "organization__name"]
    raw_id_fields = ["user", "group", "organization", "created_by"]

    def audit_unit(self, obj: NotificationChannel) -> int | None:
        return channel_unit_id(obj)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "duration_ms", "ok", "error", "response_status", "response_body"]
    readonly_fields = ["number", "started_at", "duration_ms", "ok", "error", "response_status", "response_body"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["title", "channel", "status", "attempts", "next_attempt_at", "short_error", "created_at", "sent_at"]
    list_filter = ["status", "channel__kind", "kind", "created_at"]
    search_fields = ["title", "idempotency_key", "last_error"]
    list_select_related = ["channel", "channel__user", "channel__group"]
    inlines = [DeliveryAttemptInline]
    actions = ["retry"]
    date_hierarchy = "created_at"

    @admin.display(description=_("最近错误"))
    def short_error(self, obj: Delivery) -> str:
        return obj.last_error[:80]

    @admin.action(description=_("重新发送所选的失败投递"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = deliveries_retry(delivery_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("已重新排队 %(n)d 条投递。", "已重新排队 %(n)d 条投递。", count) % {"n": count},
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["title", "recipient__username"]
    list_select_related = ["recipient"]


@admin.register(DeadlineSignal)
class DeadlineSignalAdmin(ReadOnlyAdmin):
    list_display = ["deadline", "kind", "step", "planned_at", "created_at"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["deadline", "deadline__incident"]
