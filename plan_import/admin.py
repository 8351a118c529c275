"""The operators' admin (superusers only): imports read, never changed; units import and review
their plans in 单位设置, which audits every step."""

from django.contrib import admin

from plan_import.models import PlanImport


@admin.register(PlanImport)
class PlanImportAdmin(admin.ModelAdmin):
    list_display = ["source_name", "organization", "status", "created_by", "created_at", "plan", "groups_applied_at"]
    list_filter = ["status", "organization"]
    list_select_related = ["organization", "created_by", "plan"]
    search_fields = ["source_name", "title"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
