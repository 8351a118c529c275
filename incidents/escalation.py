"""逐级报告: the rungs a missed clock climbs, who stands on each rung, and who may acknowledge.

The order of the rungs is part of the plan (EmergencyPlan.escalation_chain; by default owner →
group head → 领导小组 → the superior unit's 领导小组). People reached on an earlier rung are not
repeated on a later one. The superior unit's rung applies only to an incident that was reported
up to it (by a leader, with a report marked for it, or because the level's tier is the superior
unit): only then can the superior open the incident, so only then is it told.
"""

from dataclasses import dataclass, field
from typing import Any

from incidents.models import Deadline, EscalationRung
from incidents.models.plan import DEFAULT_ESCALATION_CHAIN
from organizations.models import GroupMember, ResponseGroup
from organizations.selectors import group_people, unit_group

HEADS = (GroupMember.Position.HEAD, GroupMember.Position.DEPUTY)


@dataclass(frozen=True)
class Rung:
    code: str
    users: tuple[Any, ...] = ()
    groups: tuple[ResponseGroup, ...] = ()

    @property
    def label(self) -> str:
        return str(EscalationRung(self.code).label)

    @property
    def empty(self) -> bool:
        return not self.users


@dataclass
class PeopleLookup:
    """Memoised group lookups, shared by the clocks one sweep handles (a fixed number of queries per
    distinct group, not per clock)."""

    members: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)
    groups: dict[tuple[Any, ...], ResponseGroup | None] = field(default_factory=dict)

    def people(self, group_id: int | None, *positions: str) -> list[Any]:
        key = (group_id, *positions)
        if key not in self.members:
            self.members[key] = group_people(group_id, *positions)
        return self.members[key]

    def group(self, organization_id: int | None, kind: str) -> ResponseGroup | None:
        key = (organization_id, kind)
        if key not in self.groups:
            self.groups[key] = unit_group(organization_id, kind)
        return self.groups[key]


def superior_applies(incident: Any) -> bool:
    """The superior unit is part of the chain only once the incident was reported up to it."""
    return incident.escalated_at is not None and incident.organization.parent_id is not None


def _raw_rung(code: str, deadline: Deadline, lookup: PeopleLookup) -> Rung:
    incident = deadline.incident
    group_id = deadline.owner_group_id
    if code == EscalationRung.OWNER:
        if deadline.owner_id:
            return Rung(code, (deadline.owner,), ())
        heads = lookup.people(group_id, *HEADS)
        members = [u for u in lookup.people(group_id) if u not in heads]
        groups = (deadline.owner_group,) if deadline.owner_group is not None else ()
        return Rung(code, tuple(members or heads), groups)
    if code == EscalationRung.GROUP_HEAD:
        return Rung(code, tuple(lookup.people(group_id, *HEADS)), ())
    if code in (EscalationRung.OFFICE, EscalationRung.LEADERSHIP):
        kind = ResponseGroup.Kind.OFFICE if code == EscalationRung.OFFICE else ResponseGroup.Kind.LEADERSHIP
        group = lookup.group(incident.organization_id, kind)
        return Rung(code, tuple(lookup.people(group.pk if group else None)), (group,) if group else ())
    if code == EscalationRung.SUPERIOR:
        if not superior_applies(incident):
            return Rung(code)
        group = lookup.group(incident.organization.parent_id, ResponseGroup.Kind.LEADERSHIP)
        return Rung(code, tuple(lookup.people(group.pk if group else None)), (group,) if group else ())
    return Rung(code)


class Ladder:
    """The chain of one clock as it stands now: each rung of the plan with the people on it."""

    def __init__(self, deadline: Deadline, lookup: PeopleLookup | None = None) -> None:
        lookup = lookup or PeopleLookup()
        chain = list(deadline.incident.plan.escalation_chain or DEFAULT_ESCALATION_CHAIN)
        self.rungs: list[Rung] = []
        seen_users: set[int] = set()
        seen_groups: set[int] = set()
        for code in chain:
            raw = _raw_rung(code, deadline, lookup)
            users = tuple(u for u in raw.users if u.pk not in seen_users)
            groups = tuple(g for g in raw.groups if g.pk not in seen_groups)
            seen_users.update(u.pk for u in users)
            seen_groups.update(g.pk for g in groups)
            self.rungs.append(Rung(code, users, groups))

    def position(self, code: str) -> int:
        codes = [rung.code for rung in self.rungs]
        return codes.index(code) if code in codes else -1

    def next_reachable(self, after: str = "") -> tuple[int, Rung] | None:
        """The first rung after `after` (from the start when blank) that has someone on it."""
        start = self.position(after) + 1 if after else 0
        for index in range(max(start, 0), len(self.rungs)):
            if not self.rungs[index].empty:
                return index, self.rungs[index]
        return None

    def is_above_owner(self, user: Any) -> bool:
        """On a rung after the owner's, and not an owner of the clock."""
        return any(user.pk in {u.pk for u in rung.users} for rung in self.rungs[1:])
