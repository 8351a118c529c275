from incidents.models.incident import (
    LEVEL_CHANGE_STATES,
    OPEN_STATES,
    Incident,
    Platform,
    State,
    TimelineEntry,
)
from incidents.models.organization import GroupMember, Membership, Organization, ResponseGroup
from incidents.models.plan import DeadlineRule, EmergencyPlan, HandlingCategory, IncidentType, WarningLevel
from incidents.models.records import (
    Assessment,
    Deadline,
    Measure,
    Report,
    ReportAttachment,
    Review,
    Statement,
    StatementVersion,
    Task,
)

__all__ = [
    "LEVEL_CHANGE_STATES",
    "OPEN_STATES",
    "Assessment",
    "Deadline",
    "DeadlineRule",
    "EmergencyPlan",
    "GroupMember",
    "HandlingCategory",
    "Incident",
    "IncidentType",
    "Measure",
    "Membership",
    "Organization",
    "Platform",
    "Report",
    "ReportAttachment",
    "ResponseGroup",
    "Review",
    "State",
    "Statement",
    "StatementVersion",
    "Task",
    "TimelineEntry",
    "WarningLevel",
]
