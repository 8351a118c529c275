"""Records on incidents (assessments, reviews, tasks, measures, reports, statements, deadlines),
response groups and plans. Reads are scoped to incidents the caller can see; writes call services."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api import filtersets as f
from incidents.api import serializers as s
from incidents.api.fields import of_own_unit
from incidents.models import Assessment, Deadline, EmergencyPlan, Measure, Report, Review, Statement, Task
from incidents.selectors import incidents_visible_to
from incidents.services import deadlines as deadline_services
from incidents.services import incidents as incident_services
from incidents.services import plans as plan_services
from incidents.services import records as record_services
from incidents.services import statements as statement_services
from incidents.services.deadline_clock import deadline_acknowledge
from opinion_ops.api.base import ServiceViewSet, expected_version, idempotent
from organizations.models import ResponseGroup
from organizations.permissions import unit_rule


class IncidentRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    model: Any
    ordering = ["-id"]
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Any]:
        return self.model.objects.filter(incident__in=incidents_visible_to(self.request.user).values("pk"))  # type: ignore[no-any-return]


def _create(viewset: IncidentRecordViewSet, serializer_class: Any, service: Any) -> Response:
    data = viewset.validated(serializer_class)
    incident = data.pop("incident")
    record = service(incident_id=incident.pk, actor=viewset.request.user, **data)
    return viewset.respond(viewset.get_queryset().get(pk=record.pk), status=status.HTTP_201_CREATED)


class AssessmentViewSet(IncidentRecordViewSet):
    model = Assessment
    serializer_class = s.AssessmentSerializer
    filterset_class = f.AssessmentFilterSet
    ordering_fields = ["id", "created_at"]

    @extend_schema(request=s.AssessmentCreateSerializer, responses={201: s.AssessmentSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        return _create(self, s.AssessmentCreateSerializer, incident_services.assessment_record)


class ReviewViewSet(IncidentRecordViewSet):
    model = Review
    serializer_class = s.ReviewSerializer
    filterset_class = f.ReviewFilterSet

    @extend_schema(request=s.ReviewCreateSerializer, responses={201: s.ReviewSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        return _create(self, s.ReviewCreateSerializer, incident_services.review_record)


class TaskViewSet(IncidentRecordViewSet):
    model = Task
    serializer_class = s.TaskSerializer
    filterset_class = f.TaskFilterSet
    ordering_fields = ["id", "due_at", "created_at"]

    @extend_schema(request=s.TaskCreateSerializer, responses={201: s.TaskSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        return _create(self, s.TaskCreateSerializer, record_services.task_create)

    @extend_schema(request=s.TaskCompleteSerializer, responses={200: s.TaskSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def complete(self, request: Request, pk: str | None = None) -> Response:
        task = self.get_object()
        record_services.task_complete(task_id=task.pk, actor=request.user, **self.validated(s.TaskCompleteSerializer))
        return self.respond(self.get_queryset().get(pk=task.pk))


class MeasureViewSet(IncidentRecordViewSet):
    model = Measure
    serializer_class = s.MeasureSerializer
    filterset_class = f.MeasureFilterSet
    ordering_fields = ["id", "taken_at"]

    @extend_schema(request=s.MeasureCreateSerializer, responses={201: s.MeasureSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        return _create(self, s.MeasureCreateSerializer, record_services.measure_record)


class ReportViewSet(IncidentRecordViewSet):
    model = Report
    serializer_class = s.ReportSerializer
    filterset_class = f.ReportFilterSet
    ordering_fields = ["id", "occurred_at"]

    @extend_schema(request=s.ReportCreateSerializer, responses={201: s.ReportSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        return _create(self, s.ReportCreateSerializer, record_services.report_record)

    @extend_schema(request=s.ReportSignOffSerializer, responses={200: s.ReportSerializer})
    @action(detail=True, methods=["post"], url_path="sign-off")
    @idempotent
    def sign_off(self, request: Request, pk: str | None = None) -> Response:
        """审阅签批 of a written report, with the leader's 批示 (`comment`, optional)."""
        report = self.get_object()
        data = self.validated(s.ReportSignOffSerializer)
        record_services.report_sign_off(report_id=report.pk, actor=request.user, comment=data["comment"])
        return self.respond(self.get_queryset().get(pk=report.pk))

    @extend_schema(request=None, responses={200: s.ReportSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """签收: the superior unit's leadership or its office confirms it received a report sent up."""
        report = self.get_object()
        self.validated(s.EmptySerializer)
        record_services.report_acknowledge(report_id=report.pk, actor=request.user)
        return self.respond(self.get_queryset().get(pk=report.pk))


def _statement_action(name: str, serializer: Any, call: Any, url_path: str | None = None) -> Any:
    def handler(self: "StatementViewSet", request: Request, pk: str | None = None) -> Response:
        statement = self.get_object()
        data = expected_version(self.validated(serializer))
        call(statement_id=statement.pk, actor=request.user, **data)
        return self.respond(self.get_queryset().get(pk=statement.pk))

    handler.__name__ = name
    handler = idempotent(handler)
    handler = extend_schema(request=serializer, responses={200: s.StatementSerializer})(handler)
    return action(detail=True, methods=["post"], url_path=url_path or name, url_name=url_path or name)(handler)


def _approve(**kwargs: Any) -> Statement:
    return statement_services.statement_decide(approve=True, **kwargs)


def _reject(**kwargs: Any) -> Statement:
    return statement_services.statement_decide(approve=False, **kwargs)


def _legal_approve(**kwargs: Any) -> Statement:
    return statement_services.statement_legal_review(approve=True, **kwargs)


def _legal_reject(**kwargs: Any) -> Statement:
    return statement_services.statement_legal_review(approve=False, **kwargs)


class StatementViewSet(IncidentRecordViewSet):
    """Public statements: draft → submit → (法律审核, where the plan asks for it) → a leader approves or
    rejects → publish (统一回复). The drafter may withdraw a submitted text nobody decided on."""

    model = Statement
    serializer_class = s.StatementSerializer
    filterset_class = f.StatementFilterSet
    ordering_fields = ["id", "created_at"]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().prefetch_related("versions")

    @extend_schema(request=s.StatementCreateSerializer, responses={201: s.StatementSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        return _create(self, s.StatementCreateSerializer, statement_services.statement_create)

    revise = _statement_action("revise", s.StatementReviseSerializer, statement_services.statement_revise)
    submit = _statement_action("submit", s.TransitionSerializer, statement_services.statement_submit)
    withdraw = _statement_action("withdraw", s.TransitionSerializer, statement_services.statement_withdraw)
    legal_approve = _statement_action(
        "legal_approve", s.StatementLegalApproveSerializer, _legal_approve, url_path="legal-approve"
    )
    legal_reject = _statement_action("legal_reject", s.StatementLegalRejectSerializer, _legal_reject, "legal-reject")
    approve = _statement_action("approve", s.StatementApproveSerializer, _approve)
    reject = _statement_action("reject", s.StatementRejectSerializer, _reject)
    publish = _statement_action("publish", s.StatementPublishSerializer, statement_services.statement_publish)


def _deadline_decision(name: str, rule: str, summary: str) -> Any:
    def handler(self: "DeadlineViewSet", request: Request, pk: str | None = None) -> Response:
        deadline = self.get_object()
        reason = self.validated(s.DeadlineWaiveSerializer)["reason"]
        deadline_services.deadline_decide(deadline_id=deadline.pk, actor=request.user, action=rule, reason=reason)
        return self.respond(self.get_queryset().get(pk=deadline.pk))

    handler.__name__ = name.replace("-", "_")
    handler = idempotent(handler)
    handler = extend_schema(summary=summary, request=s.DeadlineWaiveSerializer, responses={200: s.DeadlineSerializer})(
        handler
    )
    return action(detail=True, methods=["post"], url_path=name, url_name=name)(handler)


class DeadlineViewSet(IncidentRecordViewSet):
    """The plan's clocks on incidents. A leader decides on one with a reason (waive, not applicable,
    confirm on time); someone above the owner on the chain acknowledges a missed one."""

    model = Deadline
    serializer_class = s.DeadlineSerializer
    filterset_class = f.DeadlineFilterSet
    ordering = ["due_at", "id"]
    ordering_fields = ["id", "due_at"]

    waive = _deadline_decision("waive", "waive_deadline", "Waive an open clock (leader, with a reason)")
    close = _deadline_decision("close", "close_deadline", "Close an open clock as not applicable (leader)")
    confirm_on_time = _deadline_decision(
        "confirm-on-time", "confirm_deadline", "Confirm a clock closed late as met on time (leader, with a reason)"
    )

    @extend_schema(request=None, responses={200: s.DeadlineSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """确认并督办: someone above the owner on the chain takes charge of a missed clock."""
        deadline = self.get_object()
        self.validated(s.EmptySerializer)
        deadline_acknowledge(deadline_id=deadline.pk, actor=request.user)
        return self.respond(self.get_queryset().get(pk=deadline.pk))


class ResponseGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """The working groups of your unit (read-only here; maintained in the admin)."""

    serializer_class = s.ResponseGroupSerializer
    ordering = ["kind", "name", "id"]
    ordering_fields = ["id", "name", "kind"]
    filterset_fields = ["kind"]

    def get_queryset(self) -> QuerySet[ResponseGroup]:
        return of_own_unit(ResponseGroup.objects.prefetch_related("members"), self.request.user)


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """Your unit's plan versions; unit administrators copy a version into a draft and activate drafts."""

    serializer_class = s.EmergencyPlanSerializer
    permission_classes = [*ServiceViewSet.permission_classes, unit_rule("manage_plans", open_reads=True)]
    ordering = ["-version"]
    ordering_fields = ["version", "id"]
    filterset_fields = ["status"]

    def get_queryset(self) -> QuerySet[EmergencyPlan]:
        plans = EmergencyPlan.objects.prefetch_related(
            "levels", "categories", "incident_types", "deadline_rules__levels", "deadline_rules__categories"
        )
        return of_own_unit(plans, self.request.user)

    @extend_schema(request=s.PlanRevisionSerializer, responses={201: s.EmergencyPlanSerializer})
    @action(detail=True, methods=["post"], url_path="create-revision")
    @idempotent
    def create_revision(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        draft = plan_services.plan_create_revision(
            plan=plan, actor=request.user, **self.validated(s.PlanRevisionSerializer)
        )
        return self.respond(self.get_queryset().get(pk=draft.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.EmergencyPlanSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def activate(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        self.validated(s.EmptySerializer)
        plan_services.plan_activate(plan=plan, actor=request.user)
        return self.respond(self.get_queryset().get(pk=plan.pk))
