"""One FilterSet for incidents, shared by the HTML list, the Excel 台账 export, the superior unit's
page and the API. It only narrows what the caller may already see (incidents_visible_to)."""

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Deadline, Incident, Platform, State
from incidents.selectors import incidents_mine
from organizations.roles import user_organization_id

MAX_ID = 2**63 - 1  # bigint: a larger number in a URL must be a clear error, not a database fault
# A day filter turns into an aware datetime: years Python or the database cannot shift are refused.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)


class IdFilter(django_filters.NumberFilter):
    """A whole-number filter (ids, ranks) bounded to what the database can store."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IncidentFilterForm(forms.Form):
    """The filters' form: a date range must run forwards and stay within years we can store."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("discovered_from", "discovered_to"):
            day = data.get(name)
            if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
                self.add_error(name, _("请填写 1900 年至 2999 年之间的日期。"))
        start, end = data.get("discovered_from"), data.get("discovered_to")
        if start and end and end < start and not self.has_error("discovered_to"):
            self.add_error("discovered_to", _("结束日期不能早于开始日期。"))
        return data


def _day_start(day: date) -> datetime:
    """Midnight at the start of `day` where the unit works (Asia/Shanghai)."""
    return timezone.make_aware(datetime.combine(day, time.min))


class IncidentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="filter_search")
    # A column of the incident, no join: no row can come twice, so no DISTINCT (it would sort the whole result).
    state = django_filters.MultipleChoiceFilter(label=_("状态"), choices=State.choices, distinct=False)
    level = IdFilter(label=_("预警级别"), field_name="level_id")
    level_rank = IdFilter(label=_("级别序号"), field_name="level__rank")
    category = IdFilter(label=_("处置类别"), field_name="category_id")
    category_code = django_filters.CharFilter(label=_("处置类别代码"), field_name="category__code")
    incident_type = IdFilter(label=_("舆情类型"), field_name="incident_type_id")
    # By name: a type keeps its name across plan versions, its id does not.
    incident_type_name = django_filters.CharFilter(label=_("舆情类型名称"), field_name="incident_type__name")
    group = IdFilter(label=_("承办工作组"), field_name="assigned_groups", distinct=True)
    unit = IdFilter(label=_("单位"), field_name="organization_id")
    platform = django_filters.ChoiceFilter(label=_("平台"), choices=Platform.choices)
    is_drill = django_filters.BooleanFilter(label=_("演练"))
    overdue = django_filters.BooleanFilter(label=_("有逾期时限"), method="filter_overdue")
    is_open = django_filters.BooleanFilter(label=_("未办结"), method="filter_open")
    mine = django_filters.BooleanFilter(label=_("与我有关"), method="filter_mine")
    # True: only what subordinate units reported up to the caller's unit; false: only the unit's own.
    subordinate = django_filters.BooleanFilter(label=_("下级单位上报"), method="filter_subordinate")
    discovered_after = django_filters.IsoDateTimeFilter(
        field_name="discovered_at", lookup_expr="gte", label=_("发现时间起")
    )
    discovered_before = django_filters.IsoDateTimeFilter(
        field_name="discovered_at", lookup_expr="lt", label=_("发现时间止")
    )
    # Whole days as the unit counts them (Asia/Shanghai), both days included: the list's date range.
    discovered_from = django_filters.DateFilter(label=_("发现日期起"), method="filter_from")
    discovered_to = django_filters.DateFilter(label=_("发现日期止"), method="filter_to")

    class Meta:
        model = Incident
        fields: list[str] = []
        form = IncidentFilterForm

    def filter_search(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )

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

    def filter_mine(self, queryset: QuerySet[Incident], name: str, value: bool | None) -> QuerySet[Incident]:
        if not value:
            return queryset
        return incidents_mine(queryset, getattr(self.request, "user", None))

    def filter_subordinate(self, queryset: QuerySet[Incident], name: str, value: bool | None) -> QuerySet[Incident]:
        if value is None:
            return queryset
        own = user_organization_id(getattr(self.request, "user", None))
        if own is None:
            return queryset.none()
        return queryset.exclude(organization_id=own) if value else queryset.filter(organization_id=own)

    def filter_from(self, queryset: QuerySet[Incident], name: str, value: date | None) -> QuerySet[Incident]:
        return queryset.filter(discovered_at__gte=_day_start(value)) if value else queryset

    def filter_to(self, queryset: QuerySet[Incident], name: str, value: date | None) -> QuerySet[Incident]:
        return queryset.filter(discovered_at__lt=_day_start(value + timedelta(days=1))) if value else queryset
