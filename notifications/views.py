"""The notification centre (list, mark read, the unread badge, acknowledging a missed clock) and the
self-service page where people and group heads configure their notification channels."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import policies
from incidents.models import Deadline
from incidents.services.deadline_clock import deadline_acknowledge
from notifications.channels import channel_create, channel_delete, channel_send_test, channel_set_enabled
from notifications.forms import ChannelForm
from notifications.models import Notification, NotificationChannel
from notifications.selectors import channels_managed_by, notifications_for, notifications_unread_count
from notifications.services import notification_mark_read, notifications_mark_all_read
from notifications.transports import DeliveryFailed
from opinion_ops.errors import DomainError

PAGE_SIZE = 30


def _acknowledgeable(user: object, notifications: list[Notification]) -> set[int]:
    """The missed clocks among these notifications that this user may acknowledge now (the rule)."""
    allowed: set[int] = set()
    asked: set[int] = set()
    for notification in notifications:
        deadline = notification.deadline
        if deadline is None or deadline.pk in asked or deadline.status != Deadline.Status.MISSED:
            continue
        asked.add(deadline.pk)
        if deadline.acknowledged_at is None and policies.allows(
            "acknowledge_deadline", user, deadline.incident, deadline
        ):
            allowed.add(deadline.pk)
    return allowed


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
            "acknowledgeable": _acknowledgeable(request.user, list(page)),
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
            {"notification": notification, "acknowledgeable": _acknowledgeable(request.user, [notification])},
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


# --- 我的通知方式: a person's own channels and those of the groups they manage


@login_required
@require_http_methods(["GET", "POST"])
def channel_list(request: HttpRequest) -> HttpResponse:
    own, groups = channels_managed_by(user=request.user)
    form = ChannelForm(request.POST or None, groups=groups)
    if request.method == "POST" and form.is_valid():
        group = form.cleaned_data["group"]
        try:
            channel = channel_create(
                actor=request.user,
                user=None if group else request.user,
                group=group,
                kind=form.cleaned_data["kind"],
                target=form.cleaned_data["target"],
                name=form.cleaned_data["name"],
                secret=form.cleaned_data["secret"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("已添加通知方式“%(channel)s”。") % {"channel": _channel_label(channel)})
            return redirect("notifications:channels")
    return render(
        request,
        "notifications/channels.html",
        {"form": form, "own_channels": own, "groups": groups},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def channel_enable(request: HttpRequest, pk: int) -> HttpResponse:
    enabled = request.POST.get("enabled") == "1"
    try:
        channel = channel_set_enabled(channel_id=pk, actor=request.user, enabled=enabled)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    if enabled:
        messages.success(request, _("已启用“%(channel)s”。") % {"channel": _channel_label(channel)})
    else:
        messages.success(
            request, _("已停用“%(channel)s”，停用期间不再向其发送通知。") % {"channel": _channel_label(channel)}
        )
    return redirect("notifications:channels")


@login_required
@require_POST
def channel_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        channel = channel_delete(channel_id=pk, actor=request.user)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    messages.success(request, _("已删除“%(channel)s”。") % {"channel": _channel_label(channel)})
    return redirect("notifications:channels")


@login_required
@require_POST
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    error = ""
    try:
        channel = channel_send_test(channel_id=pk, actor=request.user)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    except DeliveryFailed as exc:
        error = str(exc)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "notifications/partials/channel_test_result.html", {"error": error})
    if error:
        messages.error(request, _("测试消息发送失败：%(error)s") % {"error": error})
    else:
        messages.success(request, _("测试消息已发出，请到“%(channel)s”查收。") % {"channel": _channel_label(channel)})
    return redirect("notifications:channels")


def _channel_label(channel: NotificationChannel) -> str:
    return channel.name or channel.get_kind_display()
