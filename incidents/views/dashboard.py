"""The dashboard: what waits for me (「待我处理」: what my roles must decide or do next, my tasks and
my own clocks), clocks at risk, the cards other apps register (monitoring's active alerts), active
incidents, on-time rates, time to first response and charts.
Its fragments refresh themselves through htmx polling."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import selectors
from incidents.dashboard_cards import cards_for
from incidents.models import DeadlineRule
from incidents.services.statistics import unit_statistics_current
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
        # What other apps add (monitoring's active alerts, …), registered in incidents.dashboard_cards.
        "cards": cards_for(request, organization_id),
    }


def _stats_context(request: HttpRequest) -> dict[str, Any]:
    """The unit's stored statistics (kept current by the worker), labelled in the reader's language."""
    organization_id = user_organization_id(request.user)
    if organization_id is None:
        return {"no_unit": True}
    stored = unit_statistics_current(organization_id)
    statistics, charts = stored.payload, stored.payload["charts"]
    rates = [{**rate, "label": DeadlineRule.Kind(rate["kind"]).label} for rate in statistics["rates"]]

    def named(series: list[dict[str, Any]], unnamed: str) -> list[dict[str, Any]]:
        return [{**row, "name": row["name"] or unnamed} for row in series]

    return {
        "rates": rates,
        "median_minutes": statistics["median_minutes"],
        "computed_at": stored.computed_at,
        "chart_level": {"days": charts["days"], "series": named(charts["by_level"], _("未定级"))},
        "chart_category": {"days": charts["days"], "series": named(charts["by_category"], _("未分类"))},
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
