"""One rule per drill action: who of the unit may do it. Scenarios and drills belong to one unit;
nobody outside it sees them (the selectors return nothing, the pages 404).

Writing scenarios, scheduling and cancelling drills is for the leadership group (领导小组), who
also approve statements and decide on clocks (incidents.policies.LEADERS); every member of the
unit may read the scenarios, the drills and their reports.
"""

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from incidents.policies import LEADERS
from opinion_ops.errors import NotPermitted
from organizations.roles import Role, user_organization_id, user_roles


@dataclass(frozen=True)
class DrillRule:
    action: str
    forbidden: Promise
    roles: frozenset[Role] | None  # None: any member of the unit


DRILL_RULES: dict[str, DrillRule] = {
    rule.action: rule
    for rule in [
        DrillRule("view_drills", _("只有本单位人员可以查看应急演练。"), None),
        DrillRule("manage_scenarios", _("只有领导小组成员可以新建或修改演练脚本。"), LEADERS),
        DrillRule("schedule_drill", _("只有领导小组成员可以安排应急演练。"), LEADERS),
        DrillRule("cancel_drill", _("只有领导小组成员可以取消应急演练。"), LEADERS),
    ]
}


def drill_allows(action: str, user: Any, organization_id: int | None) -> bool:
    """Whether `user` may take `action` in the unit `organization_id` (their own unit only)."""
    rule = DRILL_RULES[action]
    if organization_id is None or user_organization_id(user) != organization_id:
        return False
    if rule.roles is None:
        return True
    return bool(user_roles(user, organization_id) & rule.roles)


def drill_require(action: str, user: Any, organization_id: int | None) -> None:
    if not drill_allows(action, user, organization_id):
        raise NotPermitted(DRILL_RULES[action].forbidden)
