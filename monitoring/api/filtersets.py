import django_filters

from incidents.filtersets import IdFilter
from monitoring.models import Mention


class MentionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="search")
    incident = IdFilter(field_name="incident_id")
    unattached = django_filters.BooleanFilter(field_name="incident", lookup_expr="isnull")
    captured_after = django_filters.IsoDateTimeFilter(field_name="captured_at", lookup_expr="gte")
    captured_before = django_filters.IsoDateTimeFilter(field_name="captured_at", lookup_expr="lt")

    class Meta:
        model = Mention
        fields = ["platform"]
