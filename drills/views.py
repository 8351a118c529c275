"""The pages of 应急演练: the unit's drills with status and score, its scenarios, scheduling and
cancelling a drill, and the drill report (演练评估), printable.

Every page is of the signed-in person's own unit: another unit's scenario or drill is a 404.
Reading is open to every member of the unit; writing to the leadership group (drills.policies),
and the services ask again.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from drills import selectors, services
from drills.forms import DrillCancelForm, DrillScheduleForm, ScenarioForm, ScenarioPostFormSet
from drills.models import Drill, Scenario
from drills.policies import DRILL_RULES, drill_allows
from drills.scoring import drill_report
from incidents.models import EmergencyPlan
from opinion_ops.errors import DomainError
from opinion_ops.pages import View, form_service_call, message_service_call
from organizations.pages import unit_page


def drills_page(action: str = "view_drills") -> Callable[[View], View]:
    """A page of the person's own unit, for those the rule `action` lets in; the view gets the unit."""

    def refusal(user: Any, organization_id: int | None) -> object | None:
        for rule in dict.fromkeys(("view_drills", action)):
            if not drill_allows(rule, user, organization_id):
                return DRILL_RULES[rule].forbidden
        return None

    return unit_page(refusal)


def _plan(organization_id: int) -> EmergencyPlan | None:
    return EmergencyPlan.objects.filter(organization_id=organization_id, status=EmergencyPlan.Status.ACTIVE).first()


@drills_page()
@require_GET
def drill_list(request: HttpRequest, organization_id: int) -> HttpResponse:
    drills = list(selectors.drills_of_unit(organization_id)[:200])
    return render(
        request,
        "drills/list.html",
        {
            "drills": drills,
            "due": selectors.drill_due(organization_id),
            "can_schedule": drill_allows("schedule_drill", request.user, organization_id),
            "scenario_count": selectors.scenarios_of_unit(organization_id).count(),
        },
    )


@drills_page()
@require_GET
def scenario_list(request: HttpRequest, organization_id: int) -> HttpResponse:
    return render(
        request,
        "drills/scenarios.html",
        {
            "scenarios": list(selectors.scenarios_of_unit(organization_id)[:200]),
            "can_manage": drill_allows("manage_scenarios", request.user, organization_id),
        },
    )


def _scenario_form_page(request: HttpRequest, organization_id: int, scenario: Scenario | None) -> HttpResponse:
    plan = _plan(organization_id)
    if request.method == "POST":
        form = ScenarioForm(request.POST, plan=plan)
        posts = ScenarioPostFormSet(request.POST, prefix="posts")
        if form.is_valid() and posts.is_valid():
            values = {**form.cleaned_data, "posts": posts.drafts()}  # type: ignore[attr-defined]
            if scenario is None:
                saved = _scenario_call(form, posts, lambda: services.scenario_create(actor=request.user, **values))
            else:
                pk = scenario.pk
                saved = _scenario_call(
                    form, posts, lambda: services.scenario_update(scenario_id=pk, actor=request.user, **values)
                )
            if saved is not None:
                messages.success(request, _("已保存演练脚本“%(title)s”。") % {"title": saved.title})
                return redirect("drills:scenario_detail", saved.pk)
    elif scenario is not None:
        form = ScenarioForm(initial=ScenarioForm.initial_of(scenario), plan=plan)
        initial = [
            {"minutes_after": p.minutes_after, "platform": p.platform, "author": p.author, "url": p.url, "text": p.text}
            for p in scenario.posts.all()  # type: ignore[attr-defined]
        ]
        posts = ScenarioPostFormSet(initial=initial, prefix="posts")
    else:
        form = ScenarioForm(plan=plan)
        posts = ScenarioPostFormSet(prefix="posts")
    invalid = request.method == "POST"
    return render(
        request,
        "drills/scenario_form.html",
        {"form": form, "posts": posts, "scenario": scenario, "posts_error": getattr(posts, "service_error", "")},
        status=400 if invalid else 200,
    )


def _scenario_call(form: ScenarioForm, posts: Any, call: Callable[[], Scenario]) -> Scenario | None:
    """The service's refusal about the posts goes above the posts; any other next to its field."""

    def guarded() -> Scenario | None:
        try:
            return call()
        except DomainError as error:
            if error.field != "posts":
                raise
            posts.service_error = str(error.message)
            return None

    return form_service_call(form, guarded)


@drills_page("manage_scenarios")
@require_http_methods(["GET", "POST"])
def scenario_new(request: HttpRequest, organization_id: int) -> HttpResponse:
    return _scenario_form_page(request, organization_id, None)


@drills_page("manage_scenarios")
@require_http_methods(["GET", "POST"])
def scenario_edit(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    return _scenario_form_page(request, organization_id, selectors.scenario_get(organization_id, pk))


@drills_page()
@require_GET
def scenario_detail(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    scenario = selectors.scenario_get(organization_id, pk)
    return render(
        request,
        "drills/scenario_detail.html",
        {
            "scenario": scenario,
            "posts": list(scenario.posts.all()),  # type: ignore[attr-defined]
            "drills": list(selectors.drills_of_unit(organization_id).filter(scenario=scenario)[:50]),
            "can_manage": drill_allows("manage_scenarios", request.user, organization_id),
            "can_schedule": drill_allows("schedule_drill", request.user, organization_id),
        },
    )


@drills_page("schedule_drill")
@require_http_methods(["GET", "POST"])
def drill_schedule(request: HttpRequest, organization_id: int) -> HttpResponse:
    scenarios = list(selectors.scenarios_of_unit(organization_id).order_by("title"))
    if request.method == "POST":
        form = DrillScheduleForm(request.POST, scenarios=scenarios)
        if form.is_valid():
            data = form.cleaned_data
            drill = form_service_call(
                form,
                lambda: services.drill_schedule(
                    actor=request.user,
                    scenario_id=data["scenario"],
                    starts_at=data["starts_at"],
                    speed=data["speed"],
                    note=data["note"],
                ),
            )
            if drill is not None:
                messages.success(
                    request,
                    _("已安排应急演练，将于 %(at)s 开始。")
                    % {"at": timezone.localtime(drill.starts_at).strftime("%Y-%m-%d %H:%M")},
                )
                return redirect("drills:detail", drill.pk)
    else:
        initial: dict[str, Any] = {"speed": "60"}
        chosen = request.GET.get("scenario", "")
        if chosen.isdigit():
            initial["scenario"] = int(chosen)
        form = DrillScheduleForm(initial=initial, scenarios=scenarios)
    return render(
        request,
        "drills/schedule.html",
        {"form": form, "has_scenarios": bool(scenarios)},
        status=400 if form.is_bound and form.errors else 200,
    )


@drills_page()
@require_GET
def drill_detail(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    drill = selectors.drill_get(organization_id, pk)
    report = drill_report(drill) if drill.incident_id else None
    return render(
        request,
        "drills/report.html",
        {
            "drill": drill,
            "report": report,
            "snapshot": drill.scenario_snapshot or {},
            "can_cancel": drill.status == Drill.Status.SCHEDULED
            and drill_allows("cancel_drill", request.user, organization_id),
            "cancel_form": DrillCancelForm(),
        },
    )


@drills_page("cancel_drill")
@require_POST
def drill_cancel(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    drill = selectors.drill_get(organization_id, pk)
    form = DrillCancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    cancelled = message_service_call(
        request, lambda: services.drill_cancel(drill_id=drill.pk, actor=request.user, reason=reason)
    )
    if cancelled is not None:
        messages.success(request, _("已取消该应急演练。"))
    return redirect("drills:detail", drill.pk)
