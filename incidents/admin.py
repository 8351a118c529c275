"""The operators' admin (superusers only): units, plans, incidents and clocks.

Units configure their own plans in 单位设置; here operators set up new units and look after the
clocks (release those the sweeper set aside). Plan versions that are active or superseded are
read-only: "创建修订草稿" copies them.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from incidents.models import (
    Approval,
    Deadline,
    DeadlineRule,
    EmergencyPlan,
    HandlingCategory,
    Incident,
    IncidentType,
    TimelineEntry,
    WarningLevel,
)
from incidents.services import incidents as incident_services
from incidents.services.deadline_clock import deadlines_release
from incidents.services.plans import plan_activate, plan_create_default, plan_create_revision
from opinion_ops.errors import DomainError
from organizations.admin import AuditedAdmin
from organizations.models import Membership, Organization
from organizations.services import response_groups_create_default


class SetAsideFilter(admin.SimpleListFilter):
    title = _("处理失败")
    parameter_name = "set_aside"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("已隔离（处理失败）"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(sweep_failures__gt=0) if self.value() == "yes" else queryset


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    audit_category = "unit"
    list_display = ["name", "code", "parent"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
    inlines = [MembershipInline]
    actions = ["set_up_default_plan"]

    def audit_unit(self, obj: Any) -> int | None:
        return obj.pk  # type: ignore[no-any-return]

    @admin.action(description=_("创建默认预案和工作组"))
    def set_up_default_plan(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        for organization in queryset:
            response_groups_create_default(organization=organization)
            if organization.plans.filter(status=EmergencyPlan.Status.ACTIVE).exists():
                self.message_user(request, _("%(unit)s 已有现行预案，只补齐了工作组。") % {"unit": organization})
                continue
            plan = plan_create_default(organization=organization, actor=request.user)
            self.message_user(request, _("已为 %(unit)s 启用：%(plan)s") % {"unit": organization, "plan": plan})


class FrozenPlanInlineMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_editable

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_editable

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_editable


class WarningLevelInline(FrozenPlanInlineMixin, admin.TabularInline):
    model = WarningLevel
    extra = 0


class HandlingCategoryInline(FrozenPlanInlineMixin, admin.StackedInline):
    model = HandlingCategory
    extra = 0


class IncidentTypeInline(FrozenPlanInlineMixin, admin.TabularInline):
    model = IncidentType
    extra = 0


class DeadlineRuleInline(FrozenPlanInlineMixin, admin.StackedInline):
    model = DeadlineRule
    extra = 0
    filter_horizontal = ["levels", "categories"]


@admin.register(EmergencyPlan)
class EmergencyPlanAdmin(AuditedAdmin):
    audit_category = "plan"
    list_display = ["title", "organization", "version", "status", "activated_at"]
    list_filter = ["organization", "status"]
    readonly_fields = ["status", "activated_at", "based_on", "source_review", "created_by", "created_at"]
    inlines = [WarningLevelInline, HandlingCategoryInline, IncidentTypeInline, DeadlineRuleInline]
    actions = ["make_revision", "activate"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not obj.is_editable:
            return [f.name for f in self.model._meta.fields]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: EmergencyPlan, form: Any, change: bool) -> None:
        if not change:
            from django.db.models import Max

            obj.version = (
                EmergencyPlan.objects.filter(organization=obj.organization).aggregate(v=Max("version"))["v"] or 0
            ) + 1
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["version"] if obj is None else None

    @admin.action(description=_("创建修订草稿"))
    def make_revision(self, request: HttpRequest, queryset: QuerySet[EmergencyPlan]) -> None:
        for plan in queryset:
            try:
                draft = plan_create_revision(plan=plan, actor=request.user)
            except DomainError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)
            else:
                self.message_user(request, _("已创建草稿：%(plan)s") % {"plan": draft})

    @admin.action(description=_("启用所选草稿"))
    def activate(self, request: HttpRequest, queryset: QuerySet[EmergencyPlan]) -> None:
        for plan in queryset:
            try:
                plan_activate(plan=plan, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{plan}：{exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("已启用：%(plan)s") % {"plan": plan})


class TimelineInline(admin.TabularInline):
    model = TimelineEntry
    extra = 0
    can_delete = False
    fields = ("recorded_at", "occurred_at", "actor", "kind", "from_state", "to_state", "summary")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _transition_action(name: str, label: Any) -> Any:
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        service = getattr(incident_services, f"incident_{name}")
        for incident in queryset:
            try:
                service(incident_id=incident.pk, actor=request.user)
            except DomainError as exc:
                modeladmin.message_user(request, f"{incident}：{exc.message}", messages.ERROR)
            else:
                modeladmin.message_user(request, _("%(incident)s：已完成") % {"incident": incident})

    action.__name__ = name
    return admin.action(description=label)(action)


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read-only: incidents change only through the workflow (services), never by editing rows."""

    list_display = ["title", "organization", "state", "level", "discovered_at", "is_drill"]
    list_filter = ["organization", "state", "is_drill"]
    search_fields = ("title", "description")
    date_hierarchy = "discovered_at"
    inlines = [TimelineInline]
    actions = [
        _transition_action("start_assessment", _("转入研判")),
        _transition_action("start_response", _("转入处置")),
        _transition_action("start_tracking", _("转入跟踪")),
        _transition_action("start_review", _("转入总结")),
        _transition_action("archive", _("归档")),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    """Read-only: clocks change only through the services. Operators find here the clocks the
    sweeper set aside after a failure (filter 处理失败次数 > 0) and put them back to work."""

    list_display = ["name", "incident", "status", "due_at", "next_action_at", "escalation_rung", "sweep_failures"]
    list_filter = ["status", "kind", SetAsideFilter]
    list_select_related = ["incident"]
    search_fields = ["name", "incident__title", "incident__reference", "sweep_error"]
    readonly_fields = [f.name for f in Deadline._meta.fields]
    actions = ["release"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("立即重新处理所选的隔离时限"))
    def release(self, request: HttpRequest, queryset: QuerySet[Deadline]) -> None:
        count = deadlines_release(deadline_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("已重新排队 %(n)s 个时限。") % {"n": count})


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    """Read-only: approvals are append-only evidence (manage.py verify_record checks them)."""

    list_display = ["decided_at", "incident", "decision", "actor", "version_number"]
    list_filter = ["decision"]
    list_select_related = ["incident", "actor"]
    search_fields = ["incident__reference", "incident__title", "comment"]
    readonly_fields = [field.name for field in Approval._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
