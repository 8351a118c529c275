"""One rule per action: who may do it, to what, in which state.

Every action a person can take on an incident, or on one of its records, has exactly one Rule
here. The service that performs the action calls `require()` inside its transaction; the incident
page calls `allows()` to decide which buttons to draw; the API lists `available_actions()`. The
three cannot disagree, and the permission tables in the tests are generated from RULES.

Roles count only in the incident's own unit (a superior unit reads escalated incidents, may
acknowledge a missed clock and 签收 a report sent up to it, nothing else). Refusal messages are
lazy translations: they are rendered in the language of whoever reads them, not of whoever raised
them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from accounts.stepup import second_factor_require
from incidents.models import Deadline, Incident, Report, Statement
from incidents.states import (
    ASSESSMENT_STATES,
    HANDLING_STATES,
    OPEN_STATES,
    STATEMENT_STATES,
)
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted
from organizations.models import GroupMember
from organizations.roles import Role, user_organization_id, user_roles

ANY_ROLE = frozenset(Role)
ASSESSORS = frozenset({Role.ANALYST, Role.LEADER, Role.OFFICE})
COORDINATORS = frozenset({Role.LEADER, Role.OFFICE})  # assign groups and tasks, write the review
RESPONDERS = frozenset({Role.LEADER, Role.HANDLER, Role.OFFICE})  # start the response and tracking
WATCHERS = frozenset({Role.MONITOR, Role.ANALYST, Role.HANDLER, Role.LEADER, Role.OFFICE})  # report a rebound
MEASURE_RECORDERS = frozenset({Role.HANDLER, Role.LEGAL, Role.SPOKESPERSON, Role.LEADER, Role.OFFICE})
LEADERS = frozenset({Role.LEADER})  # escalate, sign reports, decide on clocks and statements, archive
DRAFTERS = frozenset({Role.SPOKESPERSON, Role.LEADER, Role.OFFICE, Role.HANDLER})  # draft and submit statements
PUBLISHERS = frozenset({Role.SPOKESPERSON, Role.LEADER, Role.OFFICE})  # mark approved statements published
LEGAL_REVIEWERS = frozenset({Role.LEGAL})  # 法律审核 of statements, where the plan asks for it


def _format(message: Promise, params: dict[str, Any]) -> str:
    return str(message) % {key: str(value) for key, value in params.items()}


_lazy_format = lazy(_format, str)


def lazy_format(message: Promise, **params: Any) -> Promise:
    """`message % params`, rendered when read (in the reader's language), not when built."""
    return _lazy_format(message, params)  # type: ignore[no-any-return,return-value]


@dataclass(frozen=True)
class Refusal:
    error: type[DomainError]
    message: Any
    field: str | None = None

    def exception(self) -> DomainError:
        return self.error(self.message, field=self.field)


Check = Callable[[Any, Incident, Any], "Refusal | None"]


@dataclass(frozen=True)
class Rule:
    """Who (roles in the incident's unit, or `who`), in which incident states, under which checks.

    `transition` names the Incident transition the action runs: its source states are the states.
    `record` names the kind of record the action is taken on ("" for the incident itself).
    """

    action: str
    what: Promise
    forbidden: Promise
    roles: frozenset[Role] = frozenset()
    states: tuple[str, ...] = ()
    transition: str = ""
    record: str = ""
    who: Callable[[Any, Incident, Any], bool] | None = None
    checks: tuple[Check, ...] = ()
    # Asks a person at the keyboard for a fresh second factor (accounts.stepup) when it is taken.
    step_up: bool = False

    def state_allows(self, incident: Incident) -> bool:
        if self.transition:
            return bool(getattr(Incident, self.transition)._django_fsm.has_transition(incident.state))
        return not self.states or incident.state in self.states


# --- checks beyond who and when


def _needs_assessment(actor: Any, incident: Incident, record: Any) -> Refusal | None:
    if incident.has_assessment():
        return None
    return Refusal(InvalidTransition, _("发布预警前须先录入研判意见。"))


def _needs_review(actor: Any, incident: Incident, record: Any) -> Refusal | None:
    return None if incident.has_review() else Refusal(InvalidTransition, _("归档前须先完成总结评估。"))


def _no_review_yet(actor: Any, incident: Incident, record: Any) -> Refusal | None:
    return Refusal(InvalidTransition, _("该舆情已有总结评估。")) if incident.has_review() else None


def open_clock_names(incident: Incident) -> list[str]:
    return list(
        incident.deadlines.filter(status__in=Deadline.OPEN).order_by("due_at", "id").values_list("name", flat=True)
    )  # type: ignore[attr-defined]


def _clocks_left(names: list[str]) -> Refusal:
    return Refusal(
        InvalidTransition,
        lazy_format(
            _("仍有时限在计时：%(clocks)s。须先完成，或由领导小组成员逐项豁免或确认不再适用。"),
            clocks="、".join(names),
        ),
        field="clocks",
    )


def _clocks_need_a_leader(actor: Any, incident: Incident, record: Any) -> Refusal | None:
    """Leaving 处置/跟踪: a leader may settle the open clocks in the same step; others must not leave them."""
    if Role.LEADER in user_roles(actor, incident.organization_id):
        return None
    names = open_clock_names(incident)
    return _clocks_left(names) if names else None


def _no_open_clocks(actor: Any, incident: Incident, record: Any) -> Refusal | None:
    names = open_clock_names(incident)
    return _clocks_left(names) if names else None


def _level_needs_leader(actor: Any, incident: Incident, record: Any) -> Refusal | None:
    level = incident.level
    if level is None or not level.requires_leader or Role.LEADER in user_roles(actor, incident.organization_id):
        return None
    return Refusal(NotPermitted, lazy_format(_("“%(level)s”级别须由领导小组成员调整。"), level=level.name), "level")


def _has_superior(actor: Any, incident: Incident, record: Any) -> Refusal | None:
    if incident.organization.parent_id is None:
        return Refusal(InvalidTransition, _("本单位未设置上级主管部门。"))
    if incident.escalated_at is not None:
        return Refusal(InvalidTransition, _("该舆情已上报上级主管部门。"))
    return None


def _missed_clocks_need_a_leader(actor: Any, incident: Incident, record: Any) -> Refusal | None:
    """Merging a duplicate: its pending clocks no longer apply (the surviving incident counts its
    own), but a missed one is history that only a leader may settle, in the same step."""
    if Role.LEADER in user_roles(actor, incident.organization_id):
        return None
    missed = incident.deadlines.filter(status=Deadline.Status.MISSED)  # type: ignore[attr-defined]
    names = list(missed.order_by("due_at", "id").values_list("name", flat=True))
    if not names:
        return None
    return Refusal(
        InvalidTransition,
        lazy_format(
            _("这起舆情有已逾期的时限：%(clocks)s。逾期须由领导小组成员在合并时逐项豁免或确认不再适用。"),
            clocks="、".join(names),
        ),
        field="clocks",
    )


def _discussants(actor: Any, incident: Incident, record: Any) -> bool:
    """The unit's working-group members; once the incident is reported up, also the superior
    unit's 领导小组 (who read it, and may give instructions in its discussion)."""
    if user_roles(actor, incident.organization_id):
        return True
    parent_id = incident.organization.parent_id
    return incident.escalated_at is not None and parent_id is not None and Role.LEADER in user_roles(actor, parent_id)


def _task_open(actor: Any, incident: Incident, task: Any) -> Refusal | None:
    return None if task.status == task.Status.OPEN else Refusal(InvalidTransition, _("该任务已办结或已取消。"))


def _task_people(actor: Any, incident: Incident, task: Any) -> bool:
    roles = user_roles(actor, incident.organization_id)
    if roles & COORDINATORS or (task.assignee_id is not None and task.assignee_id == getattr(actor, "pk", None)):
        return True
    return bool(
        roles
        and task.assignee_group_id is not None
        and GroupMember.objects.filter(user_id=actor.pk, group_id=task.assignee_group_id).exists()
    )


def _written_unsigned(actor: Any, incident: Incident, report: Report) -> Refusal | None:
    if report.kind != Report.Kind.WRITTEN:
        return Refusal(DomainError, _("只有书面报告需要审阅。"), "kind")
    if report.signed_off_at is not None:
        return Refusal(InvalidTransition, _("该报告已审阅。"))
    return None


def _sent_up_not_received(actor: Any, incident: Incident, report: Report) -> Refusal | None:
    if not report.to_superior:
        return Refusal(InvalidTransition, _("该报告未报送上级主管部门，无需签收。"))
    if report.received_at is not None:
        return Refusal(InvalidTransition, _("该报告已签收。"))
    return None


def _superior_leadership(actor: Any, incident: Incident, report: Report) -> bool:
    """The leadership group or its office of the unit directly above the incident's unit (签收)."""
    parent_id = incident.organization.parent_id
    return parent_id is not None and bool(user_roles(actor, parent_id) & COORDINATORS)


def _clock_open(actor: Any, incident: Incident, deadline: Deadline) -> Refusal | None:
    if deadline.is_open:
        return None
    return Refusal(InvalidTransition, _("该时限已完成或已处理。"), "deadline")


def _clock_late_but_claimed_on_time(actor: Any, incident: Incident, deadline: Deadline) -> Refusal | None:
    if deadline.status == Deadline.Status.LATE and deadline.met_at is not None and deadline.met_at <= deadline.due_at:
        return None
    return Refusal(
        InvalidTransition, _("只有按记录时间本属按时、因逾期后才登记而记为逾期后完成的时限，才需要确认。"), "deadline"
    )


def _clock_paged_and_missed(actor: Any, incident: Incident, deadline: Deadline) -> Refusal | None:
    if deadline.status != Deadline.Status.MISSED:
        return Refusal(InvalidTransition, _("只有已逾期的时限需要确认。"))
    if deadline.late_logged:
        return Refusal(InvalidTransition, _("后补登记时已逾期的时限没有发出升级，无需确认。"))
    if deadline.acknowledged_at is not None:
        return Refusal(InvalidTransition, _("该逾期时限已由他人确认。"))
    return None


def _above_the_owner(actor: Any, incident: Incident, deadline: Deadline) -> bool:
    from incidents.escalation import Ladder

    if user_organization_id(actor) is None:
        return False
    return Ladder(deadline).is_above_owner(actor)


def _statement_can(method: str) -> Check:
    def check(actor: Any, incident: Incident, statement: Statement) -> Refusal | None:
        if getattr(Statement, method)._django_fsm.has_transition(statement.status):
            return None
        return Refusal(
            InvalidTransition,
            lazy_format(_("回应稿当前为“%(status)s”，不能执行此操作。"), status=statement.get_status_display()),
        )

    return check


def _four_eyes_statement(actor: Any, incident: Incident, statement: Statement) -> Refusal | None:
    """A plan with 审定回避 (EmergencyPlan.four_eyes): whoever drafted the statement or wrote the
    version being decided may not decide on it."""
    if not incident.plan.four_eyes:
        return None
    actor_id = getattr(actor, "pk", None)
    # The page prefetches the versions; the service reads them once.
    versions = list(statement.versions.all())  # type: ignore[attr-defined]
    current = max(versions, key=lambda version: version.number, default=None)
    if statement.created_by_id == actor_id or (current is not None and current.author_id == actor_id):
        return Refusal(
            NotPermitted,
            _("本预案要求审定回避（四眼原则）：您起草或撰写了这份回应稿，不能审定自己的稿件，请由其他领导审定。"),
        )
    return None


def _four_eyes_report(actor: Any, incident: Incident, report: Report) -> Refusal | None:
    """A plan with 审定回避 (EmergencyPlan.four_eyes): the reporter may not sign their own report."""
    if incident.plan.four_eyes and report.reported_by_id == getattr(actor, "pk", None):
        return Refusal(
            NotPermitted,
            _("本预案要求审定回避（四眼原则）：您是这份报告的报告人，不能审阅自己的报告，请由其他领导审阅。"),
        )
    return None


def _evidence_people(actor: Any, incident: Incident, evidence: Any) -> bool:
    """Who may withdraw an attachment (evidence app): its uploader, or the leadership group or office."""
    roles = user_roles(actor, incident.organization_id)
    return bool(roles & COORDINATORS) or bool(roles and evidence.uploaded_by_id == getattr(actor, "pk", None))


def _evidence_kept(actor: Any, incident: Incident, evidence: Any) -> Refusal | None:
    return Refusal(InvalidTransition, _("该证据已撤回。")) if evidence.is_withdrawn else None


RULES: dict[str, Rule] = {
    rule.action: rule
    for rule in [
        # --- the incident itself
        Rule(
            "edit",
            _("修改舆情信息"),
            _("只有本单位应急工作组成员可以修改舆情。"),
            roles=ANY_ROLE,
            states=OPEN_STATES,
        ),
        Rule(
            "start_assessment",
            _("转入研判"),
            _("只有研判组、领导小组或其办公室可以转入研判。"),
            roles=ASSESSORS,
            transition="start_assessment",
        ),
        Rule(
            "record_assessment",
            _("录入研判意见"),
            _("只有研判组、领导小组或其办公室可以录入研判意见。"),
            roles=ASSESSORS,
            states=ASSESSMENT_STATES,
        ),
        Rule(
            "issue_warning",
            _("发布预警"),
            _("只有研判组、领导小组或其办公室可以发布预警。"),
            roles=ASSESSORS,
            transition="issue_warning",
            checks=(_needs_assessment,),
        ),
        Rule(
            "dismiss",
            _("排除"),
            _("只有研判组、领导小组或其办公室可以排除舆情。"),
            roles=ASSESSORS,
            transition="dismiss",
        ),
        Rule(
            "start_response",
            _("转入处置"),
            _("只有领导小组、处置组或办公室可以转入处置。"),
            roles=RESPONDERS,
            transition="start_response",
        ),
        Rule(
            "start_tracking",
            _("转入跟踪"),
            _("只有领导小组、处置组或办公室可以转入跟踪。"),
            roles=RESPONDERS,
            transition="start_tracking",
        ),
        Rule(
            "rebound",
            _("重新处置"),
            _("只有监测、研判、处置组或领导小组可以报告舆情反弹。"),
            roles=WATCHERS,
            transition="rebound",
        ),
        Rule(
            "start_review",
            _("转入总结评估"),
            _("只有领导小组或其办公室可以转入总结评估。"),
            roles=COORDINATORS,
            transition="start_review",
            checks=(_clocks_need_a_leader,),
        ),
        Rule(
            "record_review",
            _("填写总结评估"),
            _("只有领导小组或其办公室可以填写总结评估。"),
            roles=COORDINATORS,
            states=("reviewing",),
            checks=(_no_review_yet,),
        ),
        Rule(
            "archive",
            _("归档"),
            _("只有领导小组成员可以归档。"),
            roles=LEADERS,
            transition="archive",
            checks=(_needs_review, _no_open_clocks),
        ),
        Rule(
            "change_level",
            _("调整级别"),
            _("只有研判组、领导小组或其办公室可以调整级别。"),
            roles=ASSESSORS,
            transition="change_level",
            checks=(_level_needs_leader,),
        ),
        Rule(
            "assign_groups",
            _("分派工作组"),
            _("只有领导小组或其办公室可以分派工作组。"),
            roles=COORDINATORS,
            states=OPEN_STATES,
        ),
        Rule(
            "create_task",
            _("交办任务"),
            _("只有领导小组或其办公室可以交办任务。"),
            roles=COORDINATORS,
            states=OPEN_STATES,
        ),
        Rule(
            "record_measure",
            _("记录处置措施"),
            _("只有处置组、法律援助组、宣传组或领导小组可以记录处置措施。"),
            roles=MEASURE_RECORDERS,
            states=HANDLING_STATES,
        ),
        Rule(
            "record_report",
            _("记录报告"),
            _("只有本单位应急工作组成员可以记录报告。"),
            roles=ANY_ROLE,
            states=OPEN_STATES,
        ),
        Rule(
            "draft_statement",
            _("起草回应稿"),
            _("只有宣传组、处置组或领导小组可以起草回应稿。"),
            roles=DRAFTERS,
            states=STATEMENT_STATES,
        ),
        Rule(
            "escalate",
            _("上报上级"),
            _("只有领导小组成员可以上报上级。"),
            roles=LEADERS,
            states=OPEN_STATES,
            checks=(_has_superior,),
        ),
        Rule(
            "add_mention",
            _("关联信息"),
            _("只有本单位应急工作组成员可以关联舆情信息。"),
            roles=ANY_ROLE,
            states=OPEN_STATES,
        ),
        Rule(
            "attach_evidence",
            _("上传证据"),
            _("只有本单位应急工作组成员可以上传证据。"),
            roles=ANY_ROLE,
            states=OPEN_STATES,
        ),
        Rule(
            "withdraw_evidence",
            _("撤回证据"),
            _("只有证据的上传人或领导小组、办公室可以撤回证据。"),
            record="evidence",
            who=_evidence_people,
            states=OPEN_STATES,
            checks=(_evidence_kept,),
        ),
        Rule(
            "merge",
            _("合并重复舆情"),
            _("只有研判组、领导小组或其办公室可以合并重复舆情。"),
            roles=ASSESSORS,
            transition="merge_into",
            checks=(_missed_clocks_need_a_leader,),
        ),
        Rule(
            "link",
            _("关联舆情"),
            _("只有本单位应急工作组成员可以关联舆情。"),
            roles=ANY_ROLE,
            states=OPEN_STATES,
        ),
        # `who` decides; `roles` is its own-unit part, which the permission tables read.
        Rule(
            "comment",
            _("发表评论"),
            _("只有本单位应急工作组成员，以及已收到上报的上级主管部门领导小组，可以参与讨论。"),
            roles=ANY_ROLE,
            states=OPEN_STATES,
            who=_discussants,
        ),
        # --- records on the incident
        Rule(
            "complete_task",
            _("办结任务"),
            _("只有承办人、承办工作组成员或领导小组可以办结任务。"),
            record="task",
            who=_task_people,
            checks=(_task_open,),
        ),
        Rule(
            "sign_off_report",
            _("审阅报告"),
            _("只有领导小组成员可以审阅报告。"),
            roles=LEADERS,
            record="report",
            checks=(_written_unsigned, _four_eyes_report),
            step_up=True,
        ),
        Rule(
            "acknowledge_report",
            _("签收报告"),
            _("只有上级主管部门的领导小组或其办公室可以签收报送的报告。"),
            record="report",
            who=_superior_leadership,
            checks=(_sent_up_not_received,),
        ),
        Rule(
            "waive_deadline",
            _("豁免时限"),
            _("只有领导小组成员可以豁免时限。"),
            roles=LEADERS,
            record="deadline",
            checks=(_clock_open,),
            step_up=True,
        ),
        Rule(
            "close_deadline",
            _("确认时限不再适用"),
            _("只有领导小组成员可以确认时限不再适用。"),
            roles=LEADERS,
            record="deadline",
            checks=(_clock_open,),
            step_up=True,
        ),
        Rule(
            "confirm_deadline",
            _("确认按时完成"),
            _("只有领导小组成员可以确认时限按时完成。"),
            roles=LEADERS,
            record="deadline",
            checks=(_clock_late_but_claimed_on_time,),
            step_up=True,
        ),
        Rule(
            "acknowledge_deadline",
            _("确认并督办"),
            _("只有逐级上报链上高于责任人的人员可以确认逾期时限，责任人本人不能确认。"),
            record="deadline",
            who=_above_the_owner,
            checks=(_clock_paged_and_missed,),
        ),
        Rule(
            "revise_statement",
            _("修改回应稿"),
            _("只有宣传组、处置组或领导小组可以修改回应稿。"),
            roles=DRAFTERS,
            record="statement",
            checks=(_statement_can("revise"),),
        ),
        Rule(
            "submit_statement",
            _("提交审定"),
            _("只有宣传组、处置组或领导小组可以提交审定。"),
            roles=DRAFTERS,
            record="statement",
            checks=(_statement_can("submit"),),
        ),
        Rule(
            "withdraw_statement",
            _("撤回回应稿"),
            _("只有宣传组、处置组或领导小组可以撤回回应稿。"),
            roles=DRAFTERS,
            record="statement",
            checks=(_statement_can("withdraw"),),
        ),
        Rule(
            "legal_review_statement",
            _("法律审核"),
            _("只有法律援助组可以进行法律审核。"),
            roles=LEGAL_REVIEWERS,
            record="statement",
            checks=(_statement_can("legal_approve"),),
            step_up=True,
        ),
        Rule(
            "decide_statement",
            _("审定回应稿"),
            _("只有领导小组成员可以审定回应稿。"),
            roles=LEADERS,
            record="statement",
            checks=(_statement_can("approve"), _four_eyes_statement),
            step_up=True,
        ),
        Rule(
            "publish_statement",
            _("发布回应"),
            _("只有宣传组或领导小组可以发布回应。"),
            roles=PUBLISHERS,
            record="statement",
            checks=(_statement_can("publish"),),
        ),
    ]
}

INCIDENT_ACTIONS = tuple(name for name, rule in RULES.items() if not rule.record)


def decide(action: str, actor: Any, incident: Incident, record: Any = None) -> Refusal | None:
    """Why `actor` may not take `action` on `incident` (or on `record` of it) now, or None."""
    rule = RULES[action]
    if rule.who is not None:
        permitted = (
            actor is not None and getattr(actor, "is_authenticated", False) and rule.who(actor, incident, record)
        )
    else:
        permitted = bool(user_roles(actor, incident.organization_id) & rule.roles)
    if not permitted:
        return Refusal(NotPermitted, rule.forbidden)
    if not rule.state_allows(incident):
        return Refusal(
            InvalidTransition,
            lazy_format(_("当前状态为“%(state)s”，不能%(what)s。"), state=incident.get_state_display(), what=rule.what),
        )
    for check in rule.checks:
        refusal = check(actor, incident, record)
        if refusal is not None:
            return refusal
    return None


def allows(action: str, actor: Any, incident: Incident, record: Any = None) -> bool:
    return decide(action, actor, incident, record) is None


def require(action: str, actor: Any, incident: Incident, record: Any = None) -> None:
    """Raise the refusal (NotPermitted 403, InvalidTransition 409, …) unless the action is allowed."""
    refusal = decide(action, actor, incident, record)
    if refusal is not None:
        raise refusal.exception()
    if RULES[action].step_up:
        second_factor_require(actor)


def available_actions(actor: Any, incident: Incident) -> list[str]:
    """The incident-level actions `actor` may take now (what the API lists and the page draws)."""
    if not user_roles(actor, incident.organization_id):
        return []
    return [name for name in INCIDENT_ACTIONS if allows(name, actor, incident)]
