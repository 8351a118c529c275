import django_filters

from evidence.models import Evidence
from incidents.filtersets import IdFilter


class EvidenceFilterSet(django_filters.FilterSet):
    incident = IdFilter(field_name="incident_id")
    report = IdFilter(field_name="report_id")
    mention = IdFilter(field_name="mention_id")
    withdrawn = django_filters.BooleanFilter(field_name="withdrawal", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Evidence
        fields = ["kind"]
