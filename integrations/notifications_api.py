"""The caller's in-app notifications over the API (the notifications app owns the model and services)."""

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.api_base import ServiceViewSet
from notifications.models import Notification
from notifications.services import notification_mark_read, notifications_mark_all_read


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
