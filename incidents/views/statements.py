"""Public statements: revise, submit, withdraw, 法律审核, decide (also from the dashboard, one tap) and
publish. The statement page shows every version, what changed from one to the next side by side,
and the steps the user may take now."""

import difflib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
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
from incidents import policies
from incidents.models import Statement, StatementVersion
from incidents.selectors import incidents_visible_to
from incidents.services import statements as svc
from incidents.views.common import call_service, refused, visible_incident
from incidents.views.detail import render_detail
from opinion_ops.errors import NotPermitted, StaleObject

STALE = gettext_lazy("该回应稿已被他人更新，请刷新页面后再操作。")
# Above this length a comparison goes line by line instead of character by character.
CHARACTER_DIFF_LIMIT = 4000


@dataclass(frozen=True)
class VersionChange:
    """Two versions side by side: each text as runs of unchanged and removed (old) or added (new)
    characters, and how many places changed."""

    old: StatementVersion
    new: StatementVersion
    old_parts: list[tuple[str, str]]
    new_parts: list[tuple[str, str]]
    places: int


def versions_compare(old: StatementVersion, new: StatementVersion) -> VersionChange:
    """What changed from `old` to `new` (difflib), character by character for Chinese text."""
    if len(old.text) <= CHARACTER_DIFF_LIMIT and len(new.text) <= CHARACTER_DIFF_LIMIT:
        a: list[str] = list(old.text)
        b: list[str] = list(new.text)
    else:
        a, b = old.text.splitlines(keepends=True), new.text.splitlines(keepends=True)
    old_parts: list[tuple[str, str]] = []
    new_parts: list[tuple[str, str]] = []
    places = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            old_parts.append(("same", "".join(a[i1:i2])))
            new_parts.append(("same", "".join(b[j1:j2])))
            continue
        places += 1
        if i2 > i1:
            old_parts.append(("removed", "".join(a[i1:i2])))
        if j2 > j1:
            new_parts.append(("added", "".join(b[j1:j2])))
    return VersionChange(old, new, old_parts, new_parts, places)


def latest_change(versions: list[StatementVersion]) -> VersionChange | None:
    """The current version against the one before it (from versions already read, oldest first)."""
    return versions_compare(versions[-2], versions[-1]) if len(versions) >= 2 else None


def _visible_statement(request: HttpRequest, pk: int) -> Statement:
    statement = (
        Statement.objects.filter(pk=pk, incident__in=incidents_visible_to(request.user))
        .select_related("incident", "incident__level", "incident__plan", "created_by", "published_by")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=StatementVersion.objects.select_related("author", "decided_by", "legal_reviewed_by").order_by(
                    "number"
                ),
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


def _legal_review(user: Any, statement: Statement, data: dict[str, Any]) -> Any:
    return svc.statement_legal_review(
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
    "withdraw": (
        f.VersionedForm,
        lambda user, s, d: svc.statement_withdraw(
            statement_id=s.pk, actor=user, expected_version=d.get("expected_version")
        ),
        gettext_lazy("已撤回，回应稿回到草稿，可修改后重新提交。"),
    ),
    "legal_review": (f.StatementLegalReviewForm, _legal_review, None),
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
# The steps drawn on the statement page, each with the rule that decides whether it is drawn.
PAGE_OPS = {
    "submit": "submit_statement",
    "withdraw": "withdraw_statement",
    "legal_review": "legal_review_statement",
    "decide": "decide_statement",
}


def _done(op: str, form: forms.Form, default: Any, statement: Statement) -> str:
    if op == "decide":
        return _("已同意发布。") if form.cleaned_data["decision"] == "approve" else _("已退回修改。")
    if op == "legal_review":
        return _("法律审核通过，已送领导审定。") if form.cleaned_data["decision"] == "approve" else _("已退回修改。")
    if op == "submit":
        status = Statement.objects.filter(pk=statement.pk).values_list("status", flat=True).first()
        return _("已提交法律援助组审核。") if status == Statement.Status.LEGAL_REVIEW else _("已提交领导审定。")
    return str(default)


def _card(request: HttpRequest, statement: Statement, *, form: Any = None, note: str = "", status: int = 200) -> Any:
    """The approval card of the dashboard (htmx swaps it in place)."""
    statement = _visible_statement(request, statement.pk)
    versions = list(statement.versions.all())  # type: ignore[attr-defined]
    context = {
        "statement": statement,
        "current": versions[-1] if versions else None,
        "change": latest_change(versions),
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
    on_page = request.POST.get("from") == "statement"  # posted from the statement's own page
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
            message = _done(op, form, done, statement)
            if is_card:
                return _card(request, statement, note=message)
            messages.success(request, message)
            if on_page:
                return redirect("statement_detail", pk=statement.pk)
            return redirect(reverse("incident_detail", args=[statement.incident_id]) + f"#statement-{statement.pk}")
    if is_card:
        # htmx swaps this answer too (see the htmx-config in base.html): errors show inside the card.
        return _card(request, statement, form=None if stale else form, note=stale or "", status=409 if stale else 400)
    if on_page:
        bound = {} if stale else {op: form}
        return _render_statement(request, _visible_statement(request, pk), bound, stale, status=409 if stale else 400)
    incident = visible_incident(request, statement.incident_id)
    if stale:
        return render_detail(request, incident, status=409, stale=stale)
    return render_detail(
        request, incident, status=400, overrides={f"statement-{pk}-{op}": form}, open_action=f"statement-{pk}"
    )


def _render_statement(
    request: HttpRequest,
    statement: Statement,
    bound: dict[str, forms.Form] | None = None,
    stale: str | None = None,
    status: int = 200,
) -> HttpResponse:
    versions = list(statement.versions.all())  # type: ignore[attr-defined]
    changes = [versions_compare(old, new) for old, new in itertools.pairwise(versions)]
    ops: dict[str, forms.Form] = {}
    for op, rule in PAGE_OPS.items():
        if policies.allows(rule, request.user, statement.incident, statement):
            form = (bound or {}).get(op) or OPS[op][0](initial={"expected_version": statement.version})
            form.auto_id = f"id_{op}_%s"
            ops[op] = form
    return render(
        request,
        "incidents/statement_detail.html",
        {
            "statement": statement,
            "versions": list(reversed(versions)),
            "current": versions[-1] if versions else None,
            "changes": list(reversed(changes)),
            "ops": ops,
            "stale_message": stale,
        },
        status=status,
    )


@login_required
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One statement with every version ever written, what changed between them, every decision
    taken on it, and the steps the user may take now (submit, withdraw, 法律审核, decide)."""
    return _render_statement(request, _visible_statement(request, pk))
