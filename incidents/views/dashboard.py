"""The dashboard: what waits for me (「待我处理」: what my roles must decide or do next, my tasks and
my own clocks), clocks at risk, active incidents, on-time rates, time to first response and charts.
Its fragments refresh themselves through htmx polling."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from incidents import selectors
from incidents.views.statements import latest_change
from organizations.roles import Role, user_organization_id, user_roles


def _live_context(request: HttpRequest) -> dict[str, Any]:
    organization_id = user_organization_id(request.user)
    roles = user_roles(request.user)
    if organization_id is None:
        return {"no_unit": True}
    waiting = selectors.dashboard_waiting(request.user, organization_id, roles)
    approvals = []
    for statement in waiting.pop("approvals", []):
        versions = list(statement.versions.all())  # prefetched
        approvals.append(
            {
                "statement": statement,
                "current": versions[-1] if versions else None,
                # What changed since the version before: the leader sees it before deciding.
                "change": latest_change(versions),
                "form": None,  # the card draws an empty decision form for the statement's version
            }
        )
    return {
        "approvals": approvals,
        "waiting": waiting,
        "waiting_count": len(approvals) + sum(len(rows) for rows in waiting.values()),
        "at_risk": selectors.deadlines_at_risk(organization_id),
        "active": selectors.active_incidents_by_level_and_state(organization_id),
        "is_leader": Role.LEADER in roles,
        "now": timezone.now(),
    }


def _stats_context(request: HttpRequest) -> dict[str, Any]:
    organization_id = user_organization_id(request.user)
    if organization_id is None:
        return {"no_unit": True}
    statistics = selectors.dashboard_statistics(organization_id)
    charts = statistics["charts"]
    return {
        "rates": statistics["rates"],
        "median_minutes": statistics["median_minutes"],
        "computed_at": statistics["computed_at"],
        "chart_level": {"days": charts["days"], "series": charts["by_level"]},
        "chart_category": {"days": charts["days"], "series": charts["by_category"]},
        "period_days": selectors.STATS_PERIOD.days,
        "chart_days": selectors.CHART_DAYS,
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/dashboard.html", {**_live_context(request), **_stats_context(request)})


@login_required
def dashboard_live(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/partials/dashboard_live.html", _live_context(request))


@login_required
def dashboard_stats(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/partials/dashboard_stats.html", _stats_context(request))
