"""The Django admin for units, their members and working groups.

Superusers see every unit; a staff user who is a unit admin sees and edits only their own unit.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from organizations.models import GroupMember, Membership, ResponseGroup
from organizations.roles import user_organization_id


class UnitScopedAdmin(admin.ModelAdmin):
    """Limits a unit admin to rows of their own unit (`unit_path` names the FK path)."""

    unit_path = "organization"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.unit_path}_id": user_organization_id(request.user)})

    def _is_unit_admin(self, request: HttpRequest) -> bool:
        return bool(
            request.user.is_superuser or Membership.objects.filter(user_id=request.user.pk, is_unit_admin=True).exists()  # type: ignore[misc]
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_unit_admin(request) and super().has_module_permission(request)


@admin.register(Membership)
class MembershipAdmin(UnitScopedAdmin):
    list_display = ["user", "organization", "is_unit_admin", "phone"]
    list_filter = ["organization", "is_unit_admin"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(ResponseGroup)
class ResponseGroupAdmin(UnitScopedAdmin):
    list_display = ["name", "kind", "organization"]
    list_filter = ["organization", "kind"]
    inlines = [GroupMemberInline]
