"""Logging an incident and finding it again: the 新建舆情 form, the filtered list and its Excel 台账."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from incidents.exports import XLSX_CONTENT_TYPE, export_row_limit, filters_described, incidents_workbook
from incidents.filtersets import IncidentFilterSet
from incidents.forms import IncidentCreateForm
from incidents.models import HandlingCategory, Incident, IncidentType, Platform, State
from incidents.selectors import (
    active_plan_levels,
    incidents_by_urgency,
    incidents_visible_to,
    subordinate_unit_ids,
    unit_groups_listed,
)
from incidents.services.incidents import incident_create
from incidents.views.common import call_service, refused
from opinion_ops.db import compiled
from opinion_ops.errors import NotPermitted
from organizations.roles import user_organization_id, user_roles

PAGE_SIZE = 25
# Counting every match of a broad filter over tens of thousands of rows costs more than the page
# itself; past this many we say "1000+".
COUNT_CAP = 1000


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return max(1, min(int(value), 10_000)) if value.isdigit() else 1


# The filters' choices: the parts of the unit's active plan and its groups (compiled once per process).
@compiled
def _categories(organization_id: int) -> QuerySet[HandlingCategory]:
    return HandlingCategory.objects.filter(plan__organization_id=organization_id, plan__status="active").order_by(
        "order", "id"
    )


@compiled
def _types(organization_id: int) -> QuerySet[IncidentType]:
    return IncidentType.objects.filter(plan__organization_id=organization_id, plan__status="active").order_by(
        "order", "id"
    )


def _filter_choices(organization_id: int | None) -> dict[str, Any]:
    if organization_id is None:
        return {"levels": [], "categories": [], "groups": [], "types": []}
    return {
        "levels": active_plan_levels(organization_id),
        "categories": _categories(organization_id),
        "groups": unit_groups_listed(organization_id),
        "types": _types(organization_id),
    }


def filtered_incidents(
    request: HttpRequest, queryset: QuerySet[Incident]
) -> tuple[IncidentFilterSet, QuerySet[Incident]]:
    """The list's FilterSet on `queryset`, and what it matches (everything when its input is wrong:
    the page then shows the errors above the rows)."""
    filterset = IncidentFilterSet(request.GET or None, queryset=queryset, request=request)
    matches = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    return filterset, matches


def incidents_page(request: HttpRequest, matches: QuerySet[Incident]) -> dict[str, Any]:
    """One page of `matches`, most urgent first, with the count and the pager's links: a fixed
    number of queries whatever the number of rows."""
    page = _page_number(request)
    ordered = incidents_by_urgency(matches).select_related("level", "category", "organization")
    offset = (page - 1) * PAGE_SIZE
    rows = list(ordered[offset : offset + PAGE_SIZE + 1])
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    capped = matches.order_by().values("pk")[: COUNT_CAP + 1].count()
    now = timezone.now()
    for row in rows:
        row.is_overdue = row.next_due is not None and row.next_due < now  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "incidents": rows,
        "page": page,
        "has_next": has_next,
        "has_previous": page > 1,
        "count": min(capped, COUNT_CAP),
        "count_capped": capped > COUNT_CAP,
        "query": query.urlencode(),
        "export_query": query.urlencode(),
    }


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    organization_id = user_organization_id(request.user)
    subordinates = subordinate_unit_ids(organization_id)
    filterset, matches = filtered_incidents(request, incidents_visible_to(request.user, subordinates))
    context = {
        "filterset": filterset,
        **incidents_page(request, matches),
        "selected_states": request.GET.getlist("state"),
        "states": State.choices,
        "platforms": Platform.choices,
        "can_create": bool(user_roles(request.user)),
        "own_unit_id": organization_id,
        "has_subordinates": bool(subordinates),
        **_filter_choices(organization_id),
    }
    template = "incidents/partials/list_results.html" if getattr(request, "htmx", False) else "incidents/list.html"
    return render(request, template, context)


@login_required
def incident_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as an Excel 台账: the same visibility, filters and order as the list, at most
    export_row_limit() rows; a larger result is refused with the reason, nothing half-exported."""
    filterset, matches = filtered_incidents(request, incidents_visible_to(request.user))
    query = request.GET.copy()
    query.pop("page", None)
    back = reverse("incident_list") + (f"?{query.urlencode()}" if query else "")
    if filterset.is_bound and not filterset.is_valid():
        messages.error(request, _("筛选条件有误，未导出。请按提示修改筛选条件后再导出。"))
        return redirect(back)
    limit = export_row_limit()
    if matches.order_by().values("pk")[: limit + 1].count() > limit:
        messages.error(
            request,
            _("符合条件的舆情超过 %(limit)s 条，不能一次导出。请缩小发现日期范围或增加筛选条件，分批导出。")
            % {"limit": limit},
        )
        return redirect(back)
    rows = (
        incidents_by_urgency(matches)
        .select_related("level", "category", "incident_type", "organization", "reporter")
        .prefetch_related("assigned_groups")
    )
    now = timezone.localtime()
    content = incidents_workbook(
        rows, exported_by=request.user, exported_at=now, filters=filters_described(filterset, request.user)
    )
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        content_disposition_header(
            as_attachment=True, filename=_("舆情台账-%(stamp)s.xlsx") % {"stamp": now.strftime("%Y%m%d-%H%M")}
        )
        or "attachment"
    )
    return response


@login_required
def incident_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = IncidentCreateForm(request.POST, organization_id=user_organization_id(request.user))
        if form.is_valid():
            try:
                incident: Incident | None = call_service(
                    form, lambda: incident_create(actor=request.user, **form.cleaned_data)
                )
            except NotPermitted as error:
                return refused(request, error)
            if incident is not None:
                messages.success(request, _("已登记。请继续研判或补充信息。"))
                return redirect("incident_detail", pk=incident.pk)
        return render(request, "incidents/new.html", {"form": form}, status=400)
    if not user_roles(request.user):
        return refused(request, NotPermitted(_("只有本单位应急工作组成员可以登记舆情。")))
    form = IncidentCreateForm(organization_id=user_organization_id(request.user))
    return render(request, "incidents/new.html", {"form": form})
