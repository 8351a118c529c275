"""What an action on the incident page knows: the user, the incident and what the user holds in the
incident's unit, with the page's choices (levels, categories, groups, open clocks) read once."""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from incidents import policies
from incidents.models import Assessment, Deadline, HandlingCategory, Incident, WarningLevel
from incidents.selectors import unit_groups_of
from organizations.models import ResponseGroup
from organizations.roles import Role, user_roles


@dataclass
class ActionContext:
    """The user, the incident and what the user holds in the incident's unit."""

    request: HttpRequest
    incident: Incident
    roles: frozenset[Role] = field(default_factory=frozenset)
    # What the incident page has read already (its assigned groups, its clocks): the forms reuse it.
    assigned: list[ResponseGroup] | None = None
    clocks: list[Deadline] | None = None
    assessments: list[Assessment] | None = None

    @classmethod
    def build(cls, request: HttpRequest, incident: Incident, **loaded: Any) -> "ActionContext":
        return cls(
            request=request, incident=incident, roles=user_roles(request.user, incident.organization_id), **loaded
        )

    @property
    def user(self) -> Any:
        return self.request.user

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def may(self, rule: str, record: Any = None) -> bool:
        return policies.allows(rule, self.user, self.incident, record)

    @cached_property
    def levels(self) -> QuerySet[WarningLevel]:
        return WarningLevel.objects.filter(plan_id=self.incident.plan_id).order_by("rank")

    @cached_property
    def levels_i_may_set(self) -> QuerySet[WarningLevel]:
        """Levels a non-leader may not set are not offered (the service refuses them anyway)."""
        return self.levels if self.has(Role.LEADER) else self.levels.filter(requires_leader=False)

    @cached_property
    def categories(self) -> QuerySet[HandlingCategory]:
        return HandlingCategory.objects.filter(plan_id=self.incident.plan_id)

    @cached_property
    def latest_assessments(self) -> list[Assessment]:
        """The incident's assessments, oldest first (the last is the latest judgement)."""
        if self.assessments is not None:
            return self.assessments
        return list(self.incident.assessments.all())  # type: ignore[attr-defined]

    @cached_property
    def groups(self) -> QuerySet[ResponseGroup]:
        return unit_groups_of(self.incident.organization_id)

    @cached_property
    def assigned_group_ids(self) -> list[int]:
        groups = self.assigned if self.assigned is not None else self.incident.assigned_groups.all()
        return [group.pk for group in groups]

    @cached_property
    def open_clocks(self) -> list[Deadline]:
        if self.clocks is not None:  # read in the page's order (due_at, id); cancelled ones are never open
            return [clock for clock in self.clocks if clock.status in Deadline.OPEN]
        return list(self.incident.deadlines.filter(status__in=Deadline.OPEN).order_by("due_at", "id"))  # type: ignore[attr-defined]
