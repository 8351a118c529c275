"""监测方案: the unit's schemes with their recent matches and active alert; creating and editing one,
and 试用 — what the scheme as typed would have matched among the last 30 days' posts, saving nothing."""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from monitoring import config
from monitoring.alerts import scheme_spec
from monitoring.config_forms import SchemeForm
from monitoring.highlight import text_highlight
from monitoring.matching.expression import ExpressionError, node_format
from monitoring.matching.normalize import text_normalize
from monitoring.models import KeywordScheme, Mention
from monitoring.views.config import UnitAccess, config_page, config_render, form_disable
from opinion_ops.errors import DomainError, StaleObject
from opinion_ops.pages import form_service_call

T = TypeVar("T")

SUMMARY_LENGTH = 120
EXCERPT_LENGTH = 300
TRY_LIMIT = 50


def _keywords_summary(scheme: KeywordScheme) -> str:
    try:
        text = node_format(scheme_spec(scheme).node)
    except DomainError:
        return _("（关键词有误，方案未生效，请修改）")
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def _rule_summary(scheme: KeywordScheme) -> str:
    rule = _("%(m)s 分钟内命中 %(n)s 条") % {"m": scheme.window_minutes, "n": scheme.threshold_posts}
    watched = len([line for line in scheme.watched_accounts.splitlines() if line.strip()])
    if watched:
        rule += _("；重点关注账号 %(n)s 个") % {"n": watched}
    return rule


@config_page()
@require_GET
def schemes(request: HttpRequest, access: UnitAccess) -> HttpResponse:
    rows = [
        {"scheme": scheme, "keywords": _keywords_summary(scheme), "rule": _rule_summary(scheme)}
        for scheme in config.schemes_overview(access.organization_id)
    ]
    return config_render(request, "monitoring/config/schemes.html", "schemes", access, {"rows": rows})


# --- showing where the words went wrong, and which words hit


def _pointer(form: SchemeForm, error: ExpressionError) -> dict[str, Any] | None:
    """The typed text of the field in error, split around the character the error points at."""
    if error.field not in config.SCHEME_TEXTS:
        return None
    value = str(form.cleaned_data.get(error.field) or "")
    if not value:
        return None
    position = max(0, min(error.position, len(value)))
    at = value[position : position + 1]
    after = value[position + 1 :]
    if not at.strip():  # the end of the text, a space or a line break: a visible sign in its place
        after = at.replace(" ", "") + after
        at = "␣"
    return {"field": error.field, "before": value[:position], "at": at, "after": after, "column": position + 1}


def _excerpt(text: str, words: Iterable[str]) -> str:
    """The text, or the part of it around the first word that hit when it is long."""
    if len(text) <= EXCERPT_LENGTH:
        return text
    normalized = text_normalize(text)
    first = min((normalized.find(w) for w in (text_normalize(w) for w in words) if w in normalized), default=0)
    start = max(0, min(first - 40, len(text) - EXCERPT_LENGTH))  # offsets are close enough for an excerpt
    return ("…" if start else "") + text[start : start + EXCERPT_LENGTH] + "…"


def _trial_rows(found: list[tuple[Mention, tuple[str, ...]]]) -> list[dict[str, Any]]:
    return [
        {
            "post": post,
            "words": words,
            "title": text_highlight(post.title, words) if post.title else "",
            "text": text_highlight(_excerpt(post.text, words), words),
        }
        for post, words in found
    ]


# --- the form


class _Outcome:
    """What became of a scheme form's service call: the pointer of a refused word list or
    expression, and whether the scheme was saved by someone else since it was loaded."""

    pointer: dict[str, Any] | None = None
    stale = False


def _call(form: SchemeForm, outcome: _Outcome, call: Callable[[], T]) -> T | None:
    def guarded() -> T:
        try:
            return call()
        except ExpressionError as error:
            outcome.pointer = _pointer(form, error)
            raise
        except StaleObject:
            outcome.stale = True
            raise

    return form_service_call(form, guarded)


def _scheme_page(
    request: HttpRequest, access: UnitAccess, scheme: KeywordScheme | None, people: list[tuple[int, str]]
) -> HttpResponse:
    """Add (scheme None) or edit: 保存 saves, 试用 shows what it would have matched and saves nothing."""
    initial: dict[str, Any] = {}
    if scheme is not None:
        initial = {name: getattr(scheme, name) for name in config.SCHEME_FIELDS}
        initial["recipients"] = list(scheme.recipients.values_list("pk", flat=True))
        initial["expected_version"] = scheme.version
    form = SchemeForm(request.POST or None, initial=initial, people=people)
    outcome = _Outcome()
    trial: list[dict[str, Any]] | None = None
    status = 200
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "try":
            found = _call(form, outcome, lambda: config.scheme_trial(actor=request.user, fields=form.scheme_fields()))
            trial = _trial_rows(found) if found is not None else None
        else:
            saved = _call(
                form,
                outcome,
                lambda: config.scheme_save(
                    actor=request.user,
                    fields=form.scheme_fields(),
                    recipient_ids=form.cleaned_data["recipients"],
                    scheme_id=scheme.pk if scheme is not None else None,
                    expected_version=form.cleaned_data["expected_version"] if scheme is not None else None,
                ),
            )
            if saved is not None:
                messages.success(request, _("监测方案“%(name)s”已保存，对此后采集的信息生效。") % {"name": saved.name})
                return redirect("monitoring:schemes")
    if form.is_bound and form.errors:
        status = 409 if outcome.stale else 400
    if not access.can_manage:
        form_disable(form)
    context = {
        "form": form,
        "scheme": scheme,
        "pointer": outcome.pointer,
        "trial": trial,
        "trial_limit": TRY_LIMIT,
        "stale": outcome.stale,
    }
    return config_render(request, "monitoring/config/scheme_form.html", "schemes", access, context, status=status)


@config_page(manage=True)
@require_http_methods(["GET", "POST"])
def scheme_add(request: HttpRequest, access: UnitAccess) -> HttpResponse:
    return _scheme_page(request, access, None, config.unit_people(access.organization_id))


@config_page()
@require_http_methods(["GET", "POST"])
def scheme_edit(request: HttpRequest, access: UnitAccess, pk: int) -> HttpResponse:
    scheme = config.scheme_of_unit(access.organization_id, pk)
    if scheme is None:
        raise Http404(_("监测方案不存在。"))
    return _scheme_page(request, access, scheme, config.unit_people(access.organization_id))
