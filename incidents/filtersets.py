"""One FilterSet for incidents, shared by the HTML list and the API."""

from typing import Any

import django_filters
from django import forms
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Deadline, Incident, Platform, State

MAX_ID = 2**63 - 1  # bigint: a larger number in a URL must be a clear error, not a database fault


class IdFilter(django_filters.NumberFilter):
    """A whole-number filter (ids, ranks) bounded to what the database can store."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IncidentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="filter_search")
    state = django_filters.MultipleChoiceFilter(label=_("状态"), choices=State.choices)
    level = IdFilter(label=_("预警级别"), field_name="level_id")
    level_rank = IdFilter(label=_("级别序号"), field_name="level__rank")
    category = IdFilter(label=_("处置类别"), field_name="category_id")
    category_code = django_filters.CharFilter(label=_("处置类别代码"), field_name="category__code")
    group = IdFilter(label=_("承办工作组"), field_name="assigned_groups", distinct=True)
    platform = django_filters.ChoiceFilter(label=_("平台"), choices=Platform.choices)
    is_drill = django_filters.BooleanFilter(label=_("演练"))
    overdue = django_filters.BooleanFilter(label=_("有逾期时限"), method="filter_overdue")
    is_open = django_filters.BooleanFilter(label=_("未办结"), method="filter_open")
    discovered_after = django_filters.IsoDateTimeFilter(
        field_name="discovered_at", lookup_expr="gte", label=_("发现时间起")
    )
    discovered_before = django_filters.IsoDateTimeFilter(
        field_name="discovered_at", lookup_expr="lt", label=_("发现时间止")
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))

    def filter_overdue(self, queryset: QuerySet[Incident], name: str, value: bool | None) -> QuerySet[Incident]:
        if value is None:
            return queryset
        overdue = Deadline.objects.filter(
            incident=OuterRef("pk"),
            status__in=[Deadline.Status.PENDING, Deadline.Status.MISSED],
            due_at__lt=timezone.now(),
        )
        return queryset.filter(Exists(overdue)) if value else queryset.exclude(Exists(overdue))

    def filter_open(self, queryset: QuerySet[Incident], name: str, value: bool | None) -> QuerySet[Incident]:
        if value is None:
            return queryset
        closed = [State.ARCHIVED, State.DISMISSED]
        return queryset.exclude(state__in=closed) if value else queryset.filter(state__in=closed)


def incidents_by_urgency(queryset: QuerySet[Incident]) -> QuerySet[Incident]:
    """Open before closed, most severe level first, then the earliest open deadline, then newest."""
    closed = [State.ARCHIVED, State.DISMISSED]
    return queryset.annotate(
        _closed=Case(When(state__in=closed, then=Value(1)), default=Value(0), output_field=IntegerField()),
        _rank=Case(When(level__isnull=True, then=Value(99)), default="level__rank", output_field=IntegerField()),
    ).order_by("_closed", "_rank", "-discovered_at", "-id")
