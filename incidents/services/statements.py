"""Public statements and replies: draft → submit → (法律审核) → leader approves or rejects → publish.

Only the approved text can be published; editing an approved text makes a new version that
needs a new approval; every version and every decision is kept (统一回复). Under a plan with
法律审核 (EmergencyPlan.legal_review) a submitted text goes to the legal group first, which clears
it for the leaders or sends it back. The drafter may withdraw a submitted text nobody decided on.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from incidents import events, policies
from incidents.models import Approval, Statement, StatementVersion
from incidents.models.chain import text_sha256
from incidents.services.deadlines import STATEMENT_MEETS, deadlines_meet
from incidents.services.locking import incident_lock, record_lock
from incidents.services.timeline import approval_record, timeline_record
from opinion_ops.db import retry_on_conflict
from opinion_ops.errors import DomainError, InvalidTransition, StaleObject
from opinion_ops.links_policy import http_url_check


def _lock_statement(statement_id: int, expected_version: int | None, action: str, actor: Any) -> Statement:
    """Lock the statement's incident, then the statement (the one lock order), and ask the rule."""
    incident, statement = record_lock(Statement, statement_id, _("回应稿不存在。"))
    if expected_version is not None and statement.version != expected_version:
        raise StaleObject(_("该回应稿已被他人更新，请刷新页面后再操作。"))
    policies.require(action, actor, incident, statement)
    return statement


def _payload(statement: Statement, **extra: Any) -> dict[str, Any]:
    return {
        "statement_id": statement.pk,
        "incident_id": statement.incident_id,
        "organization_id": statement.incident.organization_id,
        "title": statement.title,
        "version": statement.version,
        **extra,
    }


def _current(statement: Statement) -> StatementVersion:
    return statement.versions.order_by("-number").first()  # type: ignore[return-value]


def _run(statement: Statement, method_name: str, what: str, **kwargs: Any) -> None:
    method = getattr(statement, method_name)
    if not method._django_fsm.has_transition(statement.status):
        raise InvalidTransition(
            _("回应稿当前为“%(status)s”，不能%(what)s。") % {"status": statement.get_status_display(), "what": what}
        )
    method(**kwargs)
    statement.version += 1
    try:
        statement.save()
    except ConcurrentTransition as exc:
        raise StaleObject(_("该回应稿已被他人更新，请刷新页面后再操作。")) from exc


@retry_on_conflict
def statement_create(
    *, incident_id: int, actor: Any, title: str, text: str, kind: str = Statement.Kind.RESPONSE
) -> Statement:
    """Draft a statement (version 1) on an incident that is being handled."""
    if kind not in Statement.Kind.values:
        raise DomainError(_("请选择回应类型。"), field="kind")
    if not (title or "").strip():
        raise DomainError(_("请填写标题。"), field="title")
    if not (text or "").strip():
        raise DomainError(_("请填写正文。"), field="text")
    with transaction.atomic():
        incident = incident_lock(incident_id)
        policies.require("draft_statement", actor, incident)
        statement = Statement.objects.create(incident=incident, kind=kind, title=title.strip(), created_by=actor)
        StatementVersion.objects.create(statement=statement, number=1, text=text.strip(), author=actor)
        timeline_record(
            incident=incident,
            kind="statement",
            actor=actor,
            summary=_("起草%(kind)s“%(title)s”") % {"kind": statement.get_kind_display(), "title": statement.title},
            details={"statement_id": statement.pk, "version": 1},
        )
    return statement


@retry_on_conflict
def statement_revise(*, statement_id: int, actor: Any, text: str, expected_version: int | None = None) -> Statement:
    """Save a new text as a new version; an approved or rejected statement goes back to draft."""
    if not (text or "").strip():
        raise DomainError(_("请填写正文。"), field="text")
    with transaction.atomic():
        statement = _lock_statement(statement_id, expected_version, "revise_statement", actor)
        current = _current(statement)
        if current.text == text.strip():
            raise DomainError(_("正文没有变化。"), field="text")
        _run(statement, "revise", _("修改"))
        number = current.number + 1
        StatementVersion.objects.create(statement=statement, number=number, text=text.strip(), author=actor)
        timeline_record(
            incident=statement.incident,
            kind="statement",
            actor=actor,
            summary=_("修改回应稿“%(title)s”（第 %(n)s 版）") % {"title": statement.title, "n": number},
            details={"statement_id": statement.pk, "version": number},
        )
    return statement


@retry_on_conflict
def statement_submit(*, statement_id: int, actor: Any, expected_version: int | None = None) -> Statement:
    """Submit the current version: to the legal group where the incident's plan asks for 法律审核,
    otherwise to the leaders."""
    with transaction.atomic():
        statement = _lock_statement(statement_id, expected_version, "submit_statement", actor)
        legal = statement.incident.plan.legal_review
        _run(statement, "submit_for_legal_review" if legal else "submit", _("提交审定"))
        summary = _("提交法律审核“%(title)s”") if legal else _("提交审定“%(title)s”")
        timeline_record(
            incident=statement.incident,
            kind="statement",
            actor=actor,
            summary=summary % {"title": statement.title},
            details={"statement_id": statement.pk, "version": _current(statement).number, "legal_review": legal},
        )
        events.publish(
            events.STATEMENT_SUBMITTED,
            _payload(statement, legal_review=legal, submitted_by=getattr(actor, "pk", None)),
        )
    return statement


@retry_on_conflict
def statement_withdraw(*, statement_id: int, actor: Any, expected_version: int | None = None) -> Statement:
    """Take a submitted text back to draft before anyone decided on it; those asked to decide are told."""
    with transaction.atomic():
        statement = _lock_statement(statement_id, expected_version, "withdraw_statement", actor)
        waiting_for = statement.status
        _run(statement, "withdraw", _("撤回"))
        timeline_record(
            incident=statement.incident,
            kind="statement",
            actor=actor,
            summary=_("撤回回应稿“%(title)s”（第 %(n)s 版）")
            % {"title": statement.title, "n": _current(statement).number},
            details={"statement_id": statement.pk, "version": _current(statement).number},
        )
        events.publish(
            events.STATEMENT_WITHDRAWN,
            _payload(
                statement,
                legal_review=waiting_for == Statement.Status.LEGAL_REVIEW,
                withdrawn_by=getattr(actor, "pk", None),
            ),
        )
    return statement


@retry_on_conflict
def statement_legal_review(
    *, statement_id: int, actor: Any, approve: bool, comment: str = "", expected_version: int | None = None
) -> Statement:
    """The legal group (法律援助组) clears the submitted version for the leaders' decision, or sends it
    back to the drafter; sending back needs a comment. The review is kept on the version and, with
    the SHA-256 of the text reviewed, in the incident's hash-chained record."""
    comment = (comment or "").strip()
    if not approve and not comment:
        raise DomainError(_("退回时请填写法律审核意见。"), field="comment")
    with transaction.atomic():
        statement = _lock_statement(statement_id, expected_version, "legal_review_statement", actor)
        _run(statement, "legal_approve" if approve else "legal_reject", _("法律审核"))
        version = _current(statement)
        version.legal_decision = StatementVersion.Decision.APPROVED if approve else StatementVersion.Decision.REJECTED
        version.legal_reviewed_by = actor
        version.legal_reviewed_at = timezone.now()
        version.legal_comment = comment
        version.save(update_fields=["legal_decision", "legal_reviewed_by", "legal_reviewed_at", "legal_comment"])
        summary = (
            _("法律审核通过“%(title)s”（第 %(n)s 版），送领导审定")
            if approve
            else _("法律审核退回“%(title)s”（第 %(n)s 版）")
        )
        timeline_record(
            incident=statement.incident,
            kind="statement",
            actor=actor,
            summary=summary % {"title": statement.title, "n": version.number},
            details={
                "statement_id": statement.pk,
                "version": version.number,
                "legal_review": "approved" if approve else "rejected",
                "comment": comment,
                "text_sha256": text_sha256(version.text),
            },
        )
        events.publish(
            events.STATEMENT_LEGAL_APPROVED if approve else events.STATEMENT_LEGAL_REJECTED,
            _payload(statement, comment=comment, decided_by=getattr(actor, "pk", None)),
        )
    return statement


@retry_on_conflict
def statement_decide(
    *, statement_id: int, actor: Any, approve: bool, comment: str = "", expected_version: int | None = None
) -> Statement:
    """A leader approves or rejects the submitted version; a rejection needs a comment."""
    comment = (comment or "").strip()
    if not approve and not comment:
        raise DomainError(_("退回时请填写修改意见。"), field="comment")
    with transaction.atomic():
        statement = _lock_statement(statement_id, expected_version, "decide_statement", actor)
        _run(statement, "approve" if approve else "reject", _("审定"))
        version = _current(statement)
        version.decision = StatementVersion.Decision.APPROVED if approve else StatementVersion.Decision.REJECTED
        version.decided_by = actor
        version.decided_at = timezone.now()
        version.decision_comment = comment
        version.save(update_fields=["decision", "decided_by", "decided_at", "decision_comment"])
        summary = _("审定同意“%(title)s”（第 %(n)s 版）") if approve else _("退回修改“%(title)s”（第 %(n)s 版）")
        # The evidence of this decision, on the exact text decided on; its entry joins the chain.
        approval_record(
            incident=statement.incident,
            actor=actor,
            decision=Approval.Decision.APPROVED if approve else Approval.Decision.REJECTED,
            decided_at=version.decided_at,
            content_sha256=text_sha256(version.text),
            statement_version=version,
            comment=comment,
            kind="statement",
            summary=summary % {"title": statement.title, "n": version.number},
            details={"statement_id": statement.pk, "version": version.number, "comment": comment},
        )
        events.publish(
            events.STATEMENT_APPROVED if approve else events.STATEMENT_REJECTED,
            _payload(statement, comment=comment, decided_by=getattr(actor, "pk", None)),
        )
    return statement


@retry_on_conflict
def statement_publish(
    *,
    statement_id: int,
    actor: Any,
    channel: str,
    url: str = "",
    published_at: datetime | None = None,
    expected_version: int | None = None,
) -> Statement:
    """Mark the approved version as published (channel, time, link); meets the response clock.

    The publication time may be given (published before it was recorded) but never before the
    approval: only an approved text can have gone out."""
    if not (channel or "").strip():
        raise DomainError(_("请填写发布渠道。"), field="channel")
    url = http_url_check(url, field="url") if (url or "").strip() else ""
    at = published_at or timezone.now()
    with transaction.atomic():
        statement = _lock_statement(statement_id, expected_version, "publish_statement", actor)
        incident = statement.incident
        if at > timezone.now() or at < incident.discovered_at:
            raise DomainError(_("发布时间须在舆情发现之后、当前时间之前。"), field="published_at")
        approved_at = _current(statement).decided_at
        # Forms give the minute; the approval time counts from the start of its minute.
        if approved_at is not None and at < approved_at.replace(second=0, microsecond=0):
            raise DomainError(
                _("发布时间不能早于审定时间（%(at)s）：只有审定同意的稿件才能发布。")
                % {"at": timezone.localtime(approved_at).strftime("%m-%d %H:%M")},
                field="published_at",
            )
        _run(statement, "publish", _("发布"), channel=channel.strip(), url=url, at=at, by=actor)
        timeline_record(
            incident=incident,
            kind="statement",
            actor=actor,
            occurred_at=at,
            summary=_("发布%(kind)s“%(title)s”（%(channel)s）")
            % {"kind": statement.get_kind_display(), "title": statement.title, "channel": channel.strip()},
            details={"statement_id": statement.pk, "version": _current(statement).number, "url": url},
        )
        deadlines_meet(incident=incident, kind=STATEMENT_MEETS[statement.kind], at=at, actor=actor, statement=statement)
        events.publish(events.STATEMENT_PUBLISHED, _payload(statement, published_at=at.isoformat()))
    return statement
