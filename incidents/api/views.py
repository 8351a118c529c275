"""The incident resource and its lifecycle actions. Every write is one service call; the service
enforces roles, states and conditions exactly as for the browser."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api import serializers as s
from incidents.api.corrections import IncidentCorrectionsViewSet
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident, TimelineEntry
from incidents.selectors import incidents_visible_to
from incidents.services import incidents as svc
from opinion_ops.api.base import expected_version, idempotent


def _transition_action(
    name: str, service: Callable[..., Incident], serializer: type[s.TransitionSerializer], summary: str
) -> Any:
    def handler(self: "IncidentViewSet", request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()  # 404 for incidents the caller cannot see
        data = expected_version(self.validated(serializer))
        service(incident_id=incident.pk, actor=request.user, **data)
        return self.respond(self.get_queryset().get(pk=incident.pk), s.IncidentDetailSerializer)

    handler.__name__ = name.replace("-", "_")
    handler = idempotent(handler)
    handler = extend_schema(
        summary=summary,
        request=serializer,
        responses={200: s.IncidentDetailSerializer},
        operation_id=f"incidents_{handler.__name__}",
    )(handler)
    return action(detail=True, methods=["post"], url_path=name, url_name=name)(handler)


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, IncidentCorrectionsViewSet):
    """Incidents of your unit (and those its subordinate units escalated to it)."""

    serializer_class = s.IncidentSerializer
    filterset_class = IncidentFilterSet
    ordering_fields = ["discovered_at", "logged_at", "updated_at", "id", "state", "level__rank"]
    ordering = ["-discovered_at", "-id"]
    ingest_actions = ("create",)

    def get_queryset(self) -> QuerySet[Incident]:
        visible = incidents_visible_to(self.request.user)
        if self.action == "list":
            return visible  # the list serializer looks up levels, categories and groups per page
        return visible.select_related("level", "category").prefetch_related("assigned_groups", "warning_notices")

    def get_serializer_class(self) -> Any:
        return s.IncidentSerializer if self.action == "list" else s.IncidentDetailSerializer

    @extend_schema(request=s.IncidentCreateSerializer, responses={201: s.IncidentDetailSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        incident = svc.incident_create(actor=request.user, **self.validated(s.IncidentCreateSerializer))
        return self.respond(self.get_queryset().get(pk=incident.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.IncidentUpdateSerializer, responses={200: s.IncidentDetailSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = expected_version(self.validated(s.IncidentUpdateSerializer))
        svc.incident_update(incident_id=incident.pk, actor=request.user, **data)
        return self.respond(self.get_queryset().get(pk=incident.pk))

    @extend_schema(responses={200: s.TimelineEntrySerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=[], pagination_class=None)
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        """The append-only record of everything that happened to the incident (read-only)."""
        incident = self.get_object()
        entries = TimelineEntry.objects.filter(incident=incident).order_by("recorded_at", "id")
        return Response(s.TimelineEntrySerializer(entries, many=True).data)

    start_assessment = _transition_action(
        "start-assessment", svc.incident_start_assessment, s.TransitionSerializer, "监测 → 研判"
    )
    issue_warning = _transition_action(
        "issue-warning",
        svc.incident_issue_warning,
        s.WarningTransitionSerializer,
        "研判 → 预警: level and warning notice (text, groups and what each must do)",
    )
    dismiss = _transition_action("dismiss", svc.incident_dismiss, s.ReasonTransitionSerializer, "研判 → 已排除")
    start_response = _transition_action(
        "start-response", svc.incident_start_response, s.TransitionSerializer, "预警 → 处置"
    )
    start_tracking = _transition_action(
        "start-tracking", svc.incident_start_tracking, s.TransitionSerializer, "处置 → 跟踪"
    )
    rebound = _transition_action("rebound", svc.incident_rebound, s.ReasonTransitionSerializer, "跟踪 → 处置 (反弹)")
    start_review = _transition_action(
        "start-review", svc.incident_start_review, s.StartReviewSerializer, "跟踪 → 总结 (settles open clocks)"
    )
    archive = _transition_action("archive", svc.incident_archive, s.TransitionSerializer, "总结 → 已归档")
    change_level = _transition_action(
        "change-level",
        svc.incident_change_level,
        s.ChangeLevelSerializer,
        "Raise or lower the level (optionally with a warning notice)",
    )
    escalate = _transition_action(
        "escalate", svc.incident_escalate, s.EscalateSerializer, "Report to the superior unit"
    )
    assign_groups = _transition_action(
        "assign-groups", svc.incident_assign_groups, s.AssignGroupsSerializer, "Set the handling groups"
    )
