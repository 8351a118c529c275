"""What the importer found in a plan's text: each item with the values it proposes and the span of
the sentence it came from (character offsets into the text as read, so the page can highlight it).

This is the contract between the extraction rules (`plan_import.extract`) and the rest of the app
(the stored import, the review page, the draft it becomes, `manage.py plan_import --json`)."""

from dataclasses import asdict, dataclass, field
from typing import Any

# The kinds of item, in the order the review page shows them.
GROUP = "group"  # values: name, role (organizations ResponseGroup.Kind value), duties
POSITION = "position"  # values: group (the group's name as found), title (组长/副组长/主任…),
#   position (GroupMember.Position value: head/deputy/member), holder (text as written, "" if blank)
LEVEL = "level"  # values: rank (1 = most severe), name, color (#rrggbb or ""), criteria, tier
#   (WarningLevel.Tier value or "" when the text does not say)
CLOCK = "clock"  # values: name, kind (DeadlineRule.Kind value), minutes (int or None), same_day (bool),
#   anchor (DeadlineRule.Anchor value), category (a HandlingCategory.Code value or "")
CATEGORY = "category"  # values: code (HandlingCategory.Code value), name, measures
INCIDENT_TYPE = "incident_type"  # values: name
CHAIN = "chain"  # values: rungs (list of EscalationRung values, owner first)
DRILL = "drill"  # values: months (int)
KINDS = (GROUP, POSITION, LEVEL, CLOCK, CATEGORY, INCIDENT_TYPE, CHAIN, DRILL)


@dataclass
class Finding:
    kind: str
    values: dict[str, Any]
    start: int  # the source sentence, as offsets into Extraction.text
    end: int
    note: str = ""  # why the rule read it this way, when that is not obvious (shown beside the item)


@dataclass
class Unmapped:
    """A section of the plan that gave no setting (listed on the review page, not dropped)."""

    title: str
    start: int
    end: int


@dataclass
class Extraction:
    text: str  # the plan's text as read (a .docx flattened to paragraphs, one per line)
    title: str  # the plan's title as the document states it, or ""
    summary: str  # 目的 / 适用范围 / 工作原则 as written, for the plan's 总则与适用范围
    findings: list[Finding] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind == kind]

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of_kind(kind)) for kind in KINDS}

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
