"""The operators' admin (superusers only, opinion_ops.admin_site) for members, working groups and
the audit trail. Unit administrators use 单位设置 instead; what operators change here is written to
the unit's audit trail like any other change (AuditedAdmin)."""

from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import BaseModelFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext as _

from organizations.audit import SECRET_FIELDS, audit_record, snapshot
from organizations.models import AuditEntry, GroupMember, Membership, ResponseGroup


def _field_names(model: type[models.Model], names: list[str]) -> list[str]:
    concrete = {field.name for field in model._meta.concrete_fields}
    return [name for name in names if name in concrete and name not in SECRET_FIELDS]


class AuditedAdmin(admin.ModelAdmin):
    """Writes each save and delete (and the rows of its inlines) to the unit's audit trail, in the
    admin's own transaction. `audit_category` is the trail's category (organizations.audit)."""

    audit_category = ""

    def audit_unit(self, obj: Any) -> int | None:
        return getattr(obj, "organization_id", None)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        fields = _field_names(type(obj), list(form.changed_data))
        before = snapshot(type(obj).objects.get(pk=obj.pk), fields) if change else None
        super().save_model(request, obj, form, change)
        if change and not fields:
            return
        verb = _("修改") if change else _("新增")
        audit_record(
            organization=self.audit_unit(obj),
            actor=request.user,
            action=f"{self.audit_category}.admin_{'update' if change else 'create'}",
            target=obj,
            summary=_("运维后台%(verb)s%(model)s：%(obj)s")
            % {"verb": verb, "model": obj._meta.verbose_name, "obj": obj},
            before=before,
            after=snapshot(obj, fields or _field_names(type(obj), [f.name for f in obj._meta.concrete_fields])),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before = snapshot(obj, _field_names(type(obj), [f.name for f in obj._meta.concrete_fields]))
        unit, label = self.audit_unit(obj), str(obj)
        super().delete_model(request, obj)
        audit_record(
            organization=unit,
            actor=request.user,
            action=f"{self.audit_category}.admin_delete",
            target_type=str(obj._meta.model_name),
            summary=_("运维后台删除%(model)s：%(obj)s") % {"model": obj._meta.verbose_name, "obj": label},
            before=before,
        )

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: BaseModelFormSet, change: bool) -> None:  # type: ignore[type-arg]
        super().save_formset(request, form, formset, change)
        rows = [*formset.new_objects, *(obj for obj, _fields in formset.changed_objects)]
        removed = [str(obj) for obj in formset.deleted_objects]
        if not rows and not removed:
            return
        parent = form.instance
        audit_record(
            organization=self.audit_unit(parent),
            actor=request.user,
            action=f"{self.audit_category}.admin_update",
            target=parent,
            summary=_("运维后台修改%(model)s：%(obj)s") % {"model": parent._meta.verbose_name, "obj": parent},
            after={
                "saved": [str(obj) for obj in rows],
                "removed": removed,
            },
        )


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    audit_category = "member"
    list_display = ["user", "organization", "is_unit_admin", "phone"]
    list_filter = ["organization", "is_unit_admin"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(ResponseGroup)
class ResponseGroupAdmin(AuditedAdmin):
    audit_category = "group"
    list_display = ["name", "kind", "organization"]
    list_filter = ["organization", "kind"]
    inlines = [GroupMemberInline]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only."""

    list_display = ["recorded_at", "organization", "actor", "action", "summary"]
    list_filter = ["organization", "action"]
    search_fields = ["summary", "target_label", "actor__username"]
    list_select_related = ["organization", "actor"]
    date_hierarchy = "recorded_at"
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
