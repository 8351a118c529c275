"""上级主管部门: what the unit's direct subordinate units escalated or reported up to it — their
incidents with the unit named, the reports sent up and their 签收, missed clocks waiting for an
acknowledgement, and counts per subordinate unit. Nothing else of theirs is shown."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incidents import policies
from incidents.models import EscalationRung, Report, State
from incidents.models.plan import DEFAULT_ESCALATION_CHAIN
from incidents.selectors import (
    clocks_missed_reported_up,
    incidents_reported_up_to,
    reported_up_counts,
    reports_sent_up,
)
from incidents.services.records import report_acknowledge
from incidents.views.common import refused
from incidents.views.list import filtered_incidents, incidents_page
from opinion_ops.errors import DomainError, NotPermitted
from organizations.roles import Role, user_organization_id, user_roles


@login_required
def superior_incidents(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = reported_up_counts(user)
    filterset, matches = filtered_incidents(request, incidents_reported_up_to(user))
    page = incidents_page(request, matches)
    page["export_query"] = "&".join(part for part in (page["query"], "subordinate=true") if part)
    reports = [
        {"report": report, "can_receive": policies.allows("acknowledge_report", user, report.incident, report)}
        for report in reports_sent_up(user)
    ]
    # On the superior's rung of a missed clock stand its leadership group, where the plan's chain has
    # that rung; the service asks the rule itself when the button is pressed.
    is_leader = Role.LEADER in user_roles(user)
    clocks = [
        {
            "deadline": clock,
            "can_acknowledge": is_leader
            and EscalationRung.SUPERIOR in (clock.incident.plan.escalation_chain or DEFAULT_ESCALATION_CHAIN),
        }
        for clock in clocks_missed_reported_up(user)
    ]
    totals = {key: sum(row[key] for row in units) for key in ("incidents", "open", "reports", "waiting", "missed")}
    context = {
        "units": units,
        "totals": totals,
        "filterset": filterset,
        **page,
        "reports": reports,
        "clocks": clocks,
        "own_unit_id": user_organization_id(user),
        "selected_states": request.GET.getlist("state"),
        "states": State.choices,
    }
    if getattr(request, "htmx", False):
        return render(request, "incidents/partials/list_results.html", context)
    return render(request, "incidents/superior.html", context)


@login_required
@require_POST
def report_receive(request: HttpRequest, report_id: int) -> HttpResponse:
    """签收 a report a subordinate unit sent up; any other report reads as not found."""
    report = Report.objects.filter(
        pk=report_id, to_superior=True, incident__in=incidents_reported_up_to(request.user).values("pk")
    ).first()
    if report is None:
        raise Http404(_("报告不存在或您无权查看。"))
    back = reverse("superior_incidents") + "#reports"
    try:
        report_acknowledge(report_id=report.pk, actor=request.user)
    except NotPermitted as error:
        return refused(request, error)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(back)
    messages.success(request, _("已签收。报送单位可在该舆情的处置记录中看到签收人和签收时间。"))
    return redirect(back)
