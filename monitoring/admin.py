"""The operators' admin (superusers only): posts, sources and schemes read and searched, alerts
and the purge log to look into; changes are made in the unit's pages, which audit them."""

from django.contrib import admin

from monitoring.models import Alert, DutyShift, KeywordScheme, Mention, MonitoringSettings, PostPurge, Source


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ["text", "platform", "author_handle", "source", "captured_at", "matched_at", "incident"]
    list_filter = ["platform", "organization"]
    list_select_related = ["source", "incident"]
    search_fields = ["text", "author_handle", "url", "external_id"]
    readonly_fields = ["content_hash"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Source)
class SourceAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "organization",
        "kind",
        "enabled",
        "last_success_at",
        "failures",
        "last_error",
        "items_total",
    ]
    list_filter = ["kind", "enabled", "organization"]
    search_fields = ["name", "url"]


@admin.register(KeywordScheme)
class KeywordSchemeAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "severity", "enabled", "threshold_posts", "window_minutes", "updated_at"]
    list_filter = ["severity", "enabled", "organization"]
    search_fields = ["name"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["scheme", "organization", "status", "severity", "post_count", "last_matched_at", "incident"]
    list_filter = ["status", "severity", "organization"]
    list_select_related = ["scheme", "organization", "incident"]


@admin.register(DutyShift)
class DutyShiftAdmin(ReadOnlyAdmin):
    list_display = ["user", "organization", "starts_at", "ends_at", "note"]
    list_filter = ["organization"]


@admin.register(MonitoringSettings)
class MonitoringSettingsAdmin(ReadOnlyAdmin):
    list_display = ["organization", "retention_days", "updated_at"]


@admin.register(PostPurge)
class PostPurgeAdmin(ReadOnlyAdmin):
    list_display = ["organization", "ran_at", "cutoff", "posts_deleted"]
    list_filter = ["organization"]
