"""Logging incidents and moving them through their lifecycle."""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from incidents import events
from incidents.errors import DomainError, InvalidTransition, NotPermitted, StaleObject
from incidents.models import (
    Assessment,
    EmergencyPlan,
    HandlingCategory,
    Incident,
    IncidentType,
    ResponseGroup,
    Review,
    State,
    WarningLevel,
)
from incidents.roles import (
    ANY_ROLE,
    ASSESSORS,
    COORDINATORS,
    LEADERS,
    Role,
    user_has_role,
    user_organization_id,
)
from incidents.services.deadlines import deadlines_plan
from incidents.services.locking import incident_lock, incident_touch
from incidents.services.timeline import timeline_record

CLOCK_SKEW = timedelta(minutes=5)
EDITABLE_FIELDS = (
    "title",
    "description",
    "source_links",
    "platform",
    "discovered_at",
    "incident_type",
    "category",
    "is_drill",
)

# Why a transition's condition failed, in the words a user needs.
CONDITION_MESSAGES = {
    "issue_warning": _("发布预警前须先录入研判意见。"),
    "archive": _("归档前须先完成总结评估。"),
}


def _require_unit_role(actor: Any, organization_id: int, *roles: Role, message: str) -> None:
    if not user_has_role(actor, organization_id, *roles):
        raise NotPermitted(message)


def _check_plan_part(part: Any, plan_id: int, field: str) -> None:
    if part is not None and part.plan_id != plan_id:
        raise DomainError(_("所选项目不属于本事件适用的预案版本。"), field=field)


def _check_discovered_at(discovered_at: datetime | None) -> None:
    if discovered_at is None:
        raise DomainError(_("请填写发现时间。"), field="discovered_at")
    if discovered_at > timezone.now() + CLOCK_SKEW:
        raise DomainError(_("发现时间不能晚于当前时间。"), field="discovered_at")


def _event_payload(incident: Incident, **extra: Any) -> dict[str, Any]:
    return {
        "incident_id": incident.pk,
        "organization_id": incident.organization_id,
        "state": incident.state,
        "level": incident.level.name if incident.level else None,
        **extra,
    }


def incident_create(
    *,
    actor: Any,
    title: str,
    discovered_at: datetime,
    description: str = "",
    source_links: str = "",
    platform: str = "other",
    incident_type: IncidentType | None = None,
    category: HandlingCategory | None = None,
    is_drill: bool = False,
) -> Incident:
    """Log an incident in the actor's unit under its active plan, and plan its clocks."""
    organization_id = user_organization_id(actor)
    if organization_id is None or not user_has_role(actor, organization_id, *ANY_ROLE):
        raise NotPermitted(_("只有本单位应急工作组成员可以登记舆情。"))
    title = (title or "").strip()
    if not title:
        raise DomainError(_("请填写标题。"), field="title")
    _check_discovered_at(discovered_at)
    with transaction.atomic():
        plan = EmergencyPlan.objects.filter(organization_id=organization_id, status=EmergencyPlan.Status.ACTIVE).first()
        if plan is None:
            raise DomainError(_("本单位尚未启用应急预案，请联系管理员。"), code="no_active_plan")
        _check_plan_part(incident_type, plan.pk, "incident_type")
        _check_plan_part(category, plan.pk, "category")
        incident = Incident.objects.create(
            organization_id=organization_id,
            plan=plan,
            title=title,
            description=description,
            source_links=source_links,
            platform=platform,
            discovered_at=discovered_at,
            reporter=actor,
            incident_type=incident_type,
            category=category,
            is_drill=is_drill,
        )
        timeline_record(
            incident=incident,
            kind="created",
            actor=actor,
            summary=_("登记舆情：%(title)s") % {"title": title},
            to_state=incident.state,
            occurred_at=discovered_at,
            details={"discovered_at": discovered_at.isoformat(), "plan_version": plan.version},
        )
        deadlines_plan(incident=incident, actor=actor, reason=_("登记"))
        events.publish(events.INCIDENT_CREATED, _event_payload(incident))
    return incident


def incident_update(*, incident_id: int, actor: Any, expected_version: int | None = None, **changes: Any) -> Incident:
    """Edit an open incident's facts; the timeline keeps old and new values."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            _("不能修改字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))}, field=sorted(unknown)[0]
        )
    with transaction.atomic():
        incident = incident_lock(incident_id, expected_version)
        _require_unit_role(
            actor, incident.organization_id, *ANY_ROLE, message=_("只有本单位应急工作组成员可以修改舆情。")
        )
        if not incident.is_open:
            raise InvalidTransition(_("已办结的舆情不能修改。"))
        if "title" in changes:
            changes["title"] = (changes["title"] or "").strip()
            if not changes["title"]:
                raise DomainError(_("请填写标题。"), field="title")
        if "discovered_at" in changes:
            _check_discovered_at(changes["discovered_at"])
        _check_plan_part(changes.get("incident_type"), incident.plan_id, "incident_type")
        _check_plan_part(changes.get("category"), incident.plan_id, "category")
        diff = {}
        for field, value in changes.items():
            old = getattr(incident, field)
            if old != value:
                diff[field] = {
                    "from": str(old) if old is not None else None,
                    "to": str(value) if value is not None else None,
                }
                setattr(incident, field, value)
        if not diff:
            return incident
        incident_touch(incident, *diff.keys())
        timeline_record(
            incident=incident, kind="edited", actor=actor, summary=_("修改舆情信息"), details={"changes": diff}
        )
        if {"category", "discovered_at"} & diff.keys():
            deadlines_plan(incident=incident, actor=actor, reason=_("信息修改"))
        events.publish(events.INCIDENT_UPDATED, _event_payload(incident, changes=sorted(diff)))
    return incident


def _transition(
    *,
    incident_id: int,
    actor: Any,
    method_name: str,
    expected_version: int | None,
    summary: str,
    details: dict[str, Any] | None = None,
    check: Any = None,
    after: Any = None,
    **kwargs: Any,
) -> Incident:
    try:
        with transaction.atomic():
            incident = incident_lock(incident_id, expected_version)
            method = getattr(incident, method_name)
            meta = method._django_fsm
            state = incident.state
            if not meta.has_transition(state):
                raise InvalidTransition(
                    _("当前状态为“%(state)s”，不能执行此操作。") % {"state": incident.get_state_display()}
                )
            if not meta.has_transition_perm(incident, state, actor):
                raise NotPermitted(_("您没有执行此操作的权限。"))
            if check is not None:
                check(incident)
            if not meta.conditions_met(incident, state):
                raise InvalidTransition(CONDITION_MESSAGES.get(method_name, _("不满足执行此操作的条件。")))
            method(**kwargs)
            incident.version += 1
            incident.save()
            timeline_record(
                incident=incident,
                kind="transition",
                actor=actor,
                summary=summary,
                from_state=state,
                to_state=incident.state,
                details=details or {},
            )
            if after is not None:
                after(incident)
            events.publish(
                events.INCIDENT_TRANSITIONED,
                _event_payload(incident, transition=method_name, from_state=state, to_state=incident.state),
            )
    except ConcurrentTransition as exc:
        raise StaleObject(_("该舆情已被他人更新，请刷新页面后再操作。")) from exc
    return incident


def incident_start_assessment(*, incident_id: int, actor: Any, expected_version: int | None = None) -> Incident:
    return _transition(
        incident_id=incident_id,
        actor=actor,
        method_name="start_assessment",
        expected_version=expected_version,
        summary=_("转入研判"),
    )


def _level_check(level: WarningLevel | None, actor: Any) -> Any:
    def check(incident: Incident) -> None:
        if level is None:
            raise DomainError(_("请选择预警级别。"), field="level")
        if level.plan_id != incident.plan_id:
            raise DomainError(_("所选级别不属于本事件适用的预案版本。"), field="level")
        if level.requires_leader and not user_has_role(actor, incident.organization_id, Role.LEADER):
            raise NotPermitted(
                _("发布或调整为“%(level)s”须由领导小组成员决定。") % {"level": level.name}, field="level"
            )

    return check


def _after_level_set(actor: Any, reason: str) -> Any:
    def after(incident: Incident) -> None:
        if incident.level and incident.level.response_tier == WarningLevel.Tier.SUPERIOR and not incident.escalated_at:
            _escalate(incident, actor, _("级别对应上级主管部门处置，自动上报"))
        deadlines_plan(incident=incident, actor=actor, reason=reason)

    return after


def incident_issue_warning(
    *, incident_id: int, actor: Any, level: WarningLevel | None, expected_version: int | None = None
) -> Incident:
    """Issue the warning at `level`; levels that require it can only be issued by a leader."""
    return _transition(
        incident_id=incident_id,
        actor=actor,
        method_name="issue_warning",
        expected_version=expected_version,
        summary=_("发布%(level)s预警，启动预案") % {"level": level.name if level else ""},
        details={"level": level.name if level else None},
        check=_level_check(level, actor),
        after=_after_level_set(actor, _("发布预警")),
        level=level,
        at=timezone.now(),
    )


def incident_change_level(
    *, incident_id: int, actor: Any, level: WarningLevel | None, reason: str, expected_version: int | None = None
) -> Incident:
    """Raise or lower the level of an open incident, with a reason; deadlines are re-planned."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写调整级别的理由。"), field="reason")
    try:
        with transaction.atomic():
            incident = incident_lock(incident_id, expected_version)
            method = incident.change_level
            meta = method._django_fsm  # type: ignore[attr-defined]
            if not meta.has_transition(incident.state):
                raise InvalidTransition(
                    _("当前状态为“%(state)s”，不能调整级别。") % {"state": incident.get_state_display()}
                )
            if not meta.has_transition_perm(incident, incident.state, actor):
                raise NotPermitted(_("您没有调整级别的权限。"))
            _level_check(level, actor)(incident)
            current = incident.level
            if (
                current is not None
                and current.requires_leader
                and not user_has_role(actor, incident.organization_id, Role.LEADER)
            ):
                raise NotPermitted(_("“%(level)s”级别须由领导小组成员调整。") % {"level": current.name}, field="level")
            old = incident.level
            if old is not None and old.pk == level.pk:  # type: ignore[union-attr]
                raise DomainError(_("新级别与当前级别相同。"), field="level")
            method(level=level)
            incident_touch(incident, "level")
            direction = _("上调") if old is None or level.rank < old.rank else _("下调")  # type: ignore[union-attr]
            timeline_record(
                incident=incident,
                kind="level",
                actor=actor,
                summary=_("%(direction)s预警级别：%(old)s → %(new)s（%(reason)s）")
                % {"direction": direction, "old": old.name if old else "—", "new": level.name, "reason": reason},  # type: ignore[union-attr]
                details={"from": old.name if old else None, "to": level.name, "reason": reason},  # type: ignore[union-attr]
            )
            _after_level_set(actor, _("级别调整"))(incident)
            events.publish(
                events.INCIDENT_LEVEL_CHANGED,
                _event_payload(incident, from_level=old.name if old else None, to_level=level.name),  # type: ignore[union-attr]
            )
    except ConcurrentTransition as exc:
        raise StaleObject(_("该舆情已被他人更新，请刷新页面后再操作。")) from exc
    return incident


def incident_dismiss(*, incident_id: int, actor: Any, reason: str, expected_version: int | None = None) -> Incident:
    """End an assessment as 'not an incident'; the reason is required and kept."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写排除理由。"), field="reason")

    return _transition(
        incident_id=incident_id,
        actor=actor,
        method_name="dismiss",
        expected_version=expected_version,
        summary=_("经研判排除：%(reason)s") % {"reason": reason},
        details={"reason": reason},
        after=lambda incident: deadlines_plan(incident=incident, actor=actor, reason=_("排除")),
        reason=reason,
        at=timezone.now(),
    )


def incident_start_response(*, incident_id: int, actor: Any, expected_version: int | None = None) -> Incident:
    return _transition(
        incident_id=incident_id,
        actor=actor,
        method_name="start_response",
        expected_version=expected_version,
        summary=_("转入处置"),
    )


def incident_start_tracking(*, incident_id: int, actor: Any, expected_version: int | None = None) -> Incident:
    return _transition(
        incident_id=incident_id,
        actor=actor,
        method_name="start_tracking",
        expected_version=expected_version,
        summary=_("处置完成，转入动态跟踪"),
    )


def incident_rebound(*, incident_id: int, actor: Any, reason: str, expected_version: int | None = None) -> Incident:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请说明舆情反弹的情况。"), field="reason")
    return _transition(
        incident_id=incident_id,
        actor=actor,
        method_name="rebound",
        expected_version=expected_version,
        summary=_("舆情反弹，重新处置：%(reason)s") % {"reason": reason},
        details={"reason": reason},
    )


def incident_start_review(*, incident_id: int, actor: Any, expected_version: int | None = None) -> Incident:
    return _transition(
        incident_id=incident_id,
        actor=actor,
        method_name="start_review",
        expected_version=expected_version,
        summary=_("舆情平息，转入总结评估"),
    )


def incident_archive(*, incident_id: int, actor: Any, expected_version: int | None = None) -> Incident:
    return _transition(
        incident_id=incident_id,
        actor=actor,
        method_name="archive",
        expected_version=expected_version,
        summary=_("归档"),
        after=lambda incident: deadlines_plan(incident=incident, actor=actor, reason=_("归档")),
        at=timezone.now(),
    )


def _escalate(incident: Incident, actor: Any, note: str) -> None:
    incident.escalated_at = timezone.now()
    incident_touch(incident, "escalated_at")
    timeline_record(incident=incident, kind="escalation", actor=actor, summary=note)


def incident_escalate(*, incident_id: int, actor: Any, note: str, expected_version: int | None = None) -> Incident:
    """Report the incident to the superior unit, which can then see it."""
    with transaction.atomic():
        incident = incident_lock(incident_id, expected_version)
        _require_unit_role(actor, incident.organization_id, *LEADERS, message=_("只有领导小组成员可以上报上级。"))
        if incident.organization.parent_id is None:
            raise DomainError(_("本单位未设置上级主管部门。"), code="no_superior")
        if incident.escalated_at:
            raise InvalidTransition(_("该舆情已上报上级主管部门。"))
        _escalate(incident, actor, _("上报上级主管部门：%(note)s") % {"note": (note or "").strip() or "—"})
    return incident


def incident_assign_groups(
    *, incident_id: int, actor: Any, groups: list[ResponseGroup], expected_version: int | None = None
) -> Incident:
    """Set the working groups that handle the incident."""
    with transaction.atomic():
        incident = incident_lock(incident_id, expected_version)
        _require_unit_role(
            actor, incident.organization_id, *COORDINATORS, message=_("只有领导小组或其办公室可以分派工作组。")
        )
        if not incident.is_open:
            raise InvalidTransition(_("已办结的舆情不能分派。"))
        if any(group.organization_id != incident.organization_id for group in groups):
            raise DomainError(_("只能分派本单位的工作组。"), field="groups")
        before = {g.pk: g.name for g in incident.assigned_groups.all()}
        after = {g.pk: g.name for g in groups}
        if before == after:
            return incident
        incident.assigned_groups.set(groups)
        incident_touch(incident)
        timeline_record(
            incident=incident,
            kind="assignment",
            actor=actor,
            summary=_("承办工作组：%(groups)s") % {"groups": "、".join(after.values()) or "—"},
            details={"from": sorted(before.values()), "to": sorted(after.values())},
        )
    return incident


ASSESSMENT_STATES = (State.ASSESSING, State.WARNING, State.RESPONDING, State.TRACKING)


def assessment_record(
    *,
    incident_id: int,
    actor: Any,
    nature: str,
    scope: str,
    trend: str,
    risk: str,
    proposed_level: WarningLevel | None = None,
    proposed_category: HandlingCategory | None = None,
    recommendation: str = "",
) -> Assessment:
    """Record the analysts' judgement; a proposed category becomes the incident's category if it has none."""
    with transaction.atomic():
        incident = incident_lock(incident_id)
        _require_unit_role(
            actor, incident.organization_id, *ASSESSORS, message=_("只有研判组、领导小组或其办公室可以录入研判意见。")
        )
        if incident.state not in ASSESSMENT_STATES:
            raise InvalidTransition(
                _("当前状态为“%(state)s”，不能录入研判意见。") % {"state": incident.get_state_display()}
            )
        for field, value in (("nature", nature), ("scope", scope)):
            if not (value or "").strip():
                raise DomainError(_("此项为必填项。"), field=field)
        if trend not in Assessment.Trend.values:
            raise DomainError(_("请选择发展趋势。"), field="trend")
        if risk not in Assessment.Risk.values:
            raise DomainError(_("请选择风险等级。"), field="risk")
        _check_plan_part(proposed_level, incident.plan_id, "proposed_level")
        _check_plan_part(proposed_category, incident.plan_id, "proposed_category")
        assessment = Assessment.objects.create(
            incident=incident,
            author=actor,
            nature=nature.strip(),
            scope=scope.strip(),
            trend=trend,
            risk=risk,
            proposed_level=proposed_level,
            proposed_category=proposed_category,
            recommendation=recommendation,
        )
        summary = _("研判：风险%(risk)s，趋势%(trend)s") % {
            "risk": assessment.get_risk_display(),
            "trend": assessment.get_trend_display(),
        }
        if proposed_level:
            summary += _("，建议%(level)s") % {"level": proposed_level.name}
        timeline_record(
            incident=incident, kind="assessment", actor=actor, summary=summary, details={"assessment_id": assessment.pk}
        )
        if proposed_category and incident.category_id is None:
            incident.category = proposed_category
            incident_touch(incident, "category")
            deadlines_plan(incident=incident, actor=actor, reason=_("确定处置类别"))
        else:
            incident_touch(incident)
    return assessment


def review_record(
    *,
    incident_id: int,
    actor: Any,
    summary: str,
    evaluation: str,
    lessons: str = "",
    plan_suggestions: str = "",
    accountability: str = "",
) -> Review:
    """Write the closing summary and evaluation (总结评估); archiving needs it."""
    with transaction.atomic():
        incident = incident_lock(incident_id)
        _require_unit_role(
            actor, incident.organization_id, *COORDINATORS, message=_("只有领导小组或其办公室可以填写总结评估。")
        )
        if incident.state != State.REVIEWING:
            raise InvalidTransition(_("只有处于“总结”阶段的舆情可以填写总结评估。"))
        if Review.objects.filter(incident=incident).exists():
            raise DomainError(_("该舆情已有总结评估。"), code="duplicate")
        for field, value in (("summary", summary), ("evaluation", evaluation)):
            if not (value or "").strip():
                raise DomainError(_("此项为必填项。"), field=field)
        review = Review.objects.create(
            incident=incident,
            author=actor,
            summary=summary.strip(),
            evaluation=evaluation.strip(),
            lessons=lessons,
            plan_suggestions=plan_suggestions,
            accountability=accountability,
        )
        incident_touch(incident)
        timeline_record(
            incident=incident, kind="review", actor=actor, summary=_("完成总结评估"), details={"review_id": review.pk}
        )
    return review
