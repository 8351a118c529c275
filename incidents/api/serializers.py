"""API representations of the incident domain. Output serializers read; input serializers only
validate shapes and types — the rules live in incidents.services, which the views call."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents import policies
from incidents.api.fields import UnitScopedPrimaryKeyField, UnitUserField, VisibleIncidentField
from incidents.models import (
    Assessment,
    Classification,
    Deadline,
    DeadlineRule,
    EmergencyPlan,
    EscalationRung,
    HandlingCategory,
    Incident,
    IncidentType,
    Measure,
    Platform,
    Report,
    Review,
    State,
    Statement,
    StatementVersion,
    Task,
    TimelineEntry,
    WarningLevel,
    WarningNotice,
    WarningNoticeGroup,
)
from incidents.selectors import frozen_plan_parts
from opinion_ops.api.base import StrictSerializer
from opinion_ops.api.parsers import ApiDateTimeField
from organizations.models import ResponseGroup

TEXT_MAX = 20_000


def level_field(**kwargs: Any) -> UnitScopedPrimaryKeyField:
    return UnitScopedPrimaryKeyField(model=WarningLevel, unit_lookup="plan__organization_id", **kwargs)


def category_field(**kwargs: Any) -> UnitScopedPrimaryKeyField:
    return UnitScopedPrimaryKeyField(model=HandlingCategory, unit_lookup="plan__organization_id", **kwargs)


def type_field(**kwargs: Any) -> UnitScopedPrimaryKeyField:
    return UnitScopedPrimaryKeyField(model=IncidentType, unit_lookup="plan__organization_id", **kwargs)


def group_field(**kwargs: Any) -> UnitScopedPrimaryKeyField:
    return UnitScopedPrimaryKeyField(model=ResponseGroup, unit_lookup="organization_id", **kwargs)


def text(max_length: int = TEXT_MAX, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, **kwargs)


def version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, min_value=1, max_value=2_147_483_647, help_text="Expected version (optimistic locking)."
    )


# --- incidents
class IncidentListSerializer(serializers.ListSerializer):  # type: ignore[type-arg]
    """Looks up a page's groups in one small query and its levels and categories from the frozen
    plan parts, instead of joining and instantiating them row by row (the list's main cost)."""

    def to_representation(self, data: Any) -> list[Any]:
        incidents = list(data.all() if hasattr(data, "all") else data)
        ids = [incident.pk for incident in incidents]
        groups: dict[int, list[int]] = {pk: [] for pk in ids}
        rows = Incident.assigned_groups.through.objects.filter(incident_id__in=ids).order_by("responsegroup_id")
        for incident_id, group_id in rows.values_list("incident_id", "responsegroup_id"):
            groups[incident_id].append(group_id)
        self.child.context["_lookups"] = {  # type: ignore[union-attr]
            "levels": frozen_plan_parts(WarningLevel, {i.level_id for i in incidents if i.level_id}),
            "categories": frozen_plan_parts(HandlingCategory, {i.category_id for i in incidents if i.category_id}),
            "types": frozen_plan_parts(IncidentType, {i.incident_type_id for i in incidents if i.incident_type_id}),  # type: ignore[arg-type]
            "groups": groups,
        }
        return super().to_representation(incidents)


class IncidentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    level_name = serializers.SerializerMethodField()
    level_rank = serializers.SerializerMethodField()
    category_code = serializers.SerializerMethodField()
    incident_type_name = serializers.SerializerMethodField(help_text="舆情类型, as the incident's plan names it.")
    assigned_groups = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        list_serializer_class = IncidentListSerializer
        fields = [
            "id",
            "reference",
            "organization",
            "plan",
            "title",
            "description",
            "source_links",
            "platform",
            "state",
            "level",
            "level_name",
            "level_rank",
            "category",
            "category_code",
            "incident_type",
            "incident_type_name",
            "reporter",
            "is_drill",
            "discovered_at",
            "logged_at",
            "logged_late",
            "warning_issued_at",
            "escalated_at",
            "closed_at",
            "dismissal_reason",
            "merged_into",
            "assigned_groups",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    def _level(self, incident: Incident) -> WarningLevel | None:
        lookups = self.context.get("_lookups")
        if lookups is None:
            return incident.level
        return lookups["levels"].get(incident.level_id)  # type: ignore[no-any-return]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_level_name(self, incident: Incident) -> str | None:
        level = self._level(incident)
        return level.name if level else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_level_rank(self, incident: Incident) -> int | None:
        level = self._level(incident)
        return level.rank if level else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_category_code(self, incident: Incident) -> str | None:
        lookups = self.context.get("_lookups")
        category = lookups["categories"].get(incident.category_id) if lookups else incident.category
        return category.code if category else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_incident_type_name(self, incident: Incident) -> str | None:
        lookups = self.context.get("_lookups")
        kind = lookups["types"].get(incident.incident_type_id) if lookups else incident.incident_type
        return kind.name if kind else None

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_assigned_groups(self, incident: Incident) -> list[int]:
        lookups = self.context.get("_lookups")
        if lookups is not None:
            return lookups["groups"].get(incident.pk, [])  # type: ignore[no-any-return]
        return sorted(group.pk for group in incident.assigned_groups.all())


class WarningNoticeGroupSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    group_name = serializers.CharField(source="group.name", read_only=True)

    class Meta:
        model = WarningNoticeGroup
        fields = ["group", "group_name", "requirement"]
        read_only_fields = fields


class WarningNoticeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A warning notice (预警通知) as issued: level, text, the groups that must act and what each must do."""

    level_name = serializers.CharField(source="level.name", read_only=True)
    groups = WarningNoticeGroupSerializer(source="assignments", many=True, read_only=True)

    class Meta:
        model = WarningNotice
        fields = ["id", "kind", "level", "level_name", "text", "groups", "issued_by", "issued_at"]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    warning_notices = WarningNoticeSerializer(
        many=True, read_only=True, help_text="The warning notices issued on the incident, oldest first."
    )
    available_actions = serializers.SerializerMethodField(
        help_text="What you may do to this incident now (incidents.policies; the page shows the same buttons)."
    )
    available_transitions = serializers.SerializerMethodField(
        help_text="The lifecycle steps among available_actions, as the names of their endpoints."
    )

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "warning_notices", "available_actions", "available_transitions"]
        read_only_fields = fields

    def _actions(self, incident: Incident) -> list[str]:
        if not hasattr(self, "_actions_cache"):
            request = self.context.get("request")
            self._actions_cache = policies.available_actions(request.user, incident) if request else []
        return self._actions_cache

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(policies.INCIDENT_ACTIONS))))
    def get_available_actions(self, incident: Incident) -> list[str]:
        return self._actions(incident)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_transitions(self, incident: Incident) -> list[str]:
        transitions = {name for name, rule in policies.RULES.items() if rule.transition}
        return sorted(name.replace("_", "-") for name in self._actions(incident) if name in transitions)


class IncidentCreateSerializer(StrictSerializer):
    title = text(200)
    discovered_at = ApiDateTimeField()
    description = text(required=False, allow_blank=True, default="")
    source_links = text(required=False, allow_blank=True, default="")
    platform = serializers.ChoiceField(choices=Platform.choices, required=False, default=Platform.OTHER)
    incident_type = type_field(required=False, allow_null=True, default=None)
    category = category_field(required=False, allow_null=True, default=None)
    is_drill = serializers.BooleanField(required=False, default=False)
    logged_late = serializers.BooleanField(
        required=False,
        default=False,
        help_text="后补登记: clocks already past due are recorded as missed without paging anyone.",
    )


class IncidentUpdateSerializer(StrictSerializer):
    title = text(200, required=False)
    discovered_at = ApiDateTimeField(required=False)
    description = text(required=False, allow_blank=True)
    source_links = text(required=False, allow_blank=True)
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    incident_type = type_field(required=False, allow_null=True)
    category = category_field(required=False, allow_null=True)
    is_drill = serializers.BooleanField(required=False)
    reason = text(500, required=False, allow_blank=True, help_text="Why the discovery time changes (required then).")
    version = version_field()


class TransitionSerializer(StrictSerializer):
    version = version_field()


class LevelTransitionSerializer(TransitionSerializer):
    level = level_field()


class WarningAssignmentSerializer(StrictSerializer):
    group = group_field()
    requirement = text(1000, required=False, allow_blank=True, default="")


def notice_groups_field(help_text: str) -> WarningAssignmentSerializer:
    return WarningAssignmentSerializer(many=True, required=False, max_length=50, help_text=help_text)  # type: ignore[call-arg]


class WarningTransitionSerializer(LevelTransitionSerializer):
    """研判 → 预警: the level and the warning notice (预警通知)."""

    text = text(5000, required=False, allow_blank=True, default="", help_text="预警内容: the notice's text.")
    groups = notice_groups_field(
        "The working groups that must act, each with what is required of it: they are assigned to the incident "
        "and told through their channels. Omitted: the groups already assigned."
    )

    def validate_groups(self, value: list[dict[str, Any]]) -> list[tuple[ResponseGroup, str]]:
        return [(item["group"], item["requirement"]) for item in value]


class ReasonTransitionSerializer(TransitionSerializer):
    reason = text(2000)


class ChangeLevelSerializer(TransitionSerializer):
    level = level_field()
    reason = text(2000)
    text = text(5000, required=False, allow_blank=True, default="", help_text="A warning notice's text (optional).")
    groups = notice_groups_field(
        "With a text or groups the change is sent as a warning notice: to these groups, each with what is "
        "required of it (omitted: the groups already assigned)."
    )

    def validate_groups(self, value: list[dict[str, Any]]) -> list[tuple[ResponseGroup, str]]:
        return [(item["group"], item["requirement"]) for item in value]


class ClockResolutionSerializer(StrictSerializer):
    deadline = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    resolution = serializers.ChoiceField(choices=[("waive", "waive"), ("not_applicable", "not_applicable")])
    reason = text(2000)


class StartReviewSerializer(TransitionSerializer):
    clocks = ClockResolutionSerializer(
        many=True,
        required=False,
        default=list,
        help_text="Each clock still counting, settled by a leader in the same step: waived or not applicable.",
    )

    def validate_clocks(self, value: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
        return {item["deadline"]: {"resolution": item["resolution"], "reason": item["reason"]} for item in value}


class EscalateSerializer(TransitionSerializer):
    note = text(2000, required=False, allow_blank=True, default="")


class AssignGroupsSerializer(TransitionSerializer):
    groups = serializers.ListField(child=group_field(), max_length=50, allow_empty=True)


class TimelineEntrySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    details = serializers.JSONField(read_only=True)
    # Blank when the entry is not a state change (an edit, a report …).
    from_state = serializers.ChoiceField(choices=State.choices, allow_blank=True, read_only=True)
    to_state = serializers.ChoiceField(choices=State.choices, allow_blank=True, read_only=True)

    class Meta:
        model = TimelineEntry
        fields = ["id", "incident", "kind", "actor", "recorded_at", "occurred_at", "from_state", "to_state", "summary"]
        # The hash chain (incidents.models.chain): a client can keep and re-check the record.
        fields = [*fields, "details", "seq", "prev_hash", "hash"]
        read_only_fields = fields


# --- records
class AssessmentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Assessment
        fields = [
            "id",
            "incident",
            "author",
            "nature",
            "scope",
            "trend",
            "risk",
            "proposed_level",
            "proposed_category",
            "recommendation",
            "created_at",
        ]
        read_only_fields = fields


class AssessmentCreateSerializer(StrictSerializer):
    incident = VisibleIncidentField()
    nature = text()
    scope = text()
    trend = serializers.ChoiceField(choices=Assessment.Trend.choices)
    risk = serializers.ChoiceField(choices=Assessment.Risk.choices)
    proposed_level = level_field(required=False, allow_null=True, default=None)
    proposed_category = category_field(required=False, allow_null=True, default=None)
    recommendation = text(required=False, allow_blank=True, default="")


class ReviewSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Review
        fields = [
            "id",
            "incident",
            "author",
            "summary",
            "evaluation",
            "lessons",
            "plan_suggestions",
            "accountability",
            "created_at",
        ]
        read_only_fields = fields


class ReviewCreateSerializer(StrictSerializer):
    incident = VisibleIncidentField()
    summary = text()
    evaluation = text()
    lessons = text(required=False, allow_blank=True, default="")
    plan_suggestions = text(required=False, allow_blank=True, default="")
    accountability = text(required=False, allow_blank=True, default="")


class TaskSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Task
        fields = [
            "id",
            "incident",
            "title",
            "description",
            "assignee_group",
            "assignee",
            "due_at",
            "status",
            "result",
            "created_by",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class TaskCreateSerializer(StrictSerializer):
    incident = VisibleIncidentField()
    title = text(200)
    description = text(required=False, allow_blank=True, default="")
    assignee_group = group_field(required=False, allow_null=True, default=None)
    assignee = UnitUserField(required=False, allow_null=True, default=None)
    due_at = ApiDateTimeField(required=False, allow_null=True, default=None)


class TaskCompleteSerializer(StrictSerializer):
    result = text()


class MeasureSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    url = serializers.CharField(read_only=True, help_text="http(s) link, or empty")

    class Meta:
        model = Measure
        fields = [
            "id",
            "incident",
            "kind",
            "description",
            "target",
            "url",
            "taken_at",
            "outcome",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class MeasureCreateSerializer(StrictSerializer):
    incident = VisibleIncidentField()
    kind = serializers.ChoiceField(choices=Measure.Kind.choices)
    description = text()
    taken_at = ApiDateTimeField()
    target = text(200, required=False, allow_blank=True, default="")
    url = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="", help_text="http(s) link")
    outcome = text(required=False, allow_blank=True, default="")


class ReportSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Report
        fields = [
            "id",
            "incident",
            "kind",
            "reported_by",
            "reported_to",
            "to_superior",
            "occurred_at",
            "recorded_at",
            "summary",
            "cause",
            "facts",
            "measures_taken",
            "copy_number",
            "classification",
            "signed_off_by",
            "signed_off_at",
            "sign_off_comment",
            "received_by",
            "received_at",
        ]
        read_only_fields = fields


class ReportSignOffSerializer(StrictSerializer):
    comment = text(5000, required=False, allow_blank=True, default="", help_text="领导批示 (optional).")


class ReportCreateSerializer(StrictSerializer):
    incident = VisibleIncidentField()
    kind = serializers.ChoiceField(choices=Report.Kind.choices)
    reported_to = text(200)
    occurred_at = ApiDateTimeField()
    summary = text()
    cause = text(required=False, allow_blank=True, default="")
    facts = text(required=False, allow_blank=True, default="")
    measures_taken = text(required=False, allow_blank=True, default="")
    to_superior = serializers.BooleanField(required=False, default=False)
    copy_number = text(6, required=False, allow_blank=True, default="")
    classification = serializers.ChoiceField(
        choices=Classification.choices, required=False, allow_blank=True, default=""
    )


class StatementVersionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = StatementVersion
        fields = [
            "number",
            "text",
            "author",
            "created_at",
            "legal_decision",
            "legal_reviewed_by",
            "legal_reviewed_at",
            "legal_comment",
            "decision",
            "decided_by",
            "decided_at",
            "decision_comment",
        ]
        read_only_fields = fields


class StatementSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    versions = StatementVersionSerializer(many=True, read_only=True)
    published_url = serializers.CharField(read_only=True, help_text="http(s) link, or empty")

    class Meta:
        model = Statement
        fields = [
            "id",
            "incident",
            "kind",
            "title",
            "status",
            "created_by",
            "created_at",
            "published_channel",
            "published_url",
            "published_at",
            "published_by",
            "version",
            "versions",
        ]
        read_only_fields = fields


class StatementCreateSerializer(StrictSerializer):
    incident = VisibleIncidentField()
    title = text(200)
    text = text()
    kind = serializers.ChoiceField(choices=Statement.Kind.choices, required=False, default=Statement.Kind.RESPONSE)


class StatementReviseSerializer(TransitionSerializer):
    text = text()


class StatementApproveSerializer(TransitionSerializer):
    comment = text(2000, required=False, allow_blank=True, default="")


class StatementRejectSerializer(TransitionSerializer):
    comment = text(2000)


class StatementLegalApproveSerializer(TransitionSerializer):
    comment = text(2000, required=False, allow_blank=True, default="")


class StatementLegalRejectSerializer(TransitionSerializer):
    comment = text(2000)


class StatementPublishSerializer(TransitionSerializer):
    channel = text(200)
    url = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="", help_text="http(s) link")
    published_at = ApiDateTimeField(required=False, allow_null=True, default=None)


class DeadlineSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    status = serializers.ChoiceField(choices=Deadline.Status.choices, read_only=True)
    escalation_rung = serializers.ChoiceField(
        choices=EscalationRung.choices, allow_blank=True, read_only=True, help_text="The last rung of the chain told."
    )

    class Meta:
        model = Deadline
        fields = [
            "id",
            "incident",
            "rule",
            "kind",
            "name",
            "due_at",
            "status",
            "owner_group",
            "owner",
            "met_at",
            "met_recorded_at",
            "met_by_report",
            "met_by_statement",
            "missed_at",
            "late_logged",
            "escalation_step",
            "escalation_rung",
            "last_escalated_at",
            "next_action_at",
            "acknowledged_by",
            "acknowledged_at",
            "decided_by",
            "decided_at",
            "decision_reason",
            "created_at",
        ]
        read_only_fields = fields


class DeadlineWaiveSerializer(StrictSerializer):
    reason = text(2000)


class ResponseGroupSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = ResponseGroup
        fields = ["id", "organization", "kind", "name", "duties", "members"]
        read_only_fields = fields


# --- plans
@extend_schema_field({"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "example": "17:30"})
class ClockTimeField(serializers.TimeField):
    """A local wall-clock time (HH:MM): not an RFC 3339 time, which would need an offset."""


class WarningLevelSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = WarningLevel
        fields = ["id", "rank", "name", "color", "criteria", "response_tier", "requires_leader"]
        read_only_fields = fields


class HandlingCategorySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = HandlingCategory
        fields = ["id", "code", "name", "measures", "order"]
        read_only_fields = fields


class IncidentTypeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = IncidentType
        fields = ["id", "name", "order"]
        read_only_fields = fields


class DeadlineRuleSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    reminder_minutes = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = DeadlineRule
        fields = [
            "id",
            "name",
            "kind",
            "anchor",
            "offset_minutes",
            "same_day",
            "levels",
            "categories",
            "owner_group_kind",
            "reminder_minutes",
            "escalation_interval_minutes",
            "order",
        ]
        read_only_fields = fields


class EmergencyPlanSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    levels = WarningLevelSerializer(many=True, read_only=True)
    categories = HandlingCategorySerializer(many=True, read_only=True)
    incident_types = IncidentTypeSerializer(many=True, read_only=True)
    deadline_rules = DeadlineRuleSerializer(many=True, read_only=True)
    workday_end = ClockTimeField(read_only=True, format="%H:%M")
    escalation_chain = serializers.ListField(
        child=serializers.ChoiceField(choices=EscalationRung.choices),
        read_only=True,
        help_text="The rungs a missed clock climbs, one escalation interval apart, each once.",
    )

    class Meta:
        model = EmergencyPlan
        fields = [
            "id",
            "organization",
            "version",
            "title",
            "status",
            "summary",
            "same_day_cutoff",
            "workday_end",
            "escalation_chain",
            "four_eyes",
            "legal_review",
            "drill_interval_months",
            "based_on",
            "change_note",
            "created_by",
            "created_at",
            "activated_at",
            "levels",
            "categories",
            "incident_types",
            "deadline_rules",
        ]
        read_only_fields = fields


class PlanRevisionSerializer(StrictSerializer):
    change_note = text(2000, required=False, allow_blank=True, default="")


class EmptySerializer(StrictSerializer):
    """Actions that take no input still refuse unknown fields."""
