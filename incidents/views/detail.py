"""The incident page: level, state, live deadlines, records, timeline, the panels other apps add
(linked posts), and only the actions the user may take now — as decided by incidents.policies."""

from typing import Any, TypeVar

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from incidents import forms as f
from incidents import policies
from incidents.integrity import incident_record_verify
from incidents.models import (
    Assessment,
    Deadline,
    HandlingCategory,
    Incident,
    Measure,
    Report,
    Statement,
    StatementVersion,
    Task,
    TimelineEntry,
    WarningLevel,
    WarningNotice,
)
from incidents.panels import panels_registered
from incidents.selectors import people_attach, plan_parts_attach, report_readable, unit_groups_listed
from incidents.views.common import visible_incident
from incidents.views.corrections import corrections_context
from incidents.views.registry import ACTIONS, Action, ActionContext
from opinion_ops.db import compiled
from opinion_ops.errors import NotPermitted
from organizations.models import ResponseGroup
from organizations.policies import unit_allows
from organizations.roles import Role, user_organization_id

TIMELINE_LIMIT = 200
M = TypeVar("M", bound=Model)


# The people each list names: read once for the whole page (one query) rather than joined into
# every list's query, which cost as much again as the lists themselves.
PEOPLE_FIELDS = {
    "deadlines": ("owner", "decided_by", "acknowledged_by"),
    "assessments": ("author",),
    "tasks": ("assignee", "created_by"),
    "measures": ("recorded_by",),
    "reports": ("reported_by", "signed_off_by"),
    "statements": ("created_by", "published_by"),
    "versions": ("author", "decided_by"),
    "timeline": ("actor",),
}


# The page's lists, each compiled once per process (opinion_ops.db.compiled): building their SQL
# afresh cost more than PostgreSQL took to answer them.
@compiled
def _statements(incident_id: int) -> QuerySet[Statement]:
    return Statement.objects.filter(incident_id=incident_id).order_by("-created_at", "-id")


@compiled
def _versions(incident_id: int) -> QuerySet[StatementVersion]:
    return StatementVersion.objects.filter(statement__incident_id=incident_id).order_by("statement_id", "number")


@compiled
def _deadlines(incident_id: int) -> QuerySet[Deadline]:
    """Every clock but those cancelled without a decision (a plan change replaced them)."""
    return (
        Deadline.objects.filter(incident_id=incident_id)
        .exclude(status=Deadline.Status.CANCELLED, decided_by__isnull=True)
        .order_by("due_at", "id")
    )


def _records_of_incident(model: type[M]) -> compiled[[int], M]:
    """The incident's records of `model`, in the model's own order."""
    return compiled(lambda incident_id: model.objects.filter(incident_id=incident_id))  # type: ignore[attr-defined]


_assessments = _records_of_incident(Assessment)
_tasks = _records_of_incident(Task)
_measures = _records_of_incident(Measure)
_reports = _records_of_incident(Report)


@compiled
def _timeline(incident_id: int) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(incident_id=incident_id).order_by("-recorded_at", "-id")[:TIMELINE_LIMIT]


@compiled
def _notices(incident_id: int) -> QuerySet[WarningNotice]:
    return WarningNotice.objects.filter(incident_id=incident_id)  # with their levels, issuers and groups


@compiled
def _assigned_groups(incident_id: int) -> QuerySet[ResponseGroup]:
    return ResponseGroup.objects.filter(incidents__id=incident_id)


def _load(incident: Incident) -> dict[str, Any]:
    """Every list on the page in a fixed number of queries, whatever the number of rows."""
    statements = _statements(incident.pk)
    all_versions = _versions(incident.pk)
    versions: dict[int, list[StatementVersion]] = {statement.pk: [] for statement in statements}
    for version in all_versions:
        versions[version.statement_id].append(version)
    # The unit's groups (a handful) for the clocks, tasks and assigned groups.
    groups = {group.pk: group for group in unit_groups_listed(incident.organization_id)}
    rows: dict[str, Any] = {
        "deadlines": _deadlines(incident.pk),
        "assessments": _assessments(incident.pk),
        "tasks": _tasks(incident.pk),
        "measures": _measures(incident.pk),
        "reports": _reports(incident.pk),
        "statements": statements,
        "versions": all_versions,  # for people_attach; the page reads them by statement (versions_of)
        "versions_of": versions,
        "timeline": _timeline(incident.pk),
        "groups": _assigned_groups(incident.pk),
        "warning_notices": _notices(incident.pk),
    }
    people_attach((rows[key], fields) for key, fields in PEOPLE_FIELDS.items())
    for row in rows["deadlines"]:
        row.owner_group = groups.get(row.owner_group_id)
    for row in rows["tasks"]:
        row.assignee_group = groups.get(row.assignee_group_id)
    # The plan parts the assessments propose (memoised per process: frozen).
    plan_parts_attach(rows["assessments"], WarningLevel, "proposed_level")
    plan_parts_attach(rows["assessments"], HandlingCategory, "proposed_category")
    del rows["versions"]
    return rows


STATEMENT_OPS = {
    "revise": ("revise_statement", f.StatementReviseForm),
    "submit": ("submit_statement", f.VersionedForm),
    "decide": ("decide_statement", f.StatementDecideForm),
    "publish": ("publish_statement", f.StatementPublishForm),
}


def _statement_ops(
    ctx: ActionContext, statement: Statement, versions: list[StatementVersion], overrides: dict[str, Any]
) -> dict[str, Any]:
    """Which statement buttons this user sees, with their forms (bound ones when re-rendering an error)."""
    statement.incident = ctx.incident
    current = versions[-1] if versions else None
    ops: dict[str, Any] = {"current": current, "versions": versions}
    key = f"statement-{statement.pk}-"
    for op, (rule, form_class) in STATEMENT_OPS.items():
        if not ctx.may(rule, statement):
            continue
        initial: dict[str, Any] = {"expected_version": statement.version}
        if op == "revise":
            initial["text"] = current.text if current else ""
        form = overrides.get(key + op) or form_class(initial=initial)
        form.auto_id = f"id_st{statement.pk}_{op}_%s"
        ops[op] = form
    return ops


def _deadline_rows(ctx: ActionContext, deadlines: list[Deadline], overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """Each clock with the decisions this user may take on it now (the rules, asked about that clock)."""
    rows = []
    for deadline in deadlines:
        deadline.incident = ctx.incident
        decisions = [
            (code, label)
            for code, (rule, label) in f.DEADLINE_DECISIONS.items()
            if ctx.roles and ctx.may(str(rule), deadline)
        ]
        rows.append(
            {
                "deadline": deadline,
                "decisions": decisions,
                "may_acknowledge": deadline.status == Deadline.Status.MISSED
                and ctx.may("acknowledge_deadline", deadline),
                "bound": overrides.get(f"deadline_decide-{deadline.pk}"),
            }
        )
    return rows


def _display_form(ctx: ActionContext, action: Action) -> forms.Form | None:
    form = action.form(ctx, None, True) if action.form else None
    if form is not None:
        # Several forms share field names on this page; ids must stay unique for labels.
        form.auto_id = f"id_{action.name}_%s"
    return form


# Whether an action's form has fields to fill in (a panel) or only hidden ones (a button): the same
# for every incident, so it is learnt from the first form built and the closed panels build none.
_HAS_FIELDS: dict[str, bool] = {}


def _action_items(ctx: ActionContext, overrides: dict[str, Any], open_action: str | None) -> list[dict[str, Any]]:
    """The actions this user may take now. A form shown again with its errors and the forms of the
    steps the page is mostly opened for (Action.drawn) are drawn in place; the others when their panel
    is opened (see action_panel): drawing every closed panel's fields took a third of the page's time."""
    if not ctx.roles:
        return []
    items = []
    for action in ACTIONS.values():
        if not action.allowed(ctx):
            continue
        is_open = action.name == open_action
        drawn = is_open or action.drawn
        form = overrides.get(action.name)
        if form is not None:
            form.auto_id = f"id_{action.name}_%s"
        elif action.form is not None and (drawn or not _HAS_FIELDS.get(action.name, False)):
            form = _display_form(ctx, action)
        if form is not None:
            _HAS_FIELDS[action.name] = bool(form.visible_fields())
        panel = action.form is not None and _HAS_FIELDS.get(action.name, False)
        items.append({"action": action, "form": form, "panel": panel, "open": is_open, "drawn": drawn})
    return items


def action_panel(request: HttpRequest, incident: Incident, name: str) -> HttpResponse:
    """The form of one action panel, fetched by the page when the panel is opened."""
    action = ACTIONS.get(name)
    if action is None or action.form is None:
        raise Http404(_("没有这个操作。"))
    ctx = ActionContext.build(request, incident)
    refusal = policies.decide(action.rule, request.user, incident)
    if refusal is not None or not ctx.roles:
        # Taken or closed by someone else since the page was drawn: say why where the form would be.
        message = refusal.message if refusal is not None else None
        status = 403 if refusal is None or refusal.error is NotPermitted else 409
        return render(request, "incidents/partials/refused.html", {"message": message}, status=status)
    form = _display_form(ctx, action)
    return render(request, "incidents/partials/action_form.html", {"incident": incident, "a": action, "form": form})


def detail_context(
    request: HttpRequest,
    incident: Incident,
    *,
    overrides: dict[str, Any] | None = None,
    open_action: str | None = None,
) -> dict[str, Any]:
    overrides = overrides or {}
    rows = _load(incident)
    ctx = ActionContext.build(
        request, incident, assigned=rows["groups"], clocks=rows["deadlines"], assessments=rows["assessments"]
    )
    actions = _action_items(ctx, overrides, open_action)
    tasks = []
    for task in rows["tasks"]:
        task.incident = incident
        tasks.append({"task": task, "can_complete": bool(ctx.roles) and ctx.may("complete_task", task)})
    reports = []
    reader_unit = user_organization_id(request.user)
    for report in rows["reports"]:
        report.incident = incident
        reports.append(
            {
                "report": report,
                "can_sign_off": ctx.may("sign_off_report", report),
                "can_download": report_readable(report, reader_unit),
            }
        )
    statements = [
        {"statement": statement, **_statement_ops(ctx, statement, rows["versions_of"][statement.pk], overrides)}
        for statement in rows["statements"]
    ]
    may_add = policies.allows("add_mention", request.user, incident)
    panels = [
        {"name": panel.name, "template": panel.template, **panel.context(request, incident, may_add, overrides)}
        for panel in panels_registered()
    ]
    return {
        "incident": incident,
        **rows,
        **corrections_context(request, incident, overrides),
        "deadline_rows": _deadline_rows(ctx, rows["deadlines"], overrides.get("row", {})),
        "tasks": tasks,
        "reports": reports,
        "statements": statements,
        "actions": actions,
        "panels": panels,
        "is_leader": ctx.has(Role.LEADER),
        "may_revise_plan": _may_revise_plan(request, incident),
        "row_forms": overrides.get("row", {}),
        "open_action": open_action,
        "timeline_limit": TIMELINE_LIMIT,
        # Is the record intact (hash chain and approvals)? A fixed number of queries; the timeline
        # read above is the whole record when it is shorter than the page's limit.
        "record_check": incident_record_verify(
            incident=incident, entries=rows["timeline"] if len(rows["timeline"]) < TIMELINE_LIMIT else None
        ),
    }


def _may_revise_plan(request: HttpRequest, incident: Incident) -> bool:
    """「据此修订预案」 on the 总结评估: it holds a suggestion and the person runs the unit's plan."""
    review = getattr(incident, "review", None)  # read once; the page shows it
    return bool(review is not None and review.plan_suggestions.strip()) and unit_allows(
        "manage_plans", request.user, incident.organization_id
    )


def render_detail(
    request: HttpRequest,
    incident: Incident,
    *,
    status: int = 200,
    overrides: dict[str, Any] | None = None,
    open_action: str | None = None,
    stale: str | None = None,
) -> HttpResponse:
    context = detail_context(request, incident, overrides=overrides, open_action=open_action)
    context["stale_message"] = stale
    return render(request, "incidents/detail.html", context, status=status)


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The page; with ?panel=<action>, that action's form: alone for htmx, else the page with it open
    (the link inside a closed panel, for a browser without script)."""
    incident = visible_incident(request, pk)
    panel = request.GET.get("panel")
    if not panel:
        return render_detail(request, incident)
    if getattr(request, "htmx", False):
        response = action_panel(request, incident, panel)
    else:
        response = render_detail(request, incident, open_action=panel if panel in ACTIONS else None)
    patch_vary_headers(response, ["HX-Request"])  # one URL, two answers: caches must keep them apart
    return response
