"""What every incident page shares: finding a visible incident and turning service errors into
what the user sees (message next to the field, 403 page, stale-page notice, the way to a fresh
second factor). Never a 500."""

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from incidents import policies
from incidents.models import HandlingCategory, Incident, WarningLevel
from incidents.selectors import incidents_seen_by_unit, plan_parts_attach, user_subordinate_unit_ids
from opinion_ops.db import compiled
from opinion_ops.errors import DomainError, NotPermitted, SecondFactorRequired, StaleObject
from organizations.roles import user_organization_id

T = TypeVar("T")


@compiled
def _incident_seen(pk: int, organization_id: int, *, subordinates: tuple[int, ...]) -> QuerySet[Incident]:
    # Few joins, no ORDER BY: planning a seven-way join cost PostgreSQL more than running it.
    return (
        incidents_seen_by_unit(organization_id, subordinates)
        .select_related("organization", "plan", "reporter", "incident_type", "review")
        .filter(pk=pk)
        .order_by()[:1]
    )


def visible_incident(request: HttpRequest, pk: int) -> Incident:
    """The incident if the user's unit may see it; 404 for every other unit's incident."""
    organization_id = user_organization_id(request.user)
    found = (
        _incident_seen(pk, organization_id, subordinates=tuple(user_subordinate_unit_ids(request.user)))
        if organization_id is not None
        else []
    )
    if not found:
        raise Http404(_("舆情事件不存在或您无权查看。"))
    # The level and category come from the per-process memo of frozen plan parts.
    plan_parts_attach(found, WarningLevel, "level")
    plan_parts_attach(found, HandlingCategory, "category")
    return found[0]


def section_form(
    request: HttpRequest, incident: Incident, *, key: str, rule: str, template: str, form: forms.Form
) -> HttpResponse:
    """GET of a section's form on the incident page: the form alone for the page's htmx request when
    the section is opened (or why not, where it would be), else the page with it drawn (no script)."""
    if not getattr(request, "htmx", False):
        return redirect(reverse("incident_detail", args=[incident.pk]) + f"?panel={key}#act-{key}")
    refusal = policies.decide(rule, request.user, incident)
    if refusal is not None:
        status = 403 if refusal.error is NotPermitted else 409
        response = render(request, "incidents/partials/refused.html", {"message": refusal.message}, status=status)
    else:
        response = render(request, template, {"incident": incident, "form": form})
    patch_vary_headers(response, ["HX-Request"])  # one URL, two answers
    return response


def refused(request: HttpRequest, error: NotPermitted) -> HttpResponse:
    """The refusal page (403) with the service's reason."""
    if getattr(request, "htmx", False):
        return render(request, "incidents/partials/refused.html", {"message": error.message}, status=403)
    return render(request, "403.html", {"message": error.message}, status=403)


def call_service(form: forms.Form, call: Callable[[], T]) -> T | None:
    """Run a service; a DomainError about a field goes next to that field, others on top of the form.

    NotPermitted and StaleObject are re-raised: the caller answers them with a 403 or a stale notice.
    SecondFactorRequired is re-raised past the view: accounts.middleware sends the person to verify
    their second factor and back to this page, to repeat the action (nothing was saved).
    """
    try:
        return call()
    except (NotPermitted, StaleObject, SecondFactorRequired):
        raise
    except DomainError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, str(error.message))
        return None


def version_of(form: forms.Form) -> int | None:
    value: Any = form.cleaned_data.get("expected_version") if hasattr(form, "cleaned_data") else None
    return int(value) if value is not None else None
