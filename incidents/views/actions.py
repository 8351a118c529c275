"""POST endpoints of the incident page. Each parses its form and calls one service; errors come
back next to the field, refusals as 403, a stale page as a notice (never an overwrite)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from incidents import forms as f
from incidents import policies
from incidents.policies import Refusal
from incidents.services.comments import comment_create
from incidents.views.common import call_service, refused, visible_incident
from incidents.views.detail import render_detail
from incidents.views.registry import ACTIONS, ROW_ACTIONS, Action, ActionContext, RowAction
from opinion_ops.errors import NotPermitted, StaleObject

STALE = gettext_lazy("该舆情已被他人更新，请刷新页面后再操作。")


def posted_version(request: HttpRequest) -> int | None:
    value = request.POST.get("expected_version", "")
    return int(value) if value.isdigit() else None


@login_required
@require_POST
def incident_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    incident = visible_incident(request, pk)
    spec: Action | RowAction | None = ACTIONS.get(action) or ROW_ACTIONS.get(action)
    if spec is None:
        raise Http404(_("没有这个操作。"))
    version = posted_version(request)
    if version is not None and version != incident.version:
        return render_detail(request, incident, status=409, stale=str(STALE))
    ctx = ActionContext.build(request, incident)
    form: forms.Form
    if isinstance(spec, Action):
        refusal = policies.decide(spec.rule, request.user, incident)
        if isinstance(refusal, Refusal) and refusal.error is NotPermitted:
            return refused(request, NotPermitted(refusal.message))
        if isinstance(refusal, Refusal):  # not open to this person now: the page has no form to show it beside
            return render_detail(request, incident, status=400, stale=str(refusal.message))
        form = spec.form(ctx, request.POST, False) if spec.form else forms.Form(request.POST)
    else:
        form = spec.form(request.POST)  # the row's rule is asked by the service, about that row
    if form.is_valid():
        try:
            call_service(form, lambda: spec.run(ctx, form.cleaned_data))
        except NotPermitted as error:
            return refused(request, error)
        except StaleObject as error:
            return render_detail(request, visible_incident(request, pk), status=409, stale=str(error.message))
        if not form.errors:
            messages.success(request, str(spec.done))
            return redirect(reverse("incident_detail", args=[pk]) + _anchor(action))
    overrides: dict[str, Any]
    if action in ROW_ACTIONS:
        row_id = request.POST.get("object_id") or request.POST.get("task_id") or ""
        overrides = {"row": {f"{action}-{row_id}": form}}
    else:
        overrides = {action: form}
    return render_detail(request, visible_incident(request, pk), status=400, overrides=overrides, open_action=action)


def _anchor(action: str) -> str:
    sections = {
        "task": "#tasks",
        "task_complete": "#tasks",
        "measure": "#measures",
        "report": "#reports",
        "report_sign_off": "#reports",
        "statement": "#statements",
        "assessment": "#assessments",
        "deadline_decide": "#deadlines",
        "deadline_acknowledge": "#deadlines",
    }
    return sections.get(action, "")


# --- the discussion's form


@login_required
@require_POST
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Post a comment; an @mention of someone who cannot be mentioned comes back next to the field
    with the text as typed, nothing saved."""
    incident = visible_incident(request, pk)
    form = f.CommentForm(request.POST, prefix="comment")
    if form.is_valid():
        try:
            comment = call_service(
                form,
                lambda: comment_create(incident_id=incident.pk, actor=request.user, body=form.cleaned_data["body"]),
            )
        except NotPermitted as error:
            return refused(request, error)
        except StaleObject as error:
            return render_detail(request, visible_incident(request, pk), status=409, stale=str(error.message))
        if comment is not None:
            messages.success(request, _("评论已发表。"))
            return redirect(reverse("incident_detail", args=[pk]) + f"#comment-{comment.pk}")
    return render_detail(request, visible_incident(request, pk), status=400, overrides={"comment": form})
