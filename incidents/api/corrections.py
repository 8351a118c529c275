"""The incident resource's corrections and discussion: merge a duplicate, link related incidents,
read what an incident is related to, and the comment thread (list and post; never edit or delete).
Writes call incidents.services.corrections and incidents.services.comments, which ask the rules."""

from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api import serializers as s
from incidents.api.fields import UnitScopedPrimaryKeyField
from incidents.models import Comment, Incident, IncidentLink
from incidents.selectors import incidents_visible_to
from incidents.services.comments import BODY_MAX, comment_create
from incidents.services.corrections import REASON_MAX, incident_link, incident_merge
from opinion_ops.api.base import ServiceViewSet, StrictSerializer, expected_version, idempotent
from organizations.selectors import person_name


def own_incident_field(**kwargs: Any) -> UnitScopedPrimaryKeyField:
    """An incident of the caller's own unit (not one a subordinate unit reported up)."""
    return UnitScopedPrimaryKeyField(model=Incident, unit_lookup="organization_id", **kwargs)


class MergeSerializer(s.TransitionSerializer):
    into = own_incident_field(help_text="The open incident of your unit the duplicate is merged into.")
    reason = s.text(REASON_MAX)
    clocks = s.ClockResolutionSerializer(
        many=True,
        required=False,
        default=list,
        help_text="Each missed clock of the duplicate, settled by a leader in the same step.",
    )

    def validate_clocks(self, value: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
        return {item["deadline"]: {"resolution": item["resolution"], "reason": item["reason"]} for item in value}


class LinkSerializer(s.TransitionSerializer):
    related = own_incident_field(help_text="Another incident of your unit (it may be closed).")
    note = s.text(REASON_MAX, required=False, allow_blank=True, default="")


class RelatedIncidentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Incident
        fields = ["id", "reference", "title", "state"]
        read_only_fields = fields


class IncidentLinkSerializer(serializers.Serializer):  # type: ignore[type-arg]
    incident = RelatedIncidentSerializer(read_only=True, help_text="The other incident of the link.")
    note = serializers.CharField(read_only=True)
    created_by = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class RelatedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    merged_into = RelatedIncidentSerializer(read_only=True, allow_null=True)
    merged_duplicates = RelatedIncidentSerializer(many=True, read_only=True)
    links = IncidentLinkSerializer(many=True, read_only=True)


class CommentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    author_name = serializers.SerializerMethodField()
    mentioned = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    entry_seq = serializers.IntegerField(
        source="entry.seq", read_only=True, help_text="The timeline entry that anchors the comment in the hash chain."
    )
    sha256 = serializers.CharField(read_only=True, help_text="incidents.models.discussion: the comment's digest.")

    class Meta:
        model = Comment
        fields = ["id", "incident", "author", "author_name", "body", "mentioned", "created_at", "entry_seq", "sha256"]
        read_only_fields = fields

    def get_author_name(self, comment: Comment) -> str:
        return person_name(comment.author)


class CommentCreateSerializer(StrictSerializer):
    body = s.text(BODY_MAX, help_text="May @mention people by user name or full name; they are told.")


class IncidentCorrectionsViewSet(ServiceViewSet):
    """The incident endpoints of correcting and discussing the record (mixed into IncidentViewSet)."""

    def _detail(self, incident_id: int) -> Response:
        return self.respond(self.get_queryset().get(pk=incident_id), s.IncidentDetailSerializer)

    @extend_schema(
        summary="Merge a duplicate into another open incident of your unit (closes it)",
        request=MergeSerializer,
        responses={200: s.IncidentDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def merge(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = expected_version(self.validated(MergeSerializer))
        into = data.pop("into")
        incident_merge(incident_id=incident.pk, into_id=into.pk, actor=request.user, **data)
        return self._detail(incident.pk)

    @extend_schema(
        summary="Record another incident of your unit as related",
        request=LinkSerializer,
        responses={200: s.IncidentDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def link(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = expected_version(self.validated(LinkSerializer))
        related = data.pop("related")
        incident_link(incident_id=incident.pk, related_id=related.pk, actor=request.user, **data)
        return self._detail(incident.pk)

    @extend_schema(responses={200: RelatedSerializer}, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=[], pagination_class=None)
    def related(self, request: Request, pk: str | None = None) -> Response:
        """What the incident was merged into, the duplicates merged into it, and its related incidents
        (only incidents you can see)."""
        incident = self.get_object()
        visible = incidents_visible_to(request.user)
        links = (
            IncidentLink.objects.filter(Q(incident=incident) | Q(related=incident))
            .filter(incident__in=visible, related__in=visible)
            .select_related("incident", "related")
        )
        body = {
            "merged_into": visible.filter(pk=incident.merged_into_id).first() if incident.merged_into_id else None,
            "merged_duplicates": list(visible.filter(merged_into=incident).order_by("reference")),
            "links": [
                {
                    "incident": link.other(incident.pk),
                    "note": link.note,
                    "created_by": link.created_by_id,
                    "created_at": link.created_at,
                }
                for link in links
            ],
        }
        return Response(RelatedSerializer(body).data)

    @extend_schema(responses={200: CommentSerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=[], pagination_class=None)
    def comments(self, request: Request, pk: str | None = None) -> Response:
        """The discussion thread, oldest first. Comments are never edited or deleted."""
        incident = self.get_object()
        rows = Comment.objects.filter(incident=incident).select_related("author", "entry").order_by("created_at", "id")
        return Response(CommentSerializer(rows, many=True).data)

    @extend_schema(request=CommentCreateSerializer, responses={201: CommentSerializer})
    @comments.mapping.post
    @idempotent
    def comment_create(self, request: Request, pk: str | None = None) -> Response:
        """Post a comment; the people it @mentions are told. An @ naming someone who cannot be
        mentioned is refused (400, field `body`)."""
        incident = self.get_object()
        comment = comment_create(incident_id=incident.pk, actor=request.user, **self.validated(CommentCreateSerializer))
        row = Comment.objects.select_related("author", "entry").get(pk=comment.pk)
        return Response(CommentSerializer(row).data, status=status.HTTP_201_CREATED)
