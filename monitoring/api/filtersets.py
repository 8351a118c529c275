import django_filters
from django.db.models import QuerySet

from incidents.filtersets import IdFilter
from monitoring.models import Alert, KeywordScheme, Mention


class MentionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="search")
    incident = IdFilter(field_name="incident_id")
    unattached = django_filters.BooleanFilter(field_name="incident", lookup_expr="isnull")
    captured_after = django_filters.IsoDateTimeFilter(field_name="captured_at", lookup_expr="gte")
    captured_before = django_filters.IsoDateTimeFilter(field_name="captured_at", lookup_expr="lt")

    class Meta:
        model = Mention
        fields = ["platform"]


class AlertFilterSet(django_filters.FilterSet):
    """One FilterSet for the alerts page and the API."""

    status = django_filters.MultipleChoiceFilter(choices=Alert.Status.choices)
    severity = django_filters.MultipleChoiceFilter(choices=KeywordScheme.Severity.choices)
    scheme = IdFilter(field_name="scheme_id")
    active = django_filters.BooleanFilter(method="filter_active", label="open or acknowledged")

    class Meta:
        model = Alert
        fields = ["status", "severity", "scheme", "active"]

    def filter_active(self, queryset: QuerySet[Alert], name: str, value: bool | None) -> QuerySet[Alert]:
        if value is None:
            return queryset
        return queryset.filter(status__in=Alert.ACTIVE) if value else queryset.exclude(status__in=Alert.ACTIVE)


class SchemeFilterSet(django_filters.FilterSet):
    enabled = django_filters.BooleanFilter()
    severity = django_filters.ChoiceFilter(choices=KeywordScheme.Severity.choices)

    class Meta:
        model = KeywordScheme
        fields = ["enabled", "severity"]
