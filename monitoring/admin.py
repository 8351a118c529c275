from django.contrib import admin

from monitoring.models import Mention


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ["text", "platform", "author_handle", "captured_at", "incident"]
    list_filter = ["platform", "organization"]
    search_fields = ["text", "author_handle", "url"]
    readonly_fields = ["content_hash"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
