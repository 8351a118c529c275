"""Webhook subscriptions and their delivery log over the API (unit administrators)."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.fields import of_own_unit
from incidents.filtersets import IdFilter
from incidents.models import Organization
from incidents.roles import user_organization_id
from integrations.api_base import ServiceViewSet, StrictSerializer, idempotent
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.permissions import IsUnitAdmin
from integrations.webhooks import (
    WEBHOOK_EVENTS,
    webhook_delivery_resend,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_update,
)


class WebhookSubscriptionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    events = serializers.ListField(child=serializers.ChoiceField(choices=list(WEBHOOK_EVENTS)), read_only=True)

    class Meta:
        model = WebhookSubscription
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
    class Meta:
        model = WebhookAttempt
        fields = ["number", "attempted_at", "response_status", "error", "duration_ms"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    payload = serializers.JSONField(read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event_id",
            "event",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_response_status",
            "last_error",
            "delivered_at",
            "created_at",
            "attempt_log",
        ]
        read_only_fields = fields


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    subscription = IdFilter(field_name="subscription_id")

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event"]


class WebhookSubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """Outbound webhooks of your unit. Payloads are signed; see docs/api.md."""

    serializer_class = WebhookSubscriptionSerializer
    permission_classes = [*ServiceViewSet.permission_classes, IsUnitAdmin]
    ordering = ["id"]
    ordering_fields = ["id", "name"]
    filterset_fields = ["is_active"]

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return of_own_unit(WebhookSubscription.objects.all(), self.request.user)

    @extend_schema(request=WebhookSubscriptionWriteSerializer, responses={201: WebhookSubscriptionCreatedSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        data = self.validated(WebhookSubscriptionWriteSerializer)
        organization = Organization.objects.get(pk=user_organization_id(request.user) or 0)
        subscription = webhook_subscription_create(
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
        subscription = webhook_subscription_update(subscription_id=subscription.pk, actor=request.user, **data)
        serializer = WebhookSubscriptionCreatedSerializer if rotated else WebhookSubscriptionSerializer
        return self.respond(subscription, serializer)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        webhook_subscription_delete(subscription_id=subscription.pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """The delivery log: every event sent to your unit's subscriptions, with each attempt."""

    serializer_class = WebhookDeliverySerializer
    permission_classes = [*ServiceViewSet.permission_classes, IsUnitAdmin]
    filterset_class = WebhookDeliveryFilterSet
    ordering = ["-created_at", "-id"]
    ordering_fields = ["id", "created_at", "next_attempt_at"]

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        deliveries = WebhookDelivery.objects.prefetch_related("attempt_log")
        return of_own_unit(deliveries, self.request.user, "subscription__organization_id")

    @extend_schema(request=None, responses={200: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"], url_path="send-again")
    @idempotent
    def send_again(self, request: Request, pk: str | None = None) -> Response:
        delivery = self.get_object()
        webhook_delivery_resend(delivery_id=delivery.pk, actor=request.user)
        return self.respond(self.get_queryset().get(pk=delivery.pk))
