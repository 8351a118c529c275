"""Adding a monitored post by hand from the incident page; monitoring.services saves and links it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from incidents.views.common import call_service, refused, section_form, visible_incident
from incidents.views.detail import render_detail
from monitoring.forms import MentionForm
from monitoring.services import mention_create
from opinion_ops.errors import NotPermitted, StaleObject


@login_required
@require_http_methods(["GET", "POST"])
def mention_add(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: add the post. GET: the form, as the incident page fetches it when the section is opened."""
    incident = visible_incident(request, pk)
    if request.method == "GET":
        template = "monitoring/partials/mention_form.html"
        return section_form(request, incident, key="mention", rule="add_mention", template=template, form=MentionForm())
    form = MentionForm(request.POST)
    if form.is_valid():
        try:
            mention = call_service(
                form, lambda: mention_create(actor=request.user, incident=incident, **form.cleaned_data)
            )
        except NotPermitted as error:
            return refused(request, error)
        except StaleObject as error:
            return render_detail(request, visible_incident(request, pk), status=409, stale=str(error.message))
        if mention is not None:
            messages.success(request, _("已录入并关联该信息。"))
            return redirect(reverse("incident_detail", args=[pk]) + "#mentions")
    return render_detail(
        request, visible_incident(request, pk), status=400, overrides={"mention": form}, open_action="mention"
    )
