"""The alerts pages: the unit's alerts (the monitoring home, refreshing itself) and one alert with
its posts, the words that hit marked, and what people do with it — 确认, 排除 with a reason, 登记为舆情 —
through the services of monitoring.alerts. Another unit's alert is a 404; a refusal the 403 page."""

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from monitoring.alert_counts import alert_counts
from monitoring.alerts import alert_acknowledge, alert_actions_available, alert_convert, alert_dismiss
from monitoring.api.filtersets import AlertFilterSet
from monitoring.highlight import text_highlight
from monitoring.models import Alert, KeywordScheme, SchemeMatch
from monitoring.views.config import monitoring_nav
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted, SecondFactorRequired, StaleObject
from organizations.policies import UNIT_RULES, unit_allows
from organizations.roles import user_organization_id

PAGE_SIZE = 50
POSTS_PAGE_SIZE = 50
TEXT_SHOWN = 1000  # characters of a post's text shown in the list (the link leads to the whole post)

View = Callable[..., HttpResponse]


def _refused(request: HttpRequest, message: object) -> HttpResponse:
    if getattr(request, "htmx", False):
        return render(request, "incidents/partials/refused.html", {"message": message}, status=403)
    return render(request, "403.html", {"message": message}, status=403)


def alerts_page(*, home: bool = False) -> Callable[[View], View]:
    """Signed in, allowed to handle the alerts of their own unit; the view gets the unit id. The
    monitoring home (`home`) sends those who only configure monitoring (a unit administrator) to
    the sources instead of refusing them."""

    def decorate(view: View) -> View:
        @login_required
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            organization_id = user_organization_id(request.user)
            if not unit_allows("handle_alerts", request.user, organization_id):
                if home and unit_allows("manage_monitoring", request.user, organization_id):
                    return redirect("monitoring:sources")
                return _refused(request, UNIT_RULES["handle_alerts"].forbidden)
            try:
                return view(request, organization_id, *args, **kwargs)
            except NotPermitted as refusal:  # the service's own rule refused (the roles changed meanwhile)
                return _refused(request, refusal.message)

        return wrapped

    return decorate


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return max(1, min(int(value), 10_000)) if value.isdigit() else 1


# --- the list


def _alerts_ordered(matches: QuerySet[Alert]) -> QuerySet[Alert]:
    """Active alerts (open, acknowledged) first, then the closed ones; the latest activity first."""
    closed = Case(When(status__in=Alert.ACTIVE, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        matches.annotate(closed=closed)
        .select_related("scheme", "acknowledged_by", "closed_by")
        .order_by("closed", "-last_matched_at", "-id")
    )


@alerts_page(home=True)
@require_GET
def alerts(request: HttpRequest, organization_id: int) -> HttpResponse:
    unit_alerts = Alert.objects.filter(organization_id=organization_id)
    filterset = AlertFilterSet(request.GET or None, queryset=unit_alerts)
    matches = filterset.qs if filterset.is_bound and filterset.is_valid() else unit_alerts
    page = _page_number(request)
    offset = (page - 1) * PAGE_SIZE
    rows = list(_alerts_ordered(matches)[offset : offset + PAGE_SIZE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    shown = rows[:PAGE_SIZE]
    context = {
        "filterset": filterset,
        "alerts": shown,
        # What other apps count beside each alert's posts (研判支持: its clusters), by alert id.
        "counts": alert_counts(organization_id, [alert.pk for alert in shown]),
        "page": page,
        "has_next": len(rows) > PAGE_SIZE,
        "has_previous": page > 1,
        "query": query.urlencode(),
        "poll_query": request.GET.urlencode(),
        "statuses": Alert.Status.choices,
        "severities": KeywordScheme.Severity.choices,
        "schemes": list(
            KeywordScheme.objects.filter(organization_id=organization_id).order_by("name").values_list("pk", "name")
        ),
        "selected_status": request.GET.get("status", ""),
        "selected_severity": request.GET.get("severity", ""),
        "selected_scheme": request.GET.get("scheme", ""),
        "monitoring_nav": monitoring_nav(request.user, "alerts"),
    }
    if getattr(request, "htmx", False):
        response = render(request, "monitoring/alerts/partials/results.html", context)
    else:
        response = render(request, "monitoring/alerts/list.html", context)
    patch_vary_headers(response, ["HX-Request"])  # one URL, two answers
    return response


# --- one alert


class AlertActForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)


class AlertDismissForm(AlertActForm):
    reason = forms.CharField(
        label=gettext_lazy("排除理由"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("说明为什么不是舆情（如：广告、旧闻、与本单位无关）。"),
        error_messages={"required": gettext_lazy("请填写排除理由。")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "dismiss")
        super().__init__(*args, **kwargs)


def _unit_alert(organization_id: int, pk: int) -> Alert:
    return get_object_or_404(
        Alert.objects.select_related("scheme", "acknowledged_by", "closed_by", "incident"),
        pk=pk,
        organization_id=organization_id,
    )


def _post_rows(alert: Alert, page: int) -> tuple[list[dict[str, Any]], bool]:
    """A page of the alert's posts, newest first, with the words that hit marked."""
    offset = (page - 1) * POSTS_PAGE_SIZE
    matches = list(
        SchemeMatch.objects.filter(alert=alert)
        .select_related("mention")
        .order_by("-mention__captured_at", "-mention_id")[offset : offset + POSTS_PAGE_SIZE + 1]
    )
    rows = []
    for match in matches[:POSTS_PAGE_SIZE]:
        post, words = match.mention, [str(word) for word in match.words or []]
        rows.append(
            {
                "post": post,
                "words": words,
                "title": text_highlight(post.title, words),
                "text": text_highlight(post.text[:TEXT_SHOWN], words),
                "cut": len(post.text) > TEXT_SHOWN,
            }
        )
    return rows, len(matches) > POSTS_PAGE_SIZE


def _render_detail(
    request: HttpRequest,
    alert: Alert,
    *,
    status: int = 200,
    dismiss_form: AlertDismissForm | None = None,
    error: str = "",
    stale: str = "",
) -> HttpResponse:
    page = _page_number(request)
    rows, has_next = _post_rows(alert, page)
    available = alert_actions_available(alert, request.user)
    version = {"expected_version": alert.version}
    context = {
        "alert": alert,
        "counts": alert_counts(alert.organization_id, [alert.pk])[alert.pk],
        "rows": rows,
        "page": page,
        "has_next": has_next,
        "has_previous": page > 1,
        "available": available,
        "act_form": AlertActForm(initial=version, auto_id=False),  # drawn in two forms: no ids
        "dismiss_form": dismiss_form or (AlertDismissForm(initial=version) if "dismiss" in available else None),
        "dismiss_open": dismiss_form is not None,
        "error": error,
        "stale": stale,
        "monitoring_nav": monitoring_nav(request.user, "alerts"),
    }
    return render(request, "monitoring/alerts/detail.html", context, status=status)


@alerts_page()
@require_GET
def alert_detail(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    return _render_detail(request, _unit_alert(organization_id, pk))


ACTIONS = ("acknowledge", "dismiss", "convert")


@alerts_page()
@require_POST
def alert_act(request: HttpRequest, organization_id: int, pk: int, action: str) -> HttpResponse:
    """确认 / 排除 / 登记为舆情: one service call; a stale page, a closed alert or a missing reason is shown
    on the alert's page with what was typed kept."""
    if action not in ACTIONS:
        raise Http404(_("没有这项操作。"))
    alert = _unit_alert(organization_id, pk)
    form: AlertActForm = AlertDismissForm(request.POST) if action == "dismiss" else AlertActForm(request.POST)
    if not form.is_valid():
        if isinstance(form, AlertDismissForm):
            return _render_detail(request, alert, status=400, dismiss_form=form)
        return _render_detail(request, alert, status=400, error=_("页面已过期，请刷新后再操作。"))
    version = form.cleaned_data.get("expected_version")
    try:
        if action == "acknowledge":
            alert_acknowledge(alert_id=alert.pk, actor=request.user, expected_version=version)
            messages.success(request, _("已确认这条预警，后续命中的信息仍会并入。"))
        elif action == "dismiss":
            reason = form.cleaned_data["reason"]
            alert_dismiss(alert_id=alert.pk, actor=request.user, reason=reason, expected_version=version)
            messages.success(request, _("已排除这条预警。"))
        else:
            incident = alert_convert(alert_id=alert.pk, actor=request.user, expected_version=version)
            messages.success(request, _("已登记为舆情事件，预警中的信息已一并关联。"))
            return redirect("incident_detail", incident.pk)
    except (NotPermitted, SecondFactorRequired):
        raise  # the 403 page (alerts_page), or the way to a fresh second factor (accounts.middleware)
    except StaleObject as stale:
        return _render_detail(request, _unit_alert(organization_id, pk), status=409, stale=str(stale.message))
    except InvalidTransition as refusal:
        return _render_detail(request, _unit_alert(organization_id, pk), status=409, error=str(refusal.message))
    except DomainError as refusal:
        if refusal.code == "not_found":
            raise Http404(str(refusal.message)) from refusal
        if isinstance(form, AlertDismissForm) and refusal.field == "reason":
            form.add_error("reason", str(refusal.message))
            return _render_detail(request, alert, status=400, dismiss_form=form)
        return _render_detail(request, _unit_alert(organization_id, pk), status=400, error=str(refusal.message))
    return redirect(reverse("monitoring:alert_detail", args=[alert.pk]))
