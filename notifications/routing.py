"""Who hears what: every domain event that reaches people or other systems is routed here, and only here.

Each listener runs inside the transaction of the change (subscribed with in_transaction=True), so
the notifications and deliveries commit with the change or not at all. For each event it decides
the people and groups to tell and the words, and hands one Message to the outbox, which also
delivers the event to the unit's systems subscribed to it (signed webhooks).

The people on each rung of a missed clock's escalation are decided by the clock itself (the plan's
chain, incidents.escalation), which records them on the timeline; the event carries them here.
Messages are written in the unit's language (settings.LANGUAGE_CODE), name the unit and the
incident number, and link to the incident with an absolute address (SITE_URL).
"""

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents import events
from incidents.models import DeadlineSignal, Incident, Report, Statement, Task
from notifications.services import Message, notifications_send_many
from opinion_ops.links import absolute_reverse
from organizations.models import GroupMember, ResponseGroup
from organizations.selectors import person_name

# The events another system can subscribe to (a unit's signed webhooks), with their labels.
WEBHOOK_EVENTS: dict[str, Any] = {
    events.INCIDENT_CREATED: gettext_lazy("登记舆情"),
    events.INCIDENT_UPDATED: gettext_lazy("舆情信息修改"),
    events.INCIDENT_TRANSITIONED: gettext_lazy("舆情状态变更"),
    events.INCIDENT_LEVEL_CHANGED: gettext_lazy("预警级别调整"),
    events.INCIDENT_ESCALATED: gettext_lazy("上报上级主管部门"),
    events.DEADLINE_REMINDER: gettext_lazy("时限到期提醒"),
    events.DEADLINE_MISSED: gettext_lazy("时限逾期"),
    events.DEADLINE_ESCALATED: gettext_lazy("时限逾期逐级上报"),
    events.DEADLINE_ACKNOWLEDGED: gettext_lazy("逾期时限已确认督办"),
    events.DEADLINE_MET: gettext_lazy("时限完成"),
    events.DEADLINE_WAIVED: gettext_lazy("时限豁免"),
    events.DEADLINE_CLOSED: gettext_lazy("时限确认不再适用"),
    events.DEADLINE_CONFIRMED: gettext_lazy("时限确认按时完成"),
    events.STATEMENT_SUBMITTED: gettext_lazy("回应稿提交审定"),
    events.STATEMENT_APPROVED: gettext_lazy("回应稿审定通过"),
    events.STATEMENT_REJECTED: gettext_lazy("回应稿退回修改"),
    events.STATEMENT_PUBLISHED: gettext_lazy("回应已发布"),
    events.REPORT_RECORDED: gettext_lazy("记录报告"),
    events.TASK_ASSIGNED: gettext_lazy("交办任务"),
}

DUE = "%m-%d %H:%M"


class Audience:
    """People and groups to tell about one event, and what to tell them."""

    def __init__(
        self, users: list[Any] | None = None, groups: list[Any] | None = None, title: str = "", body: str = ""
    ):
        self.users = users or []
        self.groups = groups or []
        self.title = title
        self.body = body


def _members(group: ResponseGroup | None) -> list[Any]:
    if group is None:
        return []
    return [m.user for m in GroupMember.objects.filter(group=group).select_related("user") if m.user.is_active]


def _leadership(organization_id: int | None) -> ResponseGroup | None:
    if organization_id is None:
        return None
    return (
        ResponseGroup.objects.filter(organization_id=organization_id, kind=ResponseGroup.Kind.LEADERSHIP)
        .order_by("id")
        .first()
    )


def _about(payload: dict[str, Any]) -> dict[str, str]:
    """The unit, the incident number and title, and the absolute link, for the message text."""
    if "incident_reference" in payload and "organization_name" in payload:
        unit, reference, title = payload["organization_name"], payload["incident_reference"], payload["incident_title"]
    else:
        incident = Incident.objects.select_related("organization").get(pk=payload["incident_id"])
        unit, reference, title = incident.organization.name, incident.reference, incident.title
    return {
        "unit": unit,
        "ref": reference,
        "title": title,
        "url": absolute_reverse("incident_detail", payload["incident_id"]),
    }


def _footer(about: dict[str, str]) -> str:
    return _("单位：%(unit)s\n舆情：%(ref)s %(title)s\n查看：%(url)s") % about


def _due(payload: dict[str, Any]) -> str:
    due = parse_datetime(payload["due_at"])
    return timezone.localtime(due).strftime(DUE) if due else ""


# --- the routes, one per event that reaches people


def _deadline_reminder(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    values = {**about, "name": payload["name"], "minutes": payload["minutes_before"], "due": _due(payload)}
    return Audience(
        payload["recipients"],
        payload["groups"],
        _("【%(minutes)s 分钟后到期】%(name)s · %(unit)s %(ref)s") % values,
        _("“%(name)s”将于 %(due)s 到期，请按时完成。") % values + "\n" + _footer(about),
    )


def _deadline_missed(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    values = {**about, "name": payload["name"], "due": _due(payload)}
    return Audience(
        payload["recipients"],
        payload["groups"],
        _("【已逾期】%(name)s · %(unit)s %(ref)s") % values,
        _("“%(name)s”已于 %(due)s 到期未完成，请立即办理。") % values + "\n" + _footer(about),
    )


def _deadline_escalated(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    values = {**about, "name": payload["name"], "due": _due(payload), "rung": payload["rung_label"]}
    return Audience(
        payload["recipients"],
        payload["groups"],
        _("【逾期升级·%(rung)s】%(name)s · %(unit)s %(ref)s") % values,
        _("“%(name)s”已于 %(due)s 到期仍未完成，已逐级上报至%(rung)s。请确认并督办。") % values + "\n" + _footer(about),
    )


def _deadline_acknowledged(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    """Everyone the escalation reached hears who took charge (but the person who did)."""
    reached: set[int] = set()
    for recipients in DeadlineSignal.objects.filter(deadline_id=payload["deadline_id"]).values_list(
        "recipients", flat=True
    ):
        reached.update(recipients or [])
    reached.discard(payload["acknowledged_by"])
    from django.contrib.auth import get_user_model

    who = get_user_model().objects.filter(pk=payload["acknowledged_by"]).first()
    values = {**about, "name": payload["name"], "who": person_name(who)}
    return Audience(
        list(reached),
        [],
        _("【已确认督办】%(name)s · %(unit)s %(ref)s") % values,
        _("逾期时限“%(name)s”已由 %(who)s 确认并督办，停止逐级上报。") % values + "\n" + _footer(about),
    )


def _statement_submitted(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    group = _leadership(payload["organization_id"])
    values = {**about, "statement": payload["title"]}
    return Audience(
        _members(group),
        [group] if group else [],
        _("【待审定】%(statement)s · %(unit)s %(ref)s") % values,
        _("“%(title)s”的回应稿“%(statement)s”已提交审定。") % values + "\n" + _footer(about),
    )


def _statement_decided(payload: dict[str, Any], about: dict[str, str], approved: bool) -> Audience:
    statement = Statement.objects.select_related("created_by").get(pk=payload["statement_id"])
    values = {**about, "statement": statement.title, "comment": payload.get("comment") or "—"}
    title = (
        _("【已审定】%(statement)s · %(unit)s %(ref)s")
        if approved
        else _("【退回修改】%(statement)s · %(unit)s %(ref)s")
    )
    body = _("回应稿“%(statement)s”已审定同意，可以发布。") if approved else _("回应稿“%(statement)s”被退回修改。")
    return Audience(
        [statement.created_by],
        [],
        title % values,
        body % values + "\n" + _("审定意见：%(comment)s") % values + "\n" + _footer(about),
    )


def _task_assigned(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    task = Task.objects.select_related("assignee", "assignee_group").get(pk=payload["task_id"])
    users, groups = (
        ([task.assignee], []) if task.assignee_id else (_members(task.assignee_group), [task.assignee_group])
    )
    values = {**about, "task": task.title}
    return Audience(
        users,
        groups,
        _("【新任务】%(task)s · %(unit)s %(ref)s") % values,
        _("交办给您的任务：%(task)s") % values + "\n" + _footer(about),
    )


def _superior_leaders(organization_id: int) -> tuple[list[Any], list[Any]]:
    from organizations.models import Organization

    parent_id = Organization.objects.filter(pk=organization_id).values_list("parent_id", flat=True).first()
    group = _leadership(parent_id)
    return _members(group), [group] if group else []


def _incident_escalated(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    users, groups = _superior_leaders(payload["organization_id"])
    values = {**about, "note": payload.get("note") or ""}
    return Audience(
        users,
        groups,
        _("【下级单位上报】%(unit)s %(ref)s %(title)s") % values,
        _("%(unit)s上报舆情：%(note)s") % values + "\n" + _footer(about),
    )


def _report_recorded(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    if not payload.get("to_superior"):
        return Audience()
    report = Report.objects.get(pk=payload["report_id"])
    users, groups = _superior_leaders(payload["organization_id"])
    values = {**about, "kind": report.get_kind_display()}
    return Audience(
        users,
        groups,
        _("【下级单位报告】%(unit)s %(ref)s %(kind)s") % values,
        _("%(unit)s就“%(title)s”报送%(kind)s。") % values + "\n" + _footer(about),
    )


ROUTES: dict[str, Callable[[dict[str, Any], dict[str, str]], Audience]] = {
    events.DEADLINE_REMINDER: _deadline_reminder,
    events.DEADLINE_MISSED: _deadline_missed,
    events.DEADLINE_ESCALATED: _deadline_escalated,
    events.DEADLINE_ACKNOWLEDGED: _deadline_acknowledged,
    events.STATEMENT_SUBMITTED: _statement_submitted,
    events.STATEMENT_APPROVED: lambda payload, about: _statement_decided(payload, about, approved=True),
    events.STATEMENT_REJECTED: lambda payload, about: _statement_decided(payload, about, approved=False),
    events.TASK_ASSIGNED: _task_assigned,
    events.INCIDENT_ESCALATED: _incident_escalated,
    events.REPORT_RECORDED: _report_recorded,
}


def _message(event: str, payload: dict[str, Any]) -> Message | None:
    about = _about(payload) if payload.get("incident_id") else {}
    audience = ROUTES[event](payload, about) if event in ROUTES else Audience()
    if not audience.users and not audience.groups and event not in WEBHOOK_EVENTS:
        return None
    return Message(
        key=payload.get("key") or f"event:{event}:{uuid.uuid4().hex}",
        kind=event,
        title=audience.title,
        body=audience.body,
        url=about.get("url", ""),
        recipients=audience.users,
        groups=audience.groups,
        incident=payload.get("incident_id"),
        deadline=payload.get("deadline_id"),
        organization_id=payload.get("organization_id"),
        payload=payload if event in WEBHOOK_EVENTS else None,
    )


def route_many(items: list[tuple[str, dict[str, Any]]]) -> None:
    """Turn domain events into outbox messages (people, groups, subscribed systems), written together."""
    with translation.override(settings.LANGUAGE_CODE):
        messages = [message for event, payload in items if (message := _message(event, payload)) is not None]
    notifications_send_many(messages=messages)


def route(event: str, payload: dict[str, Any]) -> None:
    """The listener for one event (route_many when the publisher batches, e.g. the clock sweeper)."""
    route_many([(event, payload)])


def connect() -> None:
    for event in sorted(set(ROUTES) | set(WEBHOOK_EVENTS)):
        events.subscribe(event, route, in_transaction=True, many=route_many)
