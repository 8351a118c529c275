"""Logging incidents and moving them through their lifecycle.

Each function is one action: it locks the incident, asks incidents.policies whether the actor may
take the action now, applies the django-fsm transition, records the timeline entry and publishes
its event, all in one transaction, retried as a whole when it loses a deadlock.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from incidents import events, policies
from incidents.models import (
    Assessment,
    Deadline,
    EmergencyPlan,
    HandlingCategory,
    Incident,
    IncidentNumber,
    IncidentType,
    Platform,
    Review,
    WarningLevel,
    WarningNotice,
    WarningNoticeGroup,
)
from incidents.services.deadline_clock import deadlines_resume_for_superior
from incidents.services.deadlines import deadline_decide_locked, deadlines_plan
from incidents.services.locking import clocks_lock, incident_lock, incident_touch
from incidents.services.timeline import timeline_record
from opinion_ops.db import retry_on_conflict
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted, StaleObject
from opinion_ops.links_policy import http_urls_check
from organizations.models import ResponseGroup
from organizations.roles import Role, user_has_role, user_organization_id, user_roles

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
# How much faster than real time an incident's clocks may run (Incident.clock_speed; only drills above 1).
CLOCK_SPEEDS = (1, 10, 60)
# How a clock still counting is settled when the incident moves on to 总结.
CLOCK_RESOLUTIONS = {"waive": "waive_deadline", "not_applicable": "close_deadline"}


def _check_plan_part(part: Any, plan_id: int, field: str) -> None:
    if part is not None and part.plan_id != plan_id:
        raise DomainError(_("所选项目不属于本事件适用的预案版本。"), field=field)


def discovered_at_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The discovery times an incident may have: within INCIDENT_DISCOVERED_MAX_AGE_DAYS before now,
    and not in the future (beyond a few minutes of clock skew)."""
    now = now or timezone.now()
    return now - timedelta(days=settings.INCIDENT_DISCOVERED_MAX_AGE_DAYS), now + CLOCK_SKEW


def _check_discovered_at(discovered_at: datetime | None) -> None:
    if discovered_at is None:
        raise DomainError(_("请填写发现时间。"), field="discovered_at")
    earliest, latest = discovered_at_bounds()
    if discovered_at > latest:
        raise DomainError(_("发现时间不能晚于当前时间。"), field="discovered_at")
    if discovered_at < earliest:
        raise DomainError(
            _("发现时间不能早于 %(days)s 天前（%(earliest)s）；更早的事件请在情况描述中说明。")
            % {
                "days": settings.INCIDENT_DISCOVERED_MAX_AGE_DAYS,
                "earliest": timezone.localtime(earliest).strftime("%Y-%m-%d"),
            },
            field="discovered_at",
        )


def _event_payload(incident: Incident, **extra: Any) -> dict[str, Any]:
    return {
        "incident_id": incident.pk,
        "organization_id": incident.organization_id,
        "reference": incident.reference,
        "state": incident.state,
        "level": incident.level.name if incident.level else None,
        **extra,
    }


def _next_reference(organization_id: int, at: datetime) -> str:
    """The unit's next incident number for the year of `at` (local time): 2026-0001, 2026-0002 …"""
    year = timezone.localtime(at).year
    counter, _created = IncidentNumber.objects.select_for_update().get_or_create(
        organization_id=organization_id, year=year
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{year}-{counter.last:04d}"


@retry_on_conflict
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
    logged_late: bool = False,
    clock_speed: int = 1,
) -> Incident:
    """Log an incident in the actor's unit under its active plan, give it the unit's next number
    and plan its clocks. An incident marked `logged_late` (后补登记) records clocks already past due
    as missed without paging anyone. Only a drill may run its clocks faster (`clock_speed` 10 or 60)."""
    organization_id = user_organization_id(actor)
    if organization_id is None or not user_roles(actor, organization_id):
        raise NotPermitted(_("只有本单位应急工作组成员可以登记舆情。"))
    title = (title or "").strip()
    if not title:
        raise DomainError(_("请填写标题。"), field="title")
    if clock_speed not in CLOCK_SPEEDS:
        raise DomainError(_("时限倍速只能是 ×1、×10 或 ×60。"), field="clock_speed")
    if clock_speed != 1 and not is_drill:
        raise DomainError(_("只有演练可以加快时限，真实舆情的时限按预案计时（×1）。"), field="clock_speed")
    _check_discovered_at(discovered_at)
    source_links = http_urls_check(source_links, field="source_links")
    with transaction.atomic():
        plan = EmergencyPlan.objects.filter(organization_id=organization_id, status=EmergencyPlan.Status.ACTIVE).first()
        if plan is None:
            raise DomainError(_("本单位尚未启用应急预案，请联系管理员。"), code="no_active_plan")
        _check_plan_part(incident_type, plan.pk, "incident_type")
        _check_plan_part(category, plan.pk, "category")
        now = timezone.now()
        incident = Incident.objects.create(
            organization_id=organization_id,
            plan=plan,
            reference=_next_reference(organization_id, now),
            title=title,
            description=description,
            source_links=source_links,
            platform=platform,
            discovered_at=discovered_at,
            reporter=actor,
            incident_type=incident_type,
            category=category,
            is_drill=is_drill,
            logged_late=logged_late,
            clock_speed=clock_speed,
        )
        summary = _("登记舆情：%(title)s") % {"title": title}
        if logged_late:
            summary = _("后补登记舆情：%(title)s") % {"title": title}
        timeline_record(
            incident=incident,
            kind="created",
            actor=actor,
            summary=summary,
            to_state=incident.state,
            occurred_at=discovered_at,
            details={
                "discovered_at": discovered_at.isoformat(),
                "plan_version": plan.version,
                "reference": incident.reference,
                "logged_late": logged_late,
            },
        )
        deadlines_plan(incident=incident, actor=actor, reason=_("登记"))
        events.publish(events.INCIDENT_CREATED, _event_payload(incident))
    return incident


def _shown(field: str, value: Any) -> str:
    """A value of an edited fact as the timeline shows it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if field == "platform":
        return str(Platform(value).label) if value in Platform.values else str(value)
    return str(value)


def _edit_summary(diff: dict[str, Any], before: dict[str, Any], incident: Incident, reason: str) -> str:
    """'修改舆情信息：标题“旧”→“新”；发现时间 … → …（理由：…）' — long texts are named, not quoted."""
    parts = []
    for field in diff:
        label = str(Incident._meta.get_field(field).verbose_name)
        if field in ("description", "source_links"):
            parts.append(_("%(field)s已修改") % {"field": label})
        else:
            old, new = _shown(field, before[field]), _shown(field, getattr(incident, field))
            parts.append(_("%(field)s“%(old)s”→“%(new)s”") % {"field": label, "old": old, "new": new})
    summary = _("修改舆情信息：%(changes)s") % {"changes": "；".join(parts)}
    if reason:
        summary += _("（理由：%(reason)s）") % {"reason": reason}
    return summary


@retry_on_conflict
def incident_update(
    *, incident_id: int, actor: Any, expected_version: int | None = None, reason: str = "", **changes: Any
) -> Incident:
    """Edit an open incident's facts; the timeline keeps old and new values. A new discovery time
    needs a reason (kept on the timeline), lies within INCIDENT_DISCOVERED_MAX_AGE_DAYS and not in
    the future, and re-plans the clocks still pending."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            _("不能修改字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))}, field=sorted(unknown)[0]
        )
    reason = (reason or "").strip()
    with transaction.atomic():
        incident = incident_lock(incident_id, expected_version)
        policies.require("edit", actor, incident)
        if "title" in changes:
            changes["title"] = (changes["title"] or "").strip()
            if not changes["title"]:
                raise DomainError(_("请填写标题。"), field="title")
        if "discovered_at" in changes and changes["discovered_at"] != incident.discovered_at:
            _check_discovered_at(changes["discovered_at"])
            if not reason:
                raise DomainError(_("修改发现时间须填写理由，理由将记入处置记录。"), field="reason")
        if changes.get("is_drill") is False and incident.is_drill and incident.clock_speed != 1:
            raise DomainError(
                _("该演练的时限按 ×%(speed)s 加快计时，不能改为真实舆情。") % {"speed": incident.clock_speed},
                field="is_drill",
            )
        if "platform" in changes and changes["platform"] not in Platform.values:
            raise DomainError(_("请选择平台。"), field="platform")
        if "source_links" in changes:
            changes["source_links"] = http_urls_check(changes["source_links"], field="source_links")
        _check_plan_part(changes.get("incident_type"), incident.plan_id, "incident_type")
        _check_plan_part(changes.get("category"), incident.plan_id, "category")
        diff = {}
        before = {}
        for field, value in changes.items():
            old = getattr(incident, field)
            if old != value:
                diff[field] = {
                    "from": str(old) if old is not None else None,
                    "to": str(value) if value is not None else None,
                }
                before[field] = old
                setattr(incident, field, value)
        if not diff:
            return incident
        incident_touch(incident, *diff.keys())
        details: dict[str, Any] = {"changes": diff}
        if "discovered_at" in diff:
            details["reason"] = reason
        timeline_record(
            incident=incident,
            kind="edited",
            actor=actor,
            summary=_edit_summary(diff, before, incident, reason if "discovered_at" in diff else ""),
            details=details,
        )
        if {"category", "discovered_at"} & diff.keys():
            replan = _("更正发现时间") if "discovered_at" in diff else _("信息修改")
            deadlines_plan(incident=incident, actor=actor, reason=replan)
        events.publish(events.INCIDENT_UPDATED, _event_payload(incident, changes=sorted(diff)))
    return incident


@retry_on_conflict
def _transition(
    *,
    incident_id: int,
    actor: Any,
    action: str,
    expected_version: int | None,
    summary: str,
    details: dict[str, Any] | None = None,
    check: Any = None,
    before: Any = None,
    after: Any = None,
    **kwargs: Any,
) -> Incident:
    """Lock, ask the action's rule, run the transition of the same name, record, publish."""
    try:
        with transaction.atomic():
            incident = incident_lock(incident_id, expected_version)
            policies.require(action, actor, incident)
            if check is not None:
                check(incident)
            if before is not None:
                before(incident)
            state = incident.state
            try:
                getattr(incident, action)(**kwargs)
            except TransitionNotAllowed as exc:
                raise InvalidTransition(_("不满足执行此操作的条件。")) from exc
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
                _event_payload(incident, transition=action, from_state=state, to_state=incident.state),
            )
    except ConcurrentTransition as exc:
        raise StaleObject(_("该舆情已被他人更新，请刷新页面后再操作。")) from exc
    return incident


def incident_start_assessment(*, incident_id: int, actor: Any, expected_version: int | None = None) -> Incident:
    return _transition(
        incident_id=incident_id,
        actor=actor,
        action="start_assessment",
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


def _escalate(incident: Incident, actor: Any, note: str) -> None:
    """Report the incident up (call holding its lock): the superior unit can open it from now on,
    is told, and missed clocks whose climb stopped short of it go on to it."""
    incident.escalated_at = timezone.now()
    incident_touch(incident, "escalated_at")
    timeline_record(incident=incident, kind="escalation", actor=actor, summary=note)
    deadlines_resume_for_superior(incident=incident)
    events.publish(
        events.INCIDENT_ESCALATED, _event_payload(incident, note=note, escalated_by=getattr(actor, "pk", None))
    )


def _after_level_set(actor: Any, reason: str) -> Any:
    def after(incident: Incident) -> None:
        if (
            incident.level
            and incident.level.response_tier == WarningLevel.Tier.SUPERIOR
            and not incident.escalated_at
            and incident.organization.parent_id is not None
        ):
            _escalate(incident, actor, _("级别对应上级主管部门处置，自动上报"))
        deadlines_plan(incident=incident, actor=actor, reason=reason)

    return after


NOTICE_TEXT_MAX = 5000
NOTICE_REQUIREMENT_MAX = 1000
# The groups a warning notice assigns, each with what is required of it (may be blank).
Assignments = Sequence[tuple[ResponseGroup, str]]


class _Notice:
    """A warning notice being written: its text and groups, checked under the incident's lock
    (`groups` None: the incident's assigned groups), then recorded and published."""

    def __init__(self, text: str, groups: Assignments | None, kind: str) -> None:
        self.text = (text or "").strip()
        self.given = None if groups is None else [(group, (requirement or "").strip()) for group, requirement in groups]
        self.kind = kind
        self.assignments: list[tuple[ResponseGroup, str]] = []
        if len(self.text) > NOTICE_TEXT_MAX:
            raise DomainError(_("预警内容不超过 %(n)s 个字。") % {"n": NOTICE_TEXT_MAX}, field="text")
        if any(len(requirement) > NOTICE_REQUIREMENT_MAX for _group, requirement in self.given or []):
            raise DomainError(_("每个工作组的要求不超过 %(n)s 个字。") % {"n": NOTICE_REQUIREMENT_MAX}, field="groups")

    def prepare(self, incident: Incident) -> None:
        if self.given is None:
            self.assignments = [(group, "") for group in incident.assigned_groups.order_by("kind", "name")]
            return
        seen: set[int] = set()
        for group, requirement in self.given:
            if group.organization_id != incident.organization_id:
                raise DomainError(_("只能通知本单位的工作组。"), field="groups")
            if group.pk not in seen:
                seen.add(group.pk)
                self.assignments.append((group, requirement))

    def details(self) -> dict[str, Any]:
        """What the timeline entry records of the notice (in the hash chain)."""
        groups = [{"group_id": g.pk, "group": g.name, "requirement": r} for g, r in self.assignments]
        return {"text": self.text, "groups": groups}

    def summary(self, assignments: Assignments | None = None) -> str:
        """The notice in the words of the timeline (before `prepare`, of the groups given)."""
        parts = []
        if self.text:
            parts.append(_("预警内容：%(text)s") % {"text": self.text})
        names = list(dict.fromkeys(g.name for g, _r in (self.assignments if assignments is None else assignments)))
        if names:
            parts.append(_("通知：%(groups)s") % {"groups": "、".join(names)})
        return "；".join(parts)

    def record(self, incident: Incident, actor: Any, level: WarningLevel) -> WarningNotice:
        """Write the notice, assign its groups to the incident, and publish it (holding the lock)."""
        notice = WarningNotice.objects.create(
            incident=incident, kind=self.kind, level=level, text=self.text, issued_by=actor, issued_at=timezone.now()
        )
        WarningNoticeGroup.objects.bulk_create(
            WarningNoticeGroup(notice=notice, group=group, requirement=requirement)
            for group, requirement in self.assignments
        )
        before = {g.pk: g.name for g in incident.assigned_groups.all()}
        added = [group for group, _r in self.assignments if group.pk not in before]
        if added:
            incident.assigned_groups.add(*added)
            after = {**before, **{g.pk: g.name for g in added}}
            timeline_record(
                incident=incident,
                kind="assignment",
                actor=actor,
                summary=_("承办工作组：%(groups)s") % {"groups": "、".join(after.values())},
                details={"from": sorted(before.values()), "to": sorted(after.values()), "notice_id": notice.pk},
            )
        events.publish(
            events.INCIDENT_WARNING_ISSUED,
            _event_payload(
                incident,
                notice_id=notice.pk,
                notice_kind=self.kind,
                notice_level=level.name,
                text=self.text,
                groups=[{"id": g.pk, "name": g.name, "requirement": r} for g, r in self.assignments],
                issued_by=getattr(actor, "pk", None),
            ),
        )
        return notice


def incident_issue_warning(
    *,
    incident_id: int,
    actor: Any,
    level: WarningLevel | None,
    text: str = "",
    groups: Assignments | None = None,
    expected_version: int | None = None,
) -> Incident:
    """Issue the warning at `level` as a notice (预警通知): its text, and the working groups that must
    act with what is required of each (`groups`; None: the groups already assigned). Levels that
    require it can only be issued by a leader. The notice's groups are assigned to the incident and
    told through their channels; the timeline entry carries the notice."""
    notice = _Notice(text, groups, WarningNotice.Kind.ISSUED)
    details: dict[str, Any] = {"level": level.name if level else None}
    summary = _("发布%(level)s预警，启动预案") % {"level": level.name if level else ""}
    if notice.summary(notice.given or []):
        summary += "。" + notice.summary(notice.given or [])

    def check(incident: Incident) -> None:
        _level_check(level, actor)(incident)
        notice.prepare(incident)
        details["notice"] = notice.details()

    def after(incident: Incident) -> None:
        assert level is not None
        notice.record(incident, actor, level)
        _after_level_set(actor, _("发布预警"))(incident)

    return _transition(
        incident_id=incident_id,
        actor=actor,
        action="issue_warning",
        expected_version=expected_version,
        summary=summary,
        details=details,
        check=check,
        after=after,
        level=level,
        at=timezone.now(),
    )


@retry_on_conflict
def incident_change_level(
    *,
    incident_id: int,
    actor: Any,
    level: WarningLevel | None,
    reason: str,
    text: str = "",
    groups: Assignments | None = None,
    expected_version: int | None = None,
) -> Incident:
    """Raise or lower the level of an open incident, with a reason; pending clocks are re-planned
    (clocks already met or missed stay as they are). With a notice text or groups, the change is
    also sent as a warning notice (groups None: the groups already assigned)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写调整级别的理由。"), field="reason")
    notice = _Notice(text, groups, WarningNotice.Kind.LEVEL_CHANGED)
    with_notice = bool(notice.text or notice.given)
    try:
        with transaction.atomic():
            incident = incident_lock(incident_id, expected_version)
            policies.require("change_level", actor, incident)
            _level_check(level, actor)(incident)
            assert level is not None
            old = incident.level
            if old is not None and old.pk == level.pk:
                raise DomainError(_("新级别与当前级别相同。"), field="level")
            details: dict[str, Any] = {"from": old.name if old else None, "to": level.name, "reason": reason}
            if with_notice:
                notice.prepare(incident)
                details["notice"] = notice.details()
            incident.change_level(level=level)
            incident_touch(incident, "level")
            direction = _("上调") if old is None or level.rank < old.rank else _("下调")
            summary = _("%(direction)s预警级别：%(old)s → %(new)s（%(reason)s）") % {
                "direction": direction,
                "old": old.name if old else "—",
                "new": level.name,
                "reason": reason,
            }
            if with_notice and notice.summary():
                summary += "。" + notice.summary()
            timeline_record(incident=incident, kind="level", actor=actor, summary=summary, details=details)
            if with_notice:
                notice.record(incident, actor, level)
            _after_level_set(actor, _("级别调整"))(incident)
            events.publish(
                events.INCIDENT_LEVEL_CHANGED,
                _event_payload(incident, from_level=old.name if old else None, to_level=level.name),
            )
    except ConcurrentTransition as exc:
        raise StaleObject(_("该舆情已被他人更新，请刷新页面后再操作。")) from exc
    return incident


def incident_dismiss(*, incident_id: int, actor: Any, reason: str, expected_version: int | None = None) -> Incident:
    """End an assessment as 'not an incident'; the reason is required and kept. Pending clocks no
    longer apply; a missed one stays on record but stops escalating."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写排除理由。"), field="reason")

    return _transition(
        incident_id=incident_id,
        actor=actor,
        action="dismiss",
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
        action="start_response",
        expected_version=expected_version,
        summary=_("转入处置"),
    )


def incident_start_tracking(*, incident_id: int, actor: Any, expected_version: int | None = None) -> Incident:
    return _transition(
        incident_id=incident_id,
        actor=actor,
        action="start_tracking",
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
        action="rebound",
        expected_version=expected_version,
        summary=_("舆情反弹，重新处置：%(reason)s") % {"reason": reason},
        details={"reason": reason},
    )


def _settle_open_clocks(actor: Any, resolutions: dict[int, dict[str, str]]) -> Any:
    """Before leaving 跟踪: each clock still counting must be settled by a leader in the same step —
    waived with a reason, or closed as not applicable with a reason."""

    def before(incident: Incident) -> None:
        open_clocks = clocks_lock(incident, status__in=Deadline.OPEN)
        unsettled = [clock.name for clock in open_clocks if clock.pk not in resolutions]
        if unsettled:
            raise InvalidTransition(
                _("仍有时限在计时：%(clocks)s。请逐项选择豁免或不再适用，并填写理由。")
                % {"clocks": "、".join(unsettled)},
                field="clocks",
            )
        for clock in open_clocks:
            choice = resolutions[clock.pk]
            action = CLOCK_RESOLUTIONS.get(choice.get("resolution", ""))
            if action is None:
                raise DomainError(
                    _("请为时限“%(name)s”选择豁免或不再适用。") % {"name": clock.name}, field=f"clock_{clock.pk}"
                )
            if not (choice.get("reason") or "").strip():
                raise DomainError(_("请填写时限“%(name)s”的理由。") % {"name": clock.name}, field=f"clock_{clock.pk}")
            deadline_decide_locked(
                incident=incident, deadline=clock, action=action, actor=actor, reason=choice["reason"]
            )

    return before


def incident_start_review(
    *,
    incident_id: int,
    actor: Any,
    expected_version: int | None = None,
    clocks: dict[int, dict[str, str]] | None = None,
) -> Incident:
    """Move on to 总结评估. No clock may still be counting: a leader settles each open one in the same
    step (`clocks`: {deadline id: {"resolution": "waive" | "not_applicable", "reason": …}}), and the
    timeline records which way."""
    return _transition(
        incident_id=incident_id,
        actor=actor,
        action="start_review",
        expected_version=expected_version,
        summary=_("舆情平息，转入总结评估"),
        before=_settle_open_clocks(actor, {int(k): v for k, v in (clocks or {}).items()}),
    )


def incident_archive(*, incident_id: int, actor: Any, expected_version: int | None = None) -> Incident:
    return _transition(
        incident_id=incident_id,
        actor=actor,
        action="archive",
        expected_version=expected_version,
        summary=_("归档"),
        after=lambda incident: deadlines_plan(incident=incident, actor=actor, reason=_("归档")),
        at=timezone.now(),
    )


@retry_on_conflict
def incident_escalate(*, incident_id: int, actor: Any, note: str, expected_version: int | None = None) -> Incident:
    """Report the incident to the superior unit, which can then open it (read-only) and is told."""
    with transaction.atomic():
        incident = incident_lock(incident_id, expected_version)
        policies.require("escalate", actor, incident)
        _escalate(incident, actor, _("上报上级主管部门：%(note)s") % {"note": (note or "").strip() or "—"})
    return incident


def incident_report_up(incident: Incident, actor: Any, what: str) -> None:
    """A record sent to the superior unit reports the incident up (call holding its lock)."""
    if incident.escalated_at is None:
        _escalate(incident, actor, _("随%(what)s上报上级主管部门") % {"what": what})


@retry_on_conflict
def incident_assign_groups(
    *, incident_id: int, actor: Any, groups: list[ResponseGroup], expected_version: int | None = None
) -> Incident:
    """Set the working groups that handle the incident."""
    with transaction.atomic():
        incident = incident_lock(incident_id, expected_version)
        policies.require("assign_groups", actor, incident)
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


@retry_on_conflict
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
        policies.require("record_assessment", actor, incident)
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


@retry_on_conflict
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
        policies.require("record_review", actor, incident)
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
