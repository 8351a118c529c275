"""The notification centre, and a unit's signed webhooks with their delivery log, over the API.

A webhook subscription is a channel of the unit (kind signed_webhook) and its deliveries are the
outbox's Delivery rows: the same claim, backoff and attempt log as every other message.
"""

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.filtersets import IdFilter
from notifications.channels import (
    delivery_resend,
    subscription_create,
    subscription_delete,
    subscription_update,
)
from notifications.models import Delivery, DeliveryAttempt, Notification, NotificationChannel
from notifications.routing import WEBHOOK_EVENTS
from notifications.services import notification_mark_read, notifications_mark_all_read
from opinion_ops.api.base import ServiceViewSet, StrictSerializer, idempotent
from opinion_ops.errors import NotPermitted
from organizations.models import Organization
from organizations.permissions import unit_rule
from organizations.roles import user_organization_id

SIGNED = NotificationChannel.Kind.SIGNED_WEBHOOK


# --- the notification centre


class NotificationSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Notification
        fields = ["id", "incident", "deadline", "kind", "title", "body", "url", "created_at", "read_at"]
        read_only_fields = fields


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["kind"]


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """Your own notifications; nobody else's are visible."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    ordering = ["-created_at", "-id"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.filter(recipient_id=self.request.user.pk)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = self.get_object()
        return self.respond(notification_mark_read(notification_id=notification.pk, user=request.user))

    @extend_schema(request=None, responses={200: inline_serializer("ReadAll", {"marked": serializers.IntegerField()})})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": notifications_mark_all_read(user=request.user)})


# --- signed webhooks of the unit


def _unit_subscriptions(user: Any) -> QuerySet[NotificationChannel]:
    organization_id = user_organization_id(user)
    if organization_id is None:
        return NotificationChannel.objects.none()
    return NotificationChannel.objects.filter(kind=SIGNED, organization_id=organization_id)


class WebhookSubscriptionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    target_url = serializers.CharField(source="target", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=list(WEBHOOK_EVENTS)), read_only=True)
    is_active = serializers.BooleanField(source="enabled", read_only=True)

    class Meta:
        model = NotificationChannel
        fields = ["id", "organization", "name", "target_url", "events", "is_active", "created_by", "created_at"]
        read_only_fields = fields


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """Returned once, at creation (and on rotation): the secret to verify signatures with."""

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookSubscriptionWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    target_url = serializers.CharField(max_length=1000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=list(WEBHOOK_EVENTS)), min_length=1)


class WebhookSubscriptionUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    target_url = serializers.CharField(max_length=1000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(WEBHOOK_EVENTS)), min_length=1, required=False
    )
    is_active = serializers.BooleanField(required=False)
    rotate_secret = serializers.BooleanField(required=False)


class WebhookAttemptSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    attempted_at = serializers.DateTimeField(source="started_at", read_only=True)

    class Meta:
        model = DeliveryAttempt
        fields = ["number", "attempted_at", "response_status", "error", "duration_ms"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    subscription = serializers.IntegerField(source="channel_id", read_only=True)
    event = serializers.CharField(source="kind", read_only=True)
    payload = serializers.JSONField(read_only=True)
    delivered_at = serializers.DateTimeField(source="sent_at", read_only=True)
    attempt_log = WebhookAttemptSerializer(source="log", many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "subscription",
            "event_id",
            "event",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_response_status",
            "last_error",
            "delivered_at",
            "created_at",
            "attempt_log",
        ]
        read_only_fields = fields


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    subscription = IdFilter(field_name="channel_id")
    event = django_filters.CharFilter(field_name="kind")

    class Meta:
        model = Delivery
        fields = ["status"]


class WebhookSubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """Outbound signed webhooks of your unit. Payloads are signed; see docs/api.md."""

    serializer_class = WebhookSubscriptionSerializer
    permission_classes = [*ServiceViewSet.permission_classes, unit_rule("manage_webhooks")]
    ordering = ["id"]
    ordering_fields = ["id", "name"]
    filterset_fields = ["enabled"]

    def get_queryset(self) -> QuerySet[NotificationChannel]:
        return _unit_subscriptions(self.request.user)

    @extend_schema(request=WebhookSubscriptionWriteSerializer, responses={201: WebhookSubscriptionCreatedSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        data = self.validated(WebhookSubscriptionWriteSerializer)
        organization = Organization.objects.filter(pk=user_organization_id(request.user) or 0).first()
        if organization is None:  # an operator without a unit: there is no unit to subscribe to
            raise NotPermitted(_("只有本单位管理员可以管理系统对接 Webhook。"))
        subscription = subscription_create(
            organization=organization,
            actor=request.user,
            name=data["name"],
            target_url=data["target_url"],
            event_names=data["events"],
        )
        return self.respond(subscription, WebhookSubscriptionCreatedSerializer, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookSubscriptionUpdateSerializer, responses={200: WebhookSubscriptionCreatedSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        data: dict[str, Any] = self.validated(WebhookSubscriptionUpdateSerializer)
        if "events" in data:
            data["event_names"] = data.pop("events")
        rotated = bool(data.get("rotate_secret"))
        subscription = subscription_update(subscription_id=subscription.pk, actor=request.user, **data)
        serializer = WebhookSubscriptionCreatedSerializer if rotated else WebhookSubscriptionSerializer
        return self.respond(subscription, serializer)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        subscription_delete(subscription_id=subscription.pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """The delivery log: every event sent to your unit's webhooks, with each attempt."""

    serializer_class = WebhookDeliverySerializer
    permission_classes = [*ServiceViewSet.permission_classes, unit_rule("manage_webhooks")]
    filterset_class = WebhookDeliveryFilterSet
    ordering = ["-created_at", "-id"]
    ordering_fields = ["id", "created_at", "next_attempt_at"]

    def get_queryset(self) -> QuerySet[Delivery]:
        attempts = Prefetch("log", queryset=DeliveryAttempt.objects.order_by("number", "id"))
        return Delivery.objects.filter(channel__in=_unit_subscriptions(self.request.user)).prefetch_related(attempts)

    @extend_schema(request=None, responses={200: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"], url_path="send-again")
    @idempotent
    def send_again(self, request: Request, pk: str | None = None) -> Response:
        delivery = self.get_object()
        delivery_resend(delivery_id=delivery.pk, actor=request.user)
        return self.respond(self.get_queryset().get(pk=delivery.pk))
