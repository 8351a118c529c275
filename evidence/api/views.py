"""Evidence over the API: list and read (the incidents the caller may see), upload (multipart),
withdraw, and download the original with the same visibility check as the page."""

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from evidence.api.filtersets import EvidenceFilterSet
from evidence.api.serializers import EvidenceSerializer, EvidenceUploadSerializer, EvidenceWithdrawSerializer
from evidence.content import FileTooLarge, too_large_message
from evidence.models import Evidence
from evidence.selectors import evidence_visible_to
from evidence.services import evidence_attach, evidence_withdraw
from evidence.uploads import EvidenceSizeLimit, size_limit_install
from evidence.views import evidence_file_response
from opinion_ops.api.base import ServiceViewSet, idempotent
from opinion_ops.api.parsers import LimitedJSONParser


class AnyFileRenderer(BaseRenderer):
    """Lets a download be asked for with any Accept header; the file is streamed as it is."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        return data


class EvidenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = EvidenceSerializer
    filterset_class = EvidenceFilterSet
    parser_classes = [LimitedJSONParser, MultiPartParser]
    ordering = ["-uploaded_at", "-id"]
    ordering_fields = ["id", "uploaded_at", "size"]
    size_limit: EvidenceSizeLimit

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body (authentication's CSRF check does): a file over the limit is skipped.
        self.size_limit = size_limit_install(request)
        return super().initialize_request(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        # An error about a download (not found, not permitted) is JSON like every other error, even when
        # the client asked for the file's own type (Accept or ?format=file).
        if getattr(self, "action", None) == "download" and hasattr(self.request, "accepted_renderer"):
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    def get_queryset(self) -> QuerySet[Evidence]:
        return evidence_visible_to(self.request.user).select_related("withdrawal")

    @extend_schema(
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={201: EvidenceSerializer},
        description="Upload a file as evidence (multipart/form-data). The same file (same SHA-256) is "
        "refused for one incident while the first is not withdrawn (400 `duplicate`); a file over "
        "EVIDENCE_MAX_BYTES is answered 413 `file_too_large`.",
    )
    def create(self, request: Request) -> Response:
        if not (request.content_type or "").startswith("multipart/form-data"):
            raise exceptions.UnsupportedMediaType(request.content_type)
        request.data  # noqa: B018 — parse the body now: the size limit acts while it is read
        if self.size_limit.refused:
            raise FileTooLarge(too_large_message(), field="file")
        data = self.validated(EvidenceUploadSerializer)
        evidence = evidence_attach(
            incident_id=data["incident"].pk,
            actor=request.user,
            file=data["file"],
            description=data["description"],
            report_id=data["report"],
            mention_id=data["mention"],
        )
        return self.respond(self.get_queryset().get(pk=evidence.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=EvidenceWithdrawSerializer, responses={200: EvidenceSerializer})
    @action(detail=True, methods=["post"], parser_classes=[LimitedJSONParser])
    @idempotent
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        evidence = self.get_object()
        reason = self.validated(EvidenceWithdrawSerializer)["reason"]
        evidence_withdraw(evidence_id=evidence.pk, actor=request.user, reason=reason)
        return self.respond(self.get_queryset().get(pk=evidence.pk))

    @extend_schema(request=None, responses={(200, "*/*"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, AnyFileRenderer])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        """The original file, byte for byte, as an attachment (nosniff, sandboxed)."""
        evidence = self.get_object()
        return evidence_file_response(
            evidence.stored_name, evidence.content_type, evidence.original_name, attachment=True
        )
