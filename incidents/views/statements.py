"""Public statements: revise, submit, decide (also from the dashboard, one tap) and publish.
Every version stays viewable on the statement page."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from incidents import forms as f
from incidents.models import Statement, StatementVersion
from incidents.selectors import incidents_visible_to
from incidents.services import statements as svc
from incidents.views.common import call_service, refused, visible_incident
from incidents.views.detail import render_detail
from opinion_ops.errors import NotPermitted, StaleObject

STALE = gettext_lazy("该回应稿已被他人更新，请刷新页面后再操作。")


def _visible_statement(request: HttpRequest, pk: int) -> Statement:
    statement = (
        Statement.objects.filter(pk=pk, incident__in=incidents_visible_to(request.user))
        .select_related("incident", "incident__level", "created_by", "published_by")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=StatementVersion.objects.select_related("author", "decided_by").order_by("number"),
            )
        )
        .first()
    )
    if statement is None:
        raise Http404(_("回应稿不存在或您无权查看。"))
    return statement


def _decide(user: Any, statement: Statement, data: dict[str, Any]) -> Any:
    return svc.statement_decide(
        statement_id=statement.pk,
        actor=user,
        approve=data["decision"] == "approve",
        comment=data["comment"],
        expected_version=data.get("expected_version"),
    )


OPS: dict[str, tuple[type[forms.Form], Callable[[Any, Statement, dict[str, Any]], Any], Any]] = {
    "revise": (
        f.StatementReviseForm,
        lambda user, s, d: svc.statement_revise(
            statement_id=s.pk, actor=user, text=d["text"], expected_version=d.get("expected_version")
        ),
        gettext_lazy("已保存新版本，须重新提交审定。"),
    ),
    "submit": (
        f.VersionedForm,
        lambda user, s, d: svc.statement_submit(
            statement_id=s.pk, actor=user, expected_version=d.get("expected_version")
        ),
        gettext_lazy("已提交领导审定。"),
    ),
    "decide": (f.StatementDecideForm, _decide, None),
    "publish": (
        f.StatementPublishForm,
        lambda user, s, d: svc.statement_publish(
            statement_id=s.pk,
            actor=user,
            channel=d["channel"],
            url=d["url"],
            published_at=d["published_at"],
            expected_version=d.get("expected_version"),
        ),
        gettext_lazy("已标记为发布。"),
    ),
}


def _card(request: HttpRequest, statement: Statement, *, form: Any = None, note: str = "", status: int = 200) -> Any:
    """The approval card of the dashboard (htmx swaps it in place)."""
    statement = _visible_statement(request, statement.pk)
    versions = list(statement.versions.all())  # type: ignore[attr-defined]
    context = {
        "statement": statement,
        "current": versions[-1] if versions else None,
        "form": form or f.StatementDecideForm(initial={"expected_version": statement.version}),
        "note": note,
    }
    return render(request, "incidents/partials/approval_card.html", context, status=status)


@login_required
@require_POST
def statement_op(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    statement = _visible_statement(request, pk)
    if op not in OPS:
        raise Http404(_("没有这个操作。"))
    form_class, run, done = OPS[op]
    form = form_class(request.POST)
    is_card = bool(getattr(request, "htmx", False)) and op == "decide"
    value = request.POST.get("expected_version", "")
    stale = str(STALE) if value.isdigit() and int(value) != statement.version else None
    if stale is None and form.is_valid():
        try:
            call_service(form, lambda: run(request.user, statement, form.cleaned_data))
        except NotPermitted as error:
            return refused(request, error)
        except StaleObject as error:
            stale = str(error.message)
        if stale is None and not form.errors:
            if op == "decide":
                done = _("已同意发布。") if form.cleaned_data["decision"] == "approve" else _("已退回修改。")
            if is_card:
                return _card(request, statement, note=str(done))
            messages.success(request, done)
            return redirect(reverse("incident_detail", args=[statement.incident_id]) + f"#statement-{statement.pk}")
    if is_card:
        # htmx swaps this answer too (see the htmx-config in base.html): errors show inside the card.
        return _card(request, statement, form=None if stale else form, note=stale or "", status=409 if stale else 400)
    incident = visible_incident(request, statement.incident_id)
    if stale:
        return render_detail(request, incident, status=409, stale=stale)
    return render_detail(
        request, incident, status=400, overrides={f"statement-{pk}-{op}": form}, open_action=f"statement-{pk}"
    )


@login_required
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One statement with every version ever written and every decision taken on it."""
    statement = _visible_statement(request, pk)
    versions = list(statement.versions.all())  # type: ignore[attr-defined]
    return render(
        request,
        "incidents/statement_detail.html",
        {"statement": statement, "versions": list(reversed(versions)), "current": versions[-1] if versions else None},
    )
