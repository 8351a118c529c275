"""Monitoring over the API: posts pushed by other systems (one post, or batches through the one ingest
path), the unit's schemes (read only) and its alerts with what people do with them. An `ingest`
token may only push posts; every row is of the caller's own unit (the token's unit, never a unit
the client names)."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.fields import of_own_unit
from monitoring.alerts import alert_acknowledge, alert_convert, alert_dismiss
from monitoring.api.filtersets import AlertFilterSet, MentionFilterSet, SchemeFilterSet
from monitoring.api.serializers import (
    AlertActSerializer,
    AlertDismissSerializer,
    AlertSerializer,
    IngestResultSerializer,
    IngestSerializer,
    MentionAttachSerializer,
    MentionCreateSerializer,
    MentionSerializer,
    SchemeSerializer,
)
from monitoring.ingest import posts_ingest, source_of_kind
from monitoring.models import Alert, KeywordScheme, Mention, Source
from monitoring.services import mention_attach, mention_create
from opinion_ops.api.base import ServiceViewSet, expected_version, idempotent
from opinion_ops.errors import DomainError, NotPermitted
from organizations.permissions import unit_rule
from organizations.roles import user_organization_id


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


class MayIngest(unit_rule("handle_alerts")):  # type: ignore[misc,valid-type]
    message = _("只有本单位应急工作组成员可以推送舆情信息。")


def _ingest_source(organization_id: int, name: str) -> Source:
    """The unit's API source of that name, or its default 接口推送 source; never another unit's."""
    if name.strip():
        source = Source.objects.filter(organization_id=organization_id, kind=Source.Kind.API, name=name.strip()).first()
        if source is None:
            raise DomainError(
                _("本单位没有名为“%(name)s”的接口推送来源。") % {"name": name.strip()[:100]}, field="source"
            )
    else:
        source = source_of_kind(organization_id, Source.Kind.API)
    if not source.enabled:
        raise DomainError(_("信息来源“%(name)s”已停用。") % {"name": source.name}, field="source")
    return source


class PostViewSet(ServiceViewSet):
    """Posts pushed in batches by the unit's other systems (crawlers, monitoring services)."""

    permission_classes = [*ServiceViewSet.permission_classes, MayIngest]
    ingest_actions = ("ingest",)
    serializer_class = IngestSerializer  # what OPTIONS describes
    queryset = Mention.objects.none()  # nothing is read here; the schema generator asks for the model

    @extend_schema(
        summary="Push a batch of posts (at most 1,000)",
        description=(
            "Each post is checked on its own: a bad one is listed in `rejected` with its index, field and "
            "reason, and the others are stored. The same post again (same source and `external_id`, or the "
            "same link and text in your unit) counts as a duplicate, so a batch can be sent again safely. "
            "201 when at least one post was stored, else 200."
        ),
        request=IngestSerializer,
        responses={201: IngestResultSerializer, 200: IngestResultSerializer},
        filters=False,
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def ingest(self, request: Request) -> Response:
        organization_id = user_organization_id(request.user)
        if organization_id is None:  # MayIngest lets no one without a unit through
            raise NotPermitted(_("您的账号尚未加入任何单位。"))
        data = self.validated(IngestSerializer)
        source = _ingest_source(organization_id, data["source"])
        rows = data["posts"]
        accepted = [row for row in rows if "post" in row]
        result = posts_ingest(source_id=source.pk, posts=[row["post"] for row in accepted], actor=request.user)
        rejected = [{k: row[k] for k in ("index", "field", "message")} for row in rows if "post" not in row]
        # posts_ingest counts positions among the posts it was given: back to positions in the batch.
        rejected += [{**refused, "index": accepted[refused["index"]]["index"]} for refused in result.rejected]
        body = {**result.as_dict(), "rejected": sorted(rejected, key=lambda row: row["index"])}
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class SchemeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """The unit's 监测方案 (configured on the monitoring pages)."""

    serializer_class = SchemeSerializer
    filterset_class = SchemeFilterSet
    permission_classes = [*ServiceViewSet.permission_classes, unit_rule("handle_alerts")]
    ordering = ["name", "id"]
    ordering_fields = ["id", "name", "updated_at"]

    def get_queryset(self) -> QuerySet[KeywordScheme]:
        return of_own_unit(KeywordScheme.objects.prefetch_related("recipients"), self.request.user)


def _alert_action(name: str, service: Callable[..., Any], serializer: type[AlertActSerializer], summary: str) -> Any:
    def handler(self: "AlertViewSet", request: Request, pk: str | None = None) -> Response:
        alert = self.get_object()  # 404 for another unit's alert
        service(alert_id=alert.pk, actor=request.user, **expected_version(self.validated(serializer)))
        return self.respond(self.get_queryset().get(pk=alert.pk))

    handler.__name__ = name
    handler = idempotent(handler)
    handler = extend_schema(
        summary=summary, request=serializer, responses={200: AlertSerializer}, operation_id=f"alerts_{name}"
    )(handler)
    return action(detail=True, methods=["post"], url_path=name, url_name=name)(handler)


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """The unit's alerts, the most recent activity first."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    permission_classes = [*ServiceViewSet.permission_classes, unit_rule("handle_alerts")]
    ordering = ["-last_matched_at", "-id"]
    ordering_fields = ["id", "last_matched_at", "first_matched_at", "raised_at", "post_count"]

    def get_queryset(self) -> QuerySet[Alert]:
        return of_own_unit(Alert.objects.select_related("scheme"), self.request.user)

    acknowledge = _alert_action("acknowledge", alert_acknowledge, AlertActSerializer, "确认 (open alerts)")
    dismiss = _alert_action("dismiss", alert_dismiss, AlertDismissSerializer, "排除, with the reason")
    convert = _alert_action(
        "convert",
        alert_convert,
        AlertActSerializer,
        "登记为舆情: an incident in 监测 with the alert's posts (its id in `incident`)",
    )
