"""单位设置 → 系统对接: a unit's administrators subscribe other systems to its events (signed
webhooks), see every delivery with its attempts and the receiver's answer, and send one again.
The signing secret is shown once, when made or rotated."""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from notifications.channels import (
    SIGNED,
    delivery_resend,
    subscription_create,
    subscription_delete,
    subscription_update,
)
from notifications.forms import WebhookForm
from notifications.models import Delivery, DeliveryAttempt, NotificationChannel
from opinion_ops.pages import form_service_call, message_service_call
from organizations.models import Organization
from organizations.views import unit_page, unit_render

DELIVERY_PAGE_SIZE = 30


def _subscriptions(organization_id: int) -> QuerySet[NotificationChannel]:
    return NotificationChannel.objects.filter(kind=SIGNED, organization_id=organization_id).select_related("created_by")


def _subscription(organization_id: int, pk: int) -> NotificationChannel:
    subscription = _subscriptions(organization_id).filter(pk=pk).first()
    if subscription is None:
        raise Http404(_("系统对接不存在。"))
    return subscription


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"  # the page may carry a secret shown once
    return response


@unit_page("manage_webhooks")
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest, organization_id: int) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = form_service_call(
            form,
            lambda: subscription_create(
                organization=Organization.objects.get(pk=organization_id),
                actor=request.user,
                name=data["name"],
                target_url=data["target_url"],
                event_names=list(data["events"]),
            ),
        )
        if created is not None:
            if not data["is_active"]:
                subscription_update(subscription_id=created.pk, actor=request.user, is_active=False)
            return _webhook_page(request, organization_id, created, secret=created.secret)
    return unit_render(
        request,
        "unit/webhooks.html",
        "webhooks",
        {
            "subscriptions": _subscriptions(organization_id),
            "form": form,
            "_invalid": form.is_bound and bool(form.errors),
        },
    )


def _webhook_page(
    request: HttpRequest, organization_id: int, subscription: NotificationChannel, **extra: Any
) -> HttpResponse:
    deliveries = (
        Delivery.objects.filter(channel_id=subscription.pk)
        .prefetch_related(Prefetch("log", queryset=DeliveryAttempt.objects.order_by("number")))
        .order_by("-created_at", "-id")
    )
    page = Paginator(deliveries, DELIVERY_PAGE_SIZE).get_page(request.GET.get("page"))
    form = extra.pop("form", None) or WebhookForm(
        initial={
            "name": subscription.name,
            "target_url": subscription.target,
            "events": subscription.events,
            "is_active": subscription.enabled,
        },
        prefix="edit",
    )
    context = {"subscription": subscription, "form": form, "page": page, **extra}
    return _no_store(unit_render(request, "unit/webhook.html", "webhooks", context))


@unit_page("manage_webhooks")
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    subscription = _subscription(organization_id, pk)
    if request.method != "POST":
        return _webhook_page(request, organization_id, subscription)
    form = WebhookForm(request.POST, prefix="edit")
    if form.is_valid():
        data = form.cleaned_data
        saved = form_service_call(
            form,
            lambda: subscription_update(
                subscription_id=pk,
                actor=request.user,
                name=data["name"],
                target_url=data["target_url"],
                event_names=list(data["events"]),
                is_active=data["is_active"],
            ),
        )
        if saved is not None:
            messages.success(request, _("已保存。"))
            return redirect("unit_webhooks:detail", pk=pk)
    return _webhook_page(request, organization_id, subscription, form=form, _invalid=True)


@unit_page("manage_webhooks")
@require_POST
def webhook_rotate(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    _subscription(organization_id, pk)
    rotated = message_service_call(
        request, lambda: subscription_update(subscription_id=pk, actor=request.user, rotate_secret=True)
    )
    if rotated is None:
        return redirect("unit_webhooks:detail", pk=pk)
    return _webhook_page(request, organization_id, rotated, secret=rotated.secret)


@unit_page("manage_webhooks")
@require_POST
def webhook_delete(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    subscription = _subscription(organization_id, pk)

    def delete() -> bool:
        subscription_delete(subscription_id=pk, actor=request.user)
        return True

    if message_service_call(request, delete):
        messages.success(request, _("已删除系统对接 %(name)s。") % {"name": subscription.name})
        return redirect("unit_webhooks:list")
    return redirect("unit_webhooks:detail", pk=pk)


@unit_page("manage_webhooks")
@require_POST
def delivery_send_again(request: HttpRequest, organization_id: int, pk: int, delivery_id: int) -> HttpResponse:
    _subscription(organization_id, pk)
    if not Delivery.objects.filter(pk=delivery_id, channel_id=pk).exists():
        raise Http404(_("投递不存在。"))
    if message_service_call(request, lambda: delivery_resend(delivery_id=delivery_id, actor=request.user)):
        messages.success(request, _("已重新排队发送，事件编号不变，接收方可据此去重。"))
    return redirect("unit_webhooks:detail", pk=pk)
