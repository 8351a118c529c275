"""Work recorded on an incident: reports, tasks, measures. Each records itself in the timeline."""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events, policies
from incidents.models import Approval, Classification, Measure, Report, Task, WarningLevel
from incidents.models.chain import report_content_sha256
from incidents.services.deadlines import REPORT_MEETS, deadlines_meet
from incidents.services.incidents import incident_report_up
from incidents.services.locking import incident_lock, incident_touch, record_lock
from incidents.services.timeline import approval_record, timeline_record
from opinion_ops.db import retry_on_conflict
from opinion_ops.errors import DomainError
from opinion_ops.links_policy import http_url_check
from organizations.models import ResponseGroup
from organizations.roles import user_organization_id

CLOCK_SKEW = timedelta(minutes=5)
TASK_HORIZON = timedelta(days=366)  # a task due more than a year ahead is a typo


def _check_past(at: datetime | None, field: str, not_before: datetime | None = None) -> None:
    if at is None:
        raise DomainError(_("请填写时间。"), field=field)
    if at > timezone.now() + CLOCK_SKEW:
        raise DomainError(_("时间不能晚于当前时间。"), field=field)
    if not_before is not None and at < not_before - CLOCK_SKEW:
        raise DomainError(_("时间不能早于舆情发现时间。"), field=field)


def report_goes_up_by_tier(incident: Any) -> bool:
    """Whether the incident's warning level is answered at the superior unit's tier and the unit
    has a superior: its written reports then go up without being marked."""
    level = incident.level
    return (
        level is not None
        and level.response_tier == WarningLevel.Tier.SUPERIOR
        and incident.organization.parent_id is not None
    )


def _marking(kind: str, copy_number: str, classification: str) -> tuple[str, str]:
    """份号 and 密级, checked: digits only, a known 密级, and only on a written report."""
    copy_number, classification = (copy_number or "").strip(), (classification or "").strip()
    if kind != Report.Kind.WRITTEN and (copy_number or classification):
        field = "copy_number" if copy_number else "classification"
        raise DomainError(_("份号和密级只用于书面报告。"), field=field)
    if copy_number and not (copy_number.isascii() and copy_number.isdigit() and len(copy_number) <= 6):
        raise DomainError(_("份号须为 1 至 6 位数字。"), field="copy_number")
    if classification and classification not in Classification.values:
        raise DomainError(_("请选择列表中的密级。"), field="classification")
    return copy_number.zfill(6) if copy_number else "", classification


@retry_on_conflict
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
    copy_number: str = "",
    classification: str = "",
) -> Report:
    """Record an oral or written report (may be back-dated to when it was made, not before the
    incident was found); it meets its clock, and one marked for the superior unit reports the
    incident up to it. A written report of an incident whose warning level the plan answers at the
    superior unit's tier (响应层级: 上级主管部门处置) goes up to it whether or not it was marked.
    份号 and 密级 (GB/T 9704) apply to written reports only and are printed on the document."""
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
    copy_number, classification = _marking(kind, copy_number, classification)
    with transaction.atomic():
        incident = incident_lock(incident_id)
        policies.require("record_report", actor, incident)
        _check_past(occurred_at, "occurred_at", not_before=incident.discovered_at)
        if to_superior and incident.organization.parent_id is None:
            raise DomainError(_("本单位未设置上级主管部门，不能同时报上级。"), field="to_superior")
        by_tier = kind == Report.Kind.WRITTEN and not to_superior and report_goes_up_by_tier(incident)
        to_superior = to_superior or by_tier
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
            copy_number=copy_number,
            classification=classification,
        )
        timeline_record(
            incident=incident,
            kind="report",
            actor=actor,
            occurred_at=occurred_at,
            summary=_("%(kind)s：向%(to)s报告") % {"kind": report.get_kind_display(), "to": report.reported_to},
            details={
                "report_id": report.pk,
                "occurred_at": occurred_at.isoformat(),
                "to_superior": to_superior,
                "to_superior_by_tier": by_tier,
            },
        )
        deadlines_meet(incident=incident, kind=REPORT_MEETS[kind], at=occurred_at, actor=actor, report=report)
        if to_superior:
            incident_report_up(incident, actor, report.get_kind_display())
        incident_touch(incident)
        events.publish(
            events.REPORT_RECORDED,
            {
                "report_id": report.pk,
                "incident_id": incident.pk,
                "organization_id": incident.organization_id,
                "kind": kind,
                "to_superior": to_superior,
            },
        )
    return report


SIGN_OFF_COMMENT_MAX = 5000


@retry_on_conflict
def report_sign_off(*, report_id: int, actor: Any, comment: str = "") -> Report:
    """A leader signs off a written report, with a written instruction (批示) if they give one.
    The 批示 is kept on the report and as the comment of the sign-off's approval, which is anchored
    in the incident's hash chain; the reporter is told."""
    comment = (comment or "").strip()
    if len(comment) > SIGN_OFF_COMMENT_MAX:
        raise DomainError(_("批示不超过 %(n)s 个字。") % {"n": SIGN_OFF_COMMENT_MAX}, field="comment")
    with transaction.atomic():
        incident, report = record_lock(Report, report_id, _("报告不存在。"))
        policies.require("sign_off_report", actor, incident, report)
        report.signed_off_by = actor
        report.signed_off_at = timezone.now()
        report.sign_off_comment = comment
        report.save(update_fields=["signed_off_by", "signed_off_at", "sign_off_comment"])
        summary = _("审阅书面报告")
        if comment:
            summary = _("审阅书面报告，批示：%(comment)s") % {"comment": comment}
        # The evidence of the sign-off, on the report's content as signed; its entry joins the chain.
        approval_record(
            incident=report.incident,
            actor=actor,
            decision=Approval.Decision.SIGNED_OFF,
            decided_at=report.signed_off_at,
            content_sha256=report_content_sha256(report),
            report=report,
            comment=comment,
            kind="report",
            summary=summary,
            details={"report_id": report.pk, "comment": comment},
        )
        events.publish(
            events.REPORT_SIGNED_OFF,
            {
                "report_id": report.pk,
                "incident_id": incident.pk,
                "organization_id": incident.organization_id,
                "signed_off_by": getattr(actor, "pk", None),
                "comment": comment,
            },
        )
    return report


# Published for routing and the unit's systems; belongs with the others in incidents.events.
REPORT_RECEIVED = "report.received"


@retry_on_conflict
def report_acknowledge(*, report_id: int, actor: Any) -> Report:
    """The superior unit's leadership or its office confirms it received a report sent up to it
    (签收): once, who and when kept on the report, and recorded on the subordinate incident's
    timeline with the SHA-256 of the report as received, so both units see it."""
    with transaction.atomic():
        incident, report = record_lock(Report, report_id, _("报告不存在。"))
        policies.require("acknowledge_report", actor, incident, report)
        report.received_by = actor
        report.received_at = timezone.now()
        report.save(update_fields=["received_by", "received_at"])
        superior = incident.organization.parent
        timeline_record(
            incident=incident,
            kind="report",
            actor=actor,
            summary=_("上级主管部门（%(unit)s）签收%(kind)s")
            % {"unit": superior.name if superior else "—", "kind": report.get_kind_display()},
            details={
                "report_id": report.pk,
                "received_at": report.received_at.isoformat(),
                "report_sha256": report_content_sha256(report),
            },
        )
        events.publish(
            REPORT_RECEIVED,
            {
                "report_id": report.pk,
                "incident_id": incident.pk,
                "organization_id": incident.organization_id,
                "received_by": actor.pk,
            },
        )
    return report


@retry_on_conflict
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
        policies.require("create_task", actor, incident)
        if assignee_group is not None and assignee_group.organization_id != incident.organization_id:
            raise DomainError(_("只能交办给本单位的工作组。"), field="assignee_group")
        if assignee is not None and user_organization_id(assignee) != incident.organization_id:
            raise DomainError(_("只能交办给本单位的人员。"), field="assignee")
        if due_at is not None and due_at <= timezone.now():
            raise DomainError(_("办理时限须晚于当前时间。"), field="due_at")
        if due_at is not None and due_at > timezone.now() + TASK_HORIZON:
            raise DomainError(_("办理时限不能超过一年。"), field="due_at")
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
        events.publish(
            events.TASK_ASSIGNED,
            {"task_id": task.pk, "incident_id": incident.pk, "organization_id": incident.organization_id},
        )
    return task


@retry_on_conflict
def task_complete(*, task_id: int, actor: Any, result: str) -> Task:
    """The assignee (or a leader) reports the task done, with its result."""
    if not (result or "").strip():
        raise DomainError(_("请填写办理结果。"), field="result")
    with transaction.atomic():
        incident, task = record_lock(Task, task_id, _("任务不存在。"), "assignee_group")
        policies.require("complete_task", actor, incident, task)
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


@retry_on_conflict
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
    url = http_url_check(url, field="url") if (url or "").strip() else ""
    with transaction.atomic():
        incident = incident_lock(incident_id)
        policies.require("record_measure", actor, incident)
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
