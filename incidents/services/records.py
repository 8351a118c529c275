"""Work recorded on an incident: reports, tasks, measures. Each records itself in the timeline."""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events
from incidents.errors import DomainError, InvalidTransition, NotPermitted
from incidents.models import GroupMember, Incident, Measure, Report, ResponseGroup, State, Task
from incidents.roles import (
    ANY_ROLE,
    COORDINATORS,
    LEADERS,
    MEASURE_RECORDERS,
    Role,
    user_has_role,
    user_organization_id,
    user_roles,
)
from incidents.services.deadlines import REPORT_MEETS, deadlines_meet
from incidents.services.locking import incident_lock, incident_touch
from incidents.services.timeline import timeline_record

CLOCK_SKEW = timedelta(minutes=5)
WORK_STATES = (State.MONITORING, State.ASSESSING, State.WARNING, State.RESPONDING, State.TRACKING, State.REVIEWING)
HANDLING_STATES = (State.WARNING, State.RESPONDING, State.TRACKING)


def _require_open(incident: Incident, states: tuple[str, ...], what: str) -> None:
    if incident.state not in states:
        raise InvalidTransition(
            _("当前状态为“%(state)s”，不能%(what)s。") % {"state": incident.get_state_display(), "what": what}
        )


def _check_past(at: datetime | None, field: str, not_before: datetime | None = None) -> None:
    if at is None:
        raise DomainError(_("请填写时间。"), field=field)
    if at > timezone.now() + CLOCK_SKEW:
        raise DomainError(_("时间不能晚于当前时间。"), field=field)
    if not_before is not None and at < not_before - CLOCK_SKEW:
        raise DomainError(_("时间不能早于舆情发现时间。"), field=field)


def report_record(
    *,
    incident_id: int,
    actor: Any,
    kind: str,
    reported_to: str,
    occurred_at: datetime,
    summary: str,
    cause: str = "",
    facts: str = "",
    measures_taken: str = "",
    to_superior: bool = False,
) -> Report:
    """Record an oral or written report (may be back-dated to when it was made); meets its clock."""
    if kind not in Report.Kind.values:
        raise DomainError(_("请选择报告方式。"), field="kind")
    if not (reported_to or "").strip():
        raise DomainError(_("请填写报告对象。"), field="reported_to")
    if not (summary or "").strip():
        raise DomainError(_("请填写内容摘要。"), field="summary")
    if kind == Report.Kind.WRITTEN:
        for field, value in (("cause", cause), ("facts", facts), ("measures_taken", measures_taken)):
            if not (value or "").strip():
                raise DomainError(_("书面报告须写明起因、基本事实和已采取措施。"), field=field)
    with transaction.atomic():
        incident = incident_lock(incident_id)
        if not user_has_role(actor, incident.organization_id, *ANY_ROLE):
            raise NotPermitted(_("只有本单位应急工作组成员可以记录报告。"))
        _require_open(incident, WORK_STATES, _("记录报告"))
        _check_past(occurred_at, "occurred_at", not_before=incident.discovered_at)
        report = Report.objects.create(
            incident=incident,
            kind=kind,
            reported_by=actor,
            reported_to=reported_to.strip(),
            to_superior=to_superior,
            occurred_at=occurred_at,
            summary=summary.strip(),
            cause=cause,
            facts=facts,
            measures_taken=measures_taken,
        )
        timeline_record(
            incident=incident,
            kind="report",
            actor=actor,
            occurred_at=occurred_at,
            summary=_("%(kind)s：向%(to)s报告") % {"kind": report.get_kind_display(), "to": report.reported_to},
            details={"report_id": report.pk, "occurred_at": occurred_at.isoformat(), "to_superior": to_superior},
        )
        deadlines_meet(incident=incident, kind=REPORT_MEETS[kind], at=occurred_at, actor=actor, report=report)
        incident_touch(incident)
        events.publish(events.REPORT_RECORDED, {"report_id": report.pk, "incident_id": incident.pk, "kind": kind})
    return report


def report_sign_off(*, report_id: int, actor: Any) -> Report:
    """A leader signs off a written report."""
    with transaction.atomic():
        try:
            report = Report.objects.select_for_update(of=("self",)).select_related("incident").get(pk=report_id)
        except Report.DoesNotExist as exc:
            raise DomainError(_("报告不存在。"), code="not_found") from exc
        if not user_has_role(actor, report.incident.organization_id, *LEADERS):
            raise NotPermitted(_("只有领导小组成员可以审阅报告。"))
        if report.kind != Report.Kind.WRITTEN:
            raise DomainError(_("只有书面报告需要审阅。"), field="kind")
        if report.signed_off_at:
            raise InvalidTransition(_("该报告已审阅。"))
        report.signed_off_by = actor
        report.signed_off_at = timezone.now()
        report.save(update_fields=["signed_off_by", "signed_off_at"])
        timeline_record(
            incident=report.incident,
            kind="report",
            actor=actor,
            summary=_("审阅书面报告"),
            details={"report_id": report.pk},
        )
    return report


def task_create(
    *,
    incident_id: int,
    actor: Any,
    title: str,
    description: str = "",
    assignee_group: ResponseGroup | None = None,
    assignee: Any = None,
    due_at: datetime | None = None,
) -> Task:
    """Assign a task on the incident to a group or a person of the unit."""
    if not (title or "").strip():
        raise DomainError(_("请填写任务内容。"), field="title")
    if assignee_group is None and assignee is None:
        raise DomainError(_("请选择承办工作组或承办人。"), field="assignee_group")
    with transaction.atomic():
        incident = incident_lock(incident_id)
        if not user_has_role(actor, incident.organization_id, *COORDINATORS):
            raise NotPermitted(_("只有领导小组或其办公室可以交办任务。"))
        _require_open(incident, WORK_STATES, _("交办任务"))
        if assignee_group is not None and assignee_group.organization_id != incident.organization_id:
            raise DomainError(_("只能交办给本单位的工作组。"), field="assignee_group")
        if assignee is not None and user_organization_id(assignee) != incident.organization_id:
            raise DomainError(_("只能交办给本单位的人员。"), field="assignee")
        if due_at is not None and due_at <= timezone.now():
            raise DomainError(_("办理时限须晚于当前时间。"), field="due_at")
        task = Task.objects.create(
            incident=incident,
            title=title.strip(),
            description=description,
            assignee_group=assignee_group,
            assignee=assignee,
            due_at=due_at,
            created_by=actor,
        )
        who = assignee.get_full_name() or assignee.get_username() if assignee else assignee_group.name  # type: ignore[union-attr]
        timeline_record(
            incident=incident,
            kind="task",
            actor=actor,
            summary=_("交办任务“%(title)s”给%(who)s") % {"title": task.title, "who": who},
            details={"task_id": task.pk, "due_at": due_at.isoformat() if due_at else None},
        )
        incident_touch(incident)
        events.publish(events.TASK_ASSIGNED, {"task_id": task.pk, "incident_id": incident.pk})
    return task


def task_completable_by(task: Task, *, user_id: int | None, roles: frozenset[Role], group_ids: set[int]) -> bool:
    """Who may report a task done: its assignee, a member of its group, or the leadership and office."""
    return bool(
        task.assignee_id == user_id or (roles and task.assignee_group_id in group_ids) or roles & set(COORDINATORS)
    )


def task_complete(*, task_id: int, actor: Any, result: str) -> Task:
    """The assignee (or a leader) reports the task done, with its result."""
    if not (result or "").strip():
        raise DomainError(_("请填写办理结果。"), field="result")
    with transaction.atomic():
        try:
            task = (
                Task.objects.select_for_update(of=("self",))
                .select_related("incident", "assignee_group")
                .get(pk=task_id)
            )
        except Task.DoesNotExist as exc:
            raise DomainError(_("任务不存在。"), code="not_found") from exc
        roles = user_roles(actor, task.incident.organization_id)
        group_ids = set(GroupMember.objects.filter(user_id=actor.pk).values_list("group_id", flat=True))
        if not task_completable_by(task, user_id=actor.pk, roles=roles, group_ids=group_ids):
            raise NotPermitted(_("只有承办人、承办工作组成员或领导小组可以办结任务。"))
        if task.status != Task.Status.OPEN:
            raise InvalidTransition(_("该任务已办结或已取消。"))
        task.status = Task.Status.DONE
        task.result = result.strip()
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "result", "completed_at"])
        timeline_record(
            incident=task.incident,
            kind="task",
            actor=actor,
            summary=_("完成任务“%(title)s”") % {"title": task.title},
            details={"task_id": task.pk},
        )
    return task


def measure_record(
    *,
    incident_id: int,
    actor: Any,
    kind: str,
    description: str,
    taken_at: datetime,
    target: str = "",
    url: str = "",
    outcome: str = "",
) -> Measure:
    """Record a measure taken (reply, clarification, takedown request, referral, media contact …)."""
    if kind not in Measure.Kind.values:
        raise DomainError(_("请选择处置措施。"), field="kind")
    if not (description or "").strip():
        raise DomainError(_("请填写具体情况。"), field="description")
    with transaction.atomic():
        incident = incident_lock(incident_id)
        if not user_has_role(actor, incident.organization_id, *MEASURE_RECORDERS):
            raise NotPermitted(_("只有处置组、法律援助组、宣传组或领导小组可以记录处置措施。"))
        _require_open(incident, HANDLING_STATES, _("记录处置措施"))
        _check_past(taken_at, "taken_at", not_before=incident.discovered_at)
        measure = Measure.objects.create(
            incident=incident,
            kind=kind,
            description=description.strip(),
            taken_at=taken_at,
            target=target,
            url=url,
            outcome=outcome,
            recorded_by=actor,
        )
        timeline_record(
            incident=incident,
            kind="measure",
            actor=actor,
            occurred_at=taken_at,
            summary=_("处置措施：%(kind)s") % {"kind": measure.get_kind_display()},
            details={"measure_id": measure.pk, "target": target},
        )
        incident_touch(incident)
    return measure
