"""单位设置 → 应急预案: the unit's administrators see every version of the plan, copy a version into
the unit's one draft, edit the draft (its header and each list of parts), compare it with the active
version, activate it (with a fresh second factor) or discard it.

Plain forms that work without JavaScript; every write is a service of incidents.services.plans,
whose refusal is shown next to the field it names. Versions of another unit read as not found."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from incidents.models import EmergencyPlan, Review
from incidents.plan_compare import (
    PART_RELATED,
    activation_notes,
    header_facts,
    plan_sections,
    plan_versions,
    plans_compare,
    plans_with_parts,
)
from incidents.plan_forms import PART_FORMS, PlanHeaderForm, PlanRevisionForm
from incidents.services import plans as plan_services
from opinion_ops.pages import form_service_call, message_service_call
from organizations.views import unit_page, unit_render

SECTION = "plans"
Status = EmergencyPlan.Status


def _plan(organization_id: int, pk: int | None, *, loaded: bool = False) -> EmergencyPlan:
    plans = plans_with_parts() if loaded else EmergencyPlan.objects.all()
    plan = plans.filter(pk=pk, organization_id=organization_id).first() if pk is not None else None
    if plan is None:
        raise Http404(_("预案版本不存在。"))
    return plan


def _detail_url(plan: EmergencyPlan, anchor: str = "") -> str:
    return reverse("unit_plans:detail", args=[plan.pk]) + (f"#{anchor}" if anchor else "")


def _frozen(request: HttpRequest, plan: EmergencyPlan) -> HttpResponse | None:
    """A page's answer to a change of a version that is not a draft (the service refuses it too)."""
    if plan.is_editable:
        return None
    messages.error(
        request,
        _("第 %(version)s 版是%(status)s版本，不能修改；如需调整，请先创建修订草稿。")
        % {"version": plan.version, "status": plan.get_status_display()},
    )
    return redirect(_detail_url(plan))


# --- the versions


@unit_page("manage_plans")
@require_GET
def plan_list(request: HttpRequest, organization_id: int) -> HttpResponse:
    versions = plan_versions(organization_id)
    return unit_render(
        request,
        "unit/plans.html",
        SECTION,
        {
            "versions": versions,
            "active": next((row.plan for row in versions if row.plan.status == Status.ACTIVE), None),
            "draft": next((row.plan for row in versions if row.plan.status == Status.DRAFT), None),
            "revise_form": PlanRevisionForm(prefix="revise"),
        },
    )


def _part_blocks(plan: EmergencyPlan, key: str, bound: Any) -> list[dict[str, Any]]:
    """Each list of parts with, for a draft, the form of each row and of a new row (the one just
    posted, with its errors, in its place and open)."""
    blocks = []
    for section in plan_sections(plan):
        form_class = PART_FORMS[section.key]
        rows = []
        for row in section.rows:
            row_key = f"{section.key}-{row.part.pk}"
            form = None
            if plan.is_editable:
                form = (
                    bound
                    if row_key == key
                    else form_class(initial=form_class.initial_for(row.part), prefix=row_key, plan=plan)
                )
            rows.append({"row": row, "key": row_key, "form": form, "open": row_key == key})
        new_key = f"{section.key}-new"
        new_form = None
        if plan.is_editable:
            new_form = bound if new_key == key else form_class(prefix=new_key, plan=plan)
        blocks.append(
            {"section": section, "rows": rows, "new_key": new_key, "new_form": new_form, "new_open": new_key == key}
        )
    return blocks


def _plan_page(
    request: HttpRequest, organization_id: int, plan: EmergencyPlan, *, key: str = "", bound: Any = None
) -> HttpResponse:
    context: dict[str, Any] = {
        "plan": plan,
        "facts": header_facts(plan),
        "blocks": _part_blocks(plan, key, bound),
        "open": key,
        "_invalid": bound is not None and bool(bound.errors),
    }
    if plan.is_editable:
        context["header_form"] = (
            bound if key == "header" else PlanHeaderForm(initial=PlanHeaderForm.initial_for(plan), prefix="header")
        )
        context["problems"] = [str(problem.message) for problem in plan_services.plan_problems(plan)]
        context["active"] = EmergencyPlan.objects.filter(organization_id=organization_id, status=Status.ACTIVE).first()
    else:
        context["draft"] = EmergencyPlan.objects.filter(organization_id=organization_id, status=Status.DRAFT).first()
        context["revise_form"] = bound if key == "revise" else PlanRevisionForm(prefix="revise")
    return unit_render(request, "unit/plan.html", SECTION, context)


@unit_page("manage_plans")
@require_GET
def plan_detail(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    return _plan_page(request, organization_id, _plan(organization_id, pk, loaded=True))


@unit_page("manage_plans")
@require_POST
def plan_revise(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    plan = _plan(organization_id, pk, loaded=True)
    form = PlanRevisionForm(request.POST, prefix="revise")
    if form.is_valid():
        note = form.cleaned_data["change_note"]
        draft = form_service_call(
            form, lambda: plan_services.plan_create_revision(plan=plan, actor=request.user, change_note=note)
        )
        if draft is not None:
            messages.success(
                request,
                _("已创建修订草稿第 %(version)s 版。修改完成后，请与现行版本比较，再启用。")
                % {"version": draft.version},
            )
            return redirect(_detail_url(draft))
    if plan.is_editable:  # a draft is not revised: say why where the person acted
        for error in form.non_field_errors():
            messages.error(request, str(error))
        return redirect(_detail_url(plan))
    return _plan_page(request, organization_id, plan, key="revise", bound=form)


# --- editing a draft


@unit_page("manage_plans")
@require_POST
def plan_revise_from_review(request: HttpRequest, organization_id: int, review_pk: int) -> HttpResponse:
    """「据此修订预案」 on an incident's 总结评估: its 预案修订建议 becomes the unit's plan draft."""
    draft = message_service_call(
        request, lambda: plan_services.plan_revision_from_review(actor=request.user, review_id=review_pk)
    )
    if draft is None:
        review = Review.objects.filter(pk=review_pk, incident__organization_id=organization_id).first()
        if review is None:
            raise Http404(_("总结评估不存在。"))
        return redirect(reverse("incident_detail", args=[review.incident_id]) + "#review")
    messages.success(
        request,
        _("已根据总结评估创建预案修订草稿第 %(version)s 版：请按修订建议修改，再与现行版本比较后启用。")
        % {"version": draft.version},
    )
    return redirect(_detail_url(draft))


@unit_page("manage_plans")
@require_POST
def plan_header_save(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    plan = _plan(organization_id, pk, loaded=True)
    if refusal := _frozen(request, plan):
        return refusal
    form = PlanHeaderForm(request.POST, prefix="header")
    if form.is_valid():
        data = form.cleaned_data
        saved = form_service_call(
            form, lambda: plan_services.plan_draft_update(actor=request.user, plan_id=plan.pk, **data)
        )
        if saved is not None:
            messages.success(request, _("已保存基本信息。"))
            return redirect(_detail_url(plan, "header"))
    return _plan_page(request, organization_id, plan, key="header", bound=form)


def _posted_part(request: HttpRequest, plan: EmergencyPlan, *, required: bool) -> tuple[str, int | None]:
    """The kind and row a part form names; a row that is not the plan's own reads as not found."""
    kind = request.POST.get("kind", "")
    if kind not in PART_FORMS:
        raise Http404(_("预案内容不存在。"))
    raw = request.POST.get("part", "")
    if not raw and not required:
        return kind, None
    if not raw.isdigit():
        raise Http404(_("预案内容不存在。"))
    if int(raw) not in {part.pk for part in getattr(plan, PART_RELATED[kind]).all()}:
        raise Http404(_("预案内容不存在。"))
    return kind, int(raw)


@unit_page("manage_plans")
@require_POST
def plan_part_save(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    plan = _plan(organization_id, pk, loaded=True)
    kind, part_id = _posted_part(request, plan, required=False)
    if refusal := _frozen(request, plan):
        return refusal
    key = f"{kind}-{part_id or 'new'}"
    form = PART_FORMS[kind](request.POST, prefix=key, plan=plan)
    if form.is_valid():
        values = form.cleaned_data
        saved = form_service_call(
            form,
            lambda: plan_services.plan_part_save(
                actor=request.user, plan_id=plan.pk, kind=kind, part_id=part_id, values=values
            ),
        )
        if saved is not None:
            if part_id is None:
                messages.success(request, _("已新增“%(name)s”。") % {"name": saved})
            else:
                messages.success(request, _("已保存“%(name)s”。") % {"name": saved})
            return redirect(_detail_url(plan, kind))
    return _plan_page(request, organization_id, plan, key=key, bound=form)


@unit_page("manage_plans")
@require_POST
def plan_part_delete(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    plan = _plan(organization_id, pk, loaded=True)
    kind, part_id = _posted_part(request, plan, required=True)
    if refusal := _frozen(request, plan):
        return refusal
    assert part_id is not None

    def delete() -> bool:
        plan_services.plan_part_delete(actor=request.user, plan_id=plan.pk, kind=kind, part_id=part_id)
        return True

    if message_service_call(request, delete):
        messages.success(request, _("已从草稿中删除。"))
    return redirect(_detail_url(plan, kind))


# --- comparing, activating, discarding


@unit_page("manage_plans")
@require_GET
def plan_compare(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    """This version beside another (`?against=`), by default the active one (for the active version:
    the version it was revised from); the older is shown first."""
    plan = _plan(organization_id, pk, loaded=True)
    against = request.GET.get("against", "")
    other: EmergencyPlan | None
    if against:
        if not against.isdigit():
            raise Http404(_("预案版本不存在。"))
        other = _plan(organization_id, int(against), loaded=True)
    else:
        other = plans_with_parts().filter(organization_id=organization_id, status=Status.ACTIVE).first()
        if other is not None and other.pk == plan.pk:
            other = _plan(organization_id, plan.based_on_id, loaded=True) if plan.based_on_id else None
    comparison = None
    if other is not None and other.pk != plan.pk:
        old, new = sorted([other, plan], key=lambda version: version.version)
        comparison = plans_compare(old, new)
    can_activate = plan.is_editable and (other is None or other.status == Status.ACTIVE)
    return unit_render(
        request,
        "unit/plan_compare.html",
        SECTION,
        {
            "plan": plan,
            "other": other,
            "comparison": comparison,
            "versions": EmergencyPlan.objects.filter(organization_id=organization_id).exclude(pk=plan.pk),
            "can_activate": can_activate,
            "problems": [str(p.message) for p in plan_services.plan_problems(plan)] if can_activate else [],
            "activation_notes": activation_notes(plan) if can_activate else [],
        },
    )


@unit_page("manage_plans")
@require_POST
def plan_activate(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    plan = _plan(organization_id, pk)
    activated = message_service_call(request, lambda: plan_services.plan_activate(plan=plan, actor=request.user))
    if activated is None:
        return redirect(reverse("unit_plans:compare", args=[plan.pk]))
    messages.success(
        request,
        _("已启用第 %(version)s 版。此后新登记的舆情按本版执行；已登记的舆情仍按登记时的版本执行。")
        % {"version": activated.version},
    )
    return redirect(_detail_url(activated))


@unit_page("manage_plans")
@require_POST
def plan_draft_delete(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    plan = _plan(organization_id, pk)

    def discard() -> bool:
        plan_services.plan_draft_delete(actor=request.user, plan_id=plan.pk)
        return True

    if not message_service_call(request, discard):
        return redirect(_detail_url(plan))
    messages.success(request, _("已删除草稿第 %(version)s 版。") % {"version": plan.version})
    return redirect("unit_plans:list")
