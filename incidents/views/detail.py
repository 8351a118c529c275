"""The incident page: level, state, live deadlines, records, timeline, linked posts, and only the
actions the user may take now."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from incidents import forms as f
from incidents.models import Deadline, Incident, Statement, StatementVersion, TimelineEntry
from incidents.roles import Role
from incidents.services.records import task_completable_by
from incidents.services.statements import DRAFTERS, PUBLISHERS
from incidents.views.common import visible_incident
from incidents.views.registry import ACTIONS, ActionContext
from monitoring.forms import MentionForm

TIMELINE_LIMIT = 200


def _load(incident: Incident) -> dict[str, Any]:
    """Every list on the page in a fixed number of queries, whatever the number of rows."""
    from monitoring.models import Mention

    statements = list(
        Statement.objects.filter(incident=incident)
        .select_related("created_by", "published_by")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=StatementVersion.objects.select_related("author", "decided_by").order_by("number"),
            )
        )
        .order_by("-created_at", "-id")
    )
    return {
        "deadlines": list(
            incident.deadlines.exclude(status=Deadline.Status.CANCELLED)  # type: ignore[attr-defined]
            .select_related("owner_group", "waived_by")
            .order_by("due_at", "id")
        ),
        "assessments": list(
            incident.assessments.select_related("author", "proposed_level", "proposed_category")  # type: ignore[attr-defined]
        ),
        "tasks": list(incident.tasks.select_related("assignee", "assignee_group", "created_by")),  # type: ignore[attr-defined]
        "measures": list(incident.measures.select_related("recorded_by")),  # type: ignore[attr-defined]
        "reports": list(incident.reports.select_related("reported_by", "signed_off_by")),  # type: ignore[attr-defined]
        "statements": statements,
        "mentions": list(Mention.objects.filter(incident=incident).select_related("captured_by")[:100]),
        "timeline": list(
            TimelineEntry.objects.filter(incident=incident)
            .select_related("actor")
            .order_by("-recorded_at", "-id")[:TIMELINE_LIMIT]
        ),
        "groups": list(incident.assigned_groups.all()),
    }


def _statement_ops(ctx: ActionContext, statement: Statement, overrides: dict[str, Any]) -> dict[str, Any]:
    """Which statement buttons this user sees, with their forms (bound ones when re-rendering an error)."""
    status = statement.status
    versions = list(statement.versions.all())  # type: ignore[attr-defined]
    current = versions[-1] if versions else None
    initial = {"expected_version": statement.version}
    ops: dict[str, Any] = {"current": current, "versions": versions}
    key = f"statement-{statement.pk}-"
    if ctx.has(*DRAFTERS) and status in (Statement.Status.DRAFT, Statement.Status.REJECTED, Statement.Status.APPROVED):
        ops["revise"] = overrides.get(key + "revise") or f.StatementReviseForm(
            initial={**initial, "text": current.text if current else ""}
        )
    if ctx.has(*DRAFTERS) and status in (Statement.Status.DRAFT, Statement.Status.REJECTED):
        ops["submit"] = f.VersionedForm(initial=initial)
    if ctx.has(Role.LEADER) and status == Statement.Status.SUBMITTED:
        ops["decide"] = overrides.get(key + "decide") or f.StatementDecideForm(initial=initial)
    if ctx.has(*PUBLISHERS) and status == Statement.Status.APPROVED:
        ops["publish"] = overrides.get(key + "publish") or f.StatementPublishForm(initial=initial)
    for op in ("revise", "submit", "decide", "publish"):
        if op in ops:
            ops[op].auto_id = f"id_st{statement.pk}_{op}_%s"
    return ops


def detail_context(
    request: HttpRequest,
    incident: Incident,
    *,
    overrides: dict[str, Any] | None = None,
    open_action: str | None = None,
) -> dict[str, Any]:
    overrides = overrides or {}
    rows = _load(incident)
    ctx = ActionContext.build(request, incident)
    actions = []
    if ctx.roles:
        for action in ACTIONS.values():
            if action.allowed(ctx):
                form = overrides.get(action.name) or (action.form(ctx, None, True) if action.form else None)
                if form is not None:
                    # Several forms share field names on this page; ids must stay unique for labels.
                    form.auto_id = f"id_{action.name}_%s"
                actions.append({"action": action, "form": form, "open": action.name == open_action})
    user = request.user
    tasks = [
        {
            "task": task,
            "can_complete": task.status == task.Status.OPEN
            and task_completable_by(task, user_id=user.pk, roles=ctx.roles, group_ids=ctx.my_group_ids),
        }
        for task in rows["tasks"]
    ]
    statements = [
        {"statement": statement, **_statement_ops(ctx, statement, overrides)} for statement in rows["statements"]
    ]
    return {
        "incident": incident,
        **rows,
        "tasks": tasks,
        "statements": statements,
        "actions": actions,
        "is_leader": ctx.has(Role.LEADER),
        "can_add_mention": bool(ctx.roles) and incident.is_open,
        "mention_form": overrides.get("mention") or (MentionForm() if ctx.roles and incident.is_open else None),
        "row_forms": overrides.get("row", {}),
        "open_action": open_action,
        "timeline_limit": TIMELINE_LIMIT,
    }


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
    return render_detail(request, visible_incident(request, pk))
