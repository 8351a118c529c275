"""The operators' view of evidence (superusers only, like the whole admin): read-only, because
attachments are append-only evidence; files are downloaded from the incident page."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from evidence.models import Evidence, EvidenceWithdrawal


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["uploaded_at", "incident", "original_name", "kind", "size", "sha256", "uploaded_by"]
    list_filter = ["kind"]
    list_select_related = ["incident", "uploaded_by"]
    search_fields = ["incident__reference", "original_name", "sha256"]
    readonly_fields = [field.name for field in Evidence._meta.fields]


@admin.register(EvidenceWithdrawal)
class EvidenceWithdrawalAdmin(ReadOnlyAdmin):
    list_display = ["withdrawn_at", "evidence", "withdrawn_by", "reason"]
    list_select_related = ["evidence", "withdrawn_by"]
    readonly_fields = [field.name for field in EvidenceWithdrawal._meta.fields]
