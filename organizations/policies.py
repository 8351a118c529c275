"""Who may configure a unit (单位设置): one rule per action, as incidents.policies does for incidents.

Every page, API endpoint and service that changes a unit's set-up asks `unit_require(action, …)`
for the actor's own unit; nothing here ever grants anything in another unit. Superusers are the
platform's operators and pass every rule (they also reach the Django admin, which is theirs alone).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opinion_ops.errors import NotPermitted
from organizations.roles import Role, user_has_role, user_is_unit_admin, user_organization_id


@dataclass(frozen=True)
class UnitRule:
    action: str
    what: Promise
    forbidden: Promise
    who: Callable[[Any, int], bool]


def is_unit_admin(actor: Any, organization_id: int) -> bool:
    """An active administrator of this very unit (or an operator)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    return user_organization_id(actor) == organization_id and user_is_unit_admin(actor)


def _admin_or_leader(actor: Any, organization_id: int) -> bool:
    return is_unit_admin(actor, organization_id) or user_has_role(actor, organization_id, Role.LEADER)


def _admin_leader_or_monitor(actor: Any, organization_id: int) -> bool:
    return is_unit_admin(actor, organization_id) or user_has_role(actor, organization_id, Role.LEADER, Role.MONITOR)


def _assessors(actor: Any, organization_id: int) -> bool:
    """The people who judge posts: 舆情监测组, 研判组, 领导小组 and its office (and the unit's admin)."""
    return is_unit_admin(actor, organization_id) or user_has_role(
        actor, organization_id, Role.MONITOR, Role.ANALYST, Role.LEADER, Role.OFFICE
    )


def _member_or_admin(actor: Any, organization_id: int) -> bool:
    """A member of one of the unit's groups, or its administrator (who may issue what they read)."""
    return is_unit_admin(actor, organization_id) or _member_with_a_role(actor, organization_id)


def _member_with_a_role(actor: Any, organization_id: int) -> bool:
    """Anyone in one of the unit's groups (应急工作组成员)."""
    return user_has_role(actor, organization_id, *Role)


UNIT_RULES: dict[str, UnitRule] = {
    rule.action: rule
    for rule in [
        UnitRule("manage_members", _("管理人员"), _("只有本单位管理员可以管理人员。"), is_unit_admin),
        UnitRule("manage_groups", _("管理工作组"), _("只有本单位管理员可以管理工作组。"), is_unit_admin),
        UnitRule("manage_plans", _("管理应急预案"), _("只有本单位管理员可以管理应急预案。"), is_unit_admin),
        UnitRule("manage_tokens", _("管理接口令牌"), _("只有本单位管理员可以管理接口令牌。"), is_unit_admin),
        UnitRule("manage_webhooks", _("管理系统对接"), _("只有本单位管理员可以管理系统对接 Webhook。"), is_unit_admin),
        UnitRule(
            "manage_monitoring",
            _("管理监测（信息来源、监测方案、值班表）"),
            _("只有本单位管理员、领导小组和舆情监测组成员可以管理监测设置。"),
            _admin_leader_or_monitor,
        ),
        UnitRule(
            "handle_alerts",
            _("处理监测预警、检索信息"),
            _("只有本单位应急工作组成员可以处理监测预警和检索信息。"),
            _member_with_a_role,
        ),
        UnitRule(
            "read_monitoring_reports",
            _("查看舆情日报、周报、月报和专报"),
            _("只有本单位应急工作组成员和单位管理员可以查看舆情报告。"),
            _member_or_admin,
        ),
        UnitRule(
            "issue_monitoring_reports",
            _("生成舆情报告、设置定期报送"),
            _("只有本单位管理员、舆情监测组、研判组、领导小组及其办公室成员可以生成舆情报告和设置定期报送。"),
            _assessors,
        ),
        UnitRule(
            "read_audit",
            _("查看配置审计记录"),
            _("只有本单位管理员和领导小组成员可以查看配置审计记录。"),
            _admin_or_leader,
        ),
    ]
}


def unit_allows(action: str, actor: Any, organization_id: int | None) -> bool:
    return organization_id is not None and UNIT_RULES[action].who(actor, organization_id)


def unit_require(action: str, actor: Any, organization_id: int | None) -> None:
    """Raise NotPermitted (403) unless `actor` may take `action` in that unit."""
    if not unit_allows(action, actor, organization_id):
        raise NotPermitted(UNIT_RULES[action].forbidden)
