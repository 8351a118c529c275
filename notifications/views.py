"""The notification centre: list, mark read, the unread badge, and acknowledging a missed clock."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from incidents.errors import DomainError
from incidents.models import Deadline
from incidents.services.deadline_clock import deadline_acknowledge
from notifications.selectors import notifications_for, notifications_unread_count
from notifications.services import notification_mark_read, notifications_mark_all_read

PAGE_SIZE = 30


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "unread_count": notifications_unread_count(user=request.user),
            "missed": Deadline.Status.MISSED,
        },
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notification = notification_mark_read(notification_id=pk, user=request.user)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    if request.htmx:  # type: ignore[attr-defined]
        response = render(
            request,
            "notifications/partials/item.html",
            {"notification": notification, "missed": Deadline.Status.MISSED},
        )
        response["HX-Trigger"] = "notifications-changed"
        return response
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect("notifications:list")


@login_required
@require_GET
def notification_badge(request: HttpRequest) -> HttpResponse:
    return render(
        request, "notifications/partials/badge.html", {"unread_count": notifications_unread_count(user=request.user)}
    )


@login_required
@require_POST
def deadline_acknowledge_view(request: HttpRequest, deadline_id: int) -> HttpResponse:
    try:
        deadline = deadline_acknowledge(deadline_id=deadline_id, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("“%(name)s”已确认，停止升级。") % {"name": deadline.name})
    return redirect("notifications:list")
