from incidents.models.approval import Approval
from incidents.models.discussion import Comment, IncidentLink
from incidents.models.incident import (
    LEVEL_CHANGE_STATES,
    OPEN_STATES,
    Incident,
    IncidentNumber,
    Platform,
    State,
    TimelineEntry,
)
from incidents.models.notices import WarningNotice, WarningNoticeGroup
from incidents.models.plan import (
    DeadlineRule,
    EmergencyPlan,
    EscalationRung,
    HandlingCategory,
    IncidentType,
    WarningLevel,
)
from incidents.models.records import (
    Assessment,
    Classification,
    Deadline,
    DeadlineSignal,
    Measure,
    Report,
    ReportAttachment,
    Review,
    Statement,
    StatementVersion,
    Task,
)
from incidents.models.statistics import UnitStatistics

__all__ = [
    "LEVEL_CHANGE_STATES",
    "OPEN_STATES",
    "Approval",
    "Assessment",
    "Classification",
    "Comment",
    "Deadline",
    "DeadlineRule",
    "DeadlineSignal",
    "EmergencyPlan",
    "EscalationRung",
    "HandlingCategory",
    "Incident",
    "IncidentLink",
    "IncidentNumber",
    "IncidentType",
    "Measure",
    "Platform",
    "Report",
    "ReportAttachment",
    "Review",
    "State",
    "Statement",
    "StatementVersion",
    "Task",
    "TimelineEntry",
    "UnitStatistics",
    "WarningLevel",
    "WarningNotice",
    "WarningNoticeGroup",
]
