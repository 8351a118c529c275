"""Who may do what in 研判支持: one rule per action, always for the actor's own unit (superusers, the
platform's operators, pass every rule as in organizations.policies)."""

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opinion_ops.errors import NotPermitted
from organizations.policies import is_unit_admin
from organizations.roles import Role, user_has_role


@dataclass(frozen=True)
class AnalysisRule:
    action: str
    forbidden: Promise
    roles: tuple[Role, ...]  # any of them; the unit's administrators too


RULES: dict[str, AnalysisRule] = {
    rule.action: rule
    for rule in (
        # Clusters, scores and models of the unit: every member of a working group.
        AnalysisRule("read_analysis", _("只有本单位应急工作组成员可以查看研判信息。"), tuple(Role)),
        AnalysisRule(
            "label_posts",
            _("只有本单位舆情监测组、研判组和领导小组成员可以标注信息。"),
            (Role.MONITOR, Role.ANALYST, Role.LEADER),
        ),
        AnalysisRule(
            "manage_scorer",
            _("只有本单位管理员、舆情研判组和领导小组成员可以训练、回退风险模型和修改风险词。"),
            (Role.ANALYST, Role.LEADER),
        ),
    )
}


def analysis_allows(action: str, actor: Any, organization_id: int | None) -> bool:
    if organization_id is None or actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if is_unit_admin(actor, organization_id):  # the unit's administrators and the operators
        return True
    return user_has_role(actor, organization_id, *RULES[action].roles)


def analysis_require(action: str, actor: Any, organization_id: int | None) -> None:
    if not analysis_allows(action, actor, organization_id):
        raise NotPermitted(RULES[action].forbidden)
