"""Logging an incident and finding it again: the 新建舆情 form and the filtered list."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Min
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.filtersets import IncidentFilterSet, incidents_by_urgency
from incidents.forms import IncidentCreateForm, unit_groups
from incidents.models import Deadline, HandlingCategory, Incident, State, WarningLevel
from incidents.selectors import incidents_visible_to
from incidents.services.incidents import incident_create
from incidents.views.common import call_service, refused
from opinion_ops.errors import NotPermitted
from organizations.roles import user_organization_id, user_roles

PAGE_SIZE = 25
# Counting every match of a broad filter over tens of thousands of rows costs more than the page
# itself; past this many we say "1000+".
COUNT_CAP = 1000


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return max(1, min(int(value), 10_000)) if value.isdigit() else 1


def _filter_choices(organization_id: int | None) -> dict[str, Any]:
    if organization_id is None:
        return {"levels": [], "categories": [], "groups": []}
    active = {"plan__organization_id": organization_id, "plan__status": "active"}
    return {
        "levels": list(WarningLevel.objects.filter(**active).order_by("rank")),
        "categories": list(HandlingCategory.objects.filter(**active).order_by("order", "id")),
        "groups": list(unit_groups(organization_id)),
    }


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    filterset = IncidentFilterSet(request.GET or None, queryset=incidents_visible_to(request.user))
    matches = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    page = _page_number(request)
    ordered = incidents_by_urgency(matches).select_related("level", "category")
    offset = (page - 1) * PAGE_SIZE
    rows = list(ordered[offset : offset + PAGE_SIZE + 1])
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    capped = matches.order_by().values("pk")[: COUNT_CAP + 1].count()
    now = timezone.now()
    next_due = dict(
        Deadline.objects.filter(
            incident_id__in=[r.pk for r in rows], status__in=[Deadline.Status.PENDING, Deadline.Status.MISSED]
        )
        .values("incident_id")
        .annotate(due=Min("due_at"))
        .values_list("incident_id", "due")
    )
    for row in rows:
        row.next_due = next_due.get(row.pk)  # type: ignore[attr-defined]
        row.is_overdue = row.next_due is not None and row.next_due < now  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filterset": filterset,
        "incidents": rows,
        "page": page,
        "has_next": has_next,
        "has_previous": page > 1,
        "count": min(capped, COUNT_CAP),
        "count_capped": capped > COUNT_CAP,
        "query": query.urlencode(),
        "selected_states": request.GET.getlist("state"),
        "states": State.choices,
        "can_create": bool(user_roles(request.user)),
        **_filter_choices(user_organization_id(request.user)),
    }
    template = "incidents/partials/list_results.html" if getattr(request, "htmx", False) else "incidents/list.html"
    return render(request, template, context)


@login_required
def incident_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = IncidentCreateForm(request.POST)
        if form.is_valid():
            try:
                incident: Incident | None = call_service(
                    form, lambda: incident_create(actor=request.user, **form.cleaned_data)
                )
            except NotPermitted as error:
                return refused(request, error)
            if incident is not None:
                from django.contrib import messages

                messages.success(request, _("已登记。请继续研判或补充信息。"))
                return redirect("incident_detail", pk=incident.pk)
        return render(request, "incidents/new.html", {"form": form}, status=400)
    if not user_roles(request.user):
        return refused(request, NotPermitted(_("只有本单位应急工作组成员可以登记舆情。")))
    return render(request, "incidents/new.html", {"form": IncidentCreateForm()})
