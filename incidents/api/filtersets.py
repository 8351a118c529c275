"""Declared filters of the record endpoints (the incident list uses incidents.filtersets)."""

import django_filters

from incidents.filtersets import IdFilter
from incidents.models import Assessment, Deadline, Measure, Report, Review, Statement, Task


class IncidentRecordFilterSet(django_filters.FilterSet):
    incident = IdFilter(field_name="incident_id")


class AssessmentFilterSet(IncidentRecordFilterSet):
    class Meta:
        model = Assessment
        fields = ["risk", "trend"]


class ReviewFilterSet(IncidentRecordFilterSet):
    class Meta:
        model = Review
        fields: list[str] = []


class TaskFilterSet(IncidentRecordFilterSet):
    assignee = IdFilter(field_name="assignee_id")
    assignee_group = IdFilter(field_name="assignee_group_id")

    class Meta:
        model = Task
        fields = ["status"]


class MeasureFilterSet(IncidentRecordFilterSet):
    class Meta:
        model = Measure
        fields = ["kind"]


class ReportFilterSet(IncidentRecordFilterSet):
    received = django_filters.BooleanFilter(field_name="received_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Report
        fields = ["kind", "to_superior"]


class StatementFilterSet(IncidentRecordFilterSet):
    class Meta:
        model = Statement
        fields = ["status", "kind"]


class DeadlineFilterSet(IncidentRecordFilterSet):
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")

    class Meta:
        model = Deadline
        fields = ["status", "kind"]
