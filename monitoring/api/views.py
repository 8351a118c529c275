"""Monitored posts over the API: monitoring tools ingest them (an `ingest` token may only create)."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.fields import of_own_unit
from monitoring.api.filtersets import MentionFilterSet
from monitoring.api.serializers import MentionAttachSerializer, MentionCreateSerializer, MentionSerializer
from monitoring.models import Mention
from monitoring.services import mention_attach, mention_create
from opinion_ops.api.base import ServiceViewSet, idempotent


class MentionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = MentionSerializer
    filterset_class = MentionFilterSet
    ordering = ["-captured_at", "-id"]
    ordering_fields = ["id", "captured_at", "published_at"]
    ingest_actions = ("create",)

    def get_queryset(self) -> QuerySet[Mention]:
        return of_own_unit(Mention.objects.all(), self.request.user)

    @extend_schema(request=MentionCreateSerializer, responses={201: MentionSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        mention = mention_create(actor=request.user, **self.validated(MentionCreateSerializer))
        return self.respond(mention, status=status.HTTP_201_CREATED)

    @extend_schema(request=MentionAttachSerializer, responses={200: MentionSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def attach(self, request: Request, pk: str | None = None) -> Response:
        mention = self.get_object()
        incident = self.validated(MentionAttachSerializer)["incident"]
        return self.respond(mention_attach(mention_id=mention.pk, incident_id=incident.pk, actor=request.user))
