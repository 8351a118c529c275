from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from incidents.selectors import incidents_visible_to


@login_required
def home(request: HttpRequest) -> HttpResponse:
    incidents = incidents_visible_to(request.user).select_related("level").order_by("-discovered_at")[:20]
    return render(request, "incidents/home.html", {"incidents": incidents})
