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
from incidents.models import DeadlineSignal, Incident, Report, Statement, StatementVersion, Task
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
    events.INCIDENT_WARNING_ISSUED: gettext_lazy("预警通知"),
    events.INCIDENT_REBOUND: gettext_lazy("舆情热度反弹"),
    events.DEADLINE_REMINDER: gettext_lazy("时限到期提醒"),
    events.DEADLINE_MISSED: gettext_lazy("时限逾期"),
    events.DEADLINE_ESCALATED: gettext_lazy("时限逾期逐级上报"),
    events.DEADLINE_ACKNOWLEDGED: gettext_lazy("逾期时限已确认督办"),
    events.DEADLINE_MET: gettext_lazy("时限完成"),
    events.DEADLINE_WAIVED: gettext_lazy("时限豁免"),
    events.DEADLINE_CLOSED: gettext_lazy("时限确认不再适用"),
    events.DEADLINE_CONFIRMED: gettext_lazy("时限确认按时完成"),
    events.STATEMENT_SUBMITTED: gettext_lazy("回应稿提交审定"),
    events.STATEMENT_WITHDRAWN: gettext_lazy("回应稿撤回"),
    events.STATEMENT_LEGAL_APPROVED: gettext_lazy("回应稿法律审核通过"),
    events.STATEMENT_LEGAL_REJECTED: gettext_lazy("回应稿法律审核退回"),
    events.STATEMENT_APPROVED: gettext_lazy("回应稿审定通过"),
    events.STATEMENT_REJECTED: gettext_lazy("回应稿退回修改"),
    events.STATEMENT_PUBLISHED: gettext_lazy("回应已发布"),
    events.REPORT_RECORDED: gettext_lazy("记录报告"),
    events.REPORT_SIGNED_OFF: gettext_lazy("书面报告已审阅批示"),
    events.TASK_ASSIGNED: gettext_lazy("交办任务"),
    events.ALERT_RAISED: gettext_lazy("监测预警"),
    events.MONITORING_REPORT_ISSUED: gettext_lazy("舆情报告"),
}

DUE = "%m-%d %H:%M"
DRILL_MARK = "【演练】"


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


def _members_of(group_ids: list[int]) -> list[int]:
    """The active people of several groups, once each (one query)."""
    if not group_ids:
        return []
    rows = GroupMember.objects.filter(group_id__in=group_ids, user__is_active=True).order_by("user_id")
    return list(dict.fromkeys(rows.values_list("user_id", flat=True)))


def _groups_of_kind(organization_id: int, *kinds: str) -> list[ResponseGroup]:
    return list(ResponseGroup.objects.filter(organization_id=organization_id, kind__in=kinds).order_by("kind", "id"))


def _but(users: list[Any], *people: int | None) -> list[Any]:
    """`users` (people or ids) without the given people: no one is told of their own act."""
    left_out = {pk for pk in people if pk is not None}
    return [user for user in users if (user if isinstance(user, int) else user.pk) not in left_out]


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
    if "incident_reference" in payload and "organization_name" in payload and "incident_is_drill" in payload:
        unit, reference, title = payload["organization_name"], payload["incident_reference"], payload["incident_title"]
        drill = payload["incident_is_drill"]
    else:
        incident = Incident.objects.select_related("organization").get(pk=payload["incident_id"])
        unit, reference, title, drill = (
            incident.organization.name,
            incident.reference,
            incident.title,
            incident.is_drill,
        )
    # A drill says so in every message, however it was logged (a scenario's title already does).
    if drill and not title.startswith(DRILL_MARK):
        title = DRILL_MARK + title
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


def _lead_time(minutes: int, speed: int) -> str:
    """How long before the due time a reminder comes, in real time: a drill at ×60 counts a
    plan's 10 minutes in 10 seconds."""
    seconds = round(minutes * 60 / max(speed, 1))
    if seconds % 60 == 0:
        return _("%(n)s 分钟") % {"n": seconds // 60}
    return _("%(n)s 秒") % {"n": seconds}


def _deadline_reminder(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    lead = _lead_time(payload["minutes_before"], payload.get("clock_speed") or 1)
    values = {**about, "name": payload["name"], "lead": lead, "due": _due(payload)}
    return Audience(
        payload["recipients"],
        payload["groups"],
        _("【%(lead)s后到期】%(name)s · %(unit)s %(ref)s") % values,
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


def _statement_and_version(payload: dict[str, Any]) -> tuple[Statement, StatementVersion | None]:
    statement = Statement.objects.select_related("incident__plan").get(pk=payload["statement_id"])
    return statement, StatementVersion.objects.filter(statement=statement).order_by("-number").first()


def _approvers(statement: Statement, version: StatementVersion | None, *but: int | None) -> Audience:
    """The leaders who may decide on the statement: under a plan with 审定回避 (four-eyes), neither
    its drafter nor the author of the version to decide."""
    group = _leadership(statement.incident.organization_id)
    left_out = list(but)
    if statement.incident.plan.four_eyes:
        left_out += [statement.created_by_id, version.author_id if version else None]
    return Audience(_but(_members(group), *left_out), [group] if group else [])


def _legal_reviewers(statement: Statement, *but: int | None) -> Audience:
    groups = _groups_of_kind(statement.incident.organization_id, ResponseGroup.Kind.LEGAL)
    return Audience(_but(_members_of([g.pk for g in groups]), *but), groups)


def _drafters(statement: Statement, version: StatementVersion | None, *but: int | None) -> list[int]:
    """Who wrote the statement: its drafter and the author of the version decided on."""
    return _but(list(dict.fromkeys([statement.created_by_id, *([version.author_id] if version else [])])), *but)


def _statement_submitted(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    statement, version = _statement_and_version(payload)
    values = {**about, "statement": payload["title"], "n": version.number if version else 1}
    if payload.get("legal_review"):
        audience = _legal_reviewers(statement, payload.get("submitted_by"))
        audience.title = _("【待法律审核】%(statement)s · %(unit)s %(ref)s") % values
        audience.body = (
            _("“%(title)s”的回应稿“%(statement)s”（第 %(n)s 版）已提交，请法律援助组审核后送领导审定。") % values
            + "\n"
            + _footer(about)
        )
        return audience
    audience = _approvers(statement, version, payload.get("submitted_by"))
    audience.title = _("【待审定】%(statement)s · %(unit)s %(ref)s") % values
    audience.body = _("“%(title)s”的回应稿“%(statement)s”（第 %(n)s 版）已提交审定。") % values + "\n" + _footer(about)
    return audience


def _statement_withdrawn(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    statement, version = _statement_and_version(payload)
    who = payload.get("withdrawn_by")
    if payload.get("legal_review"):
        audience = _legal_reviewers(statement, who)
    else:
        audience = _approvers(statement, version, who)
    values = {**about, "statement": statement.title}
    audience.title = _("【已撤回】%(statement)s · %(unit)s %(ref)s") % values
    audience.body = _("回应稿“%(statement)s”已由起草方撤回，无需再审。") % values + "\n" + _footer(about)
    return audience


def _statement_legal_approved(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    statement, version = _statement_and_version(payload)
    audience = _approvers(statement, version, payload.get("decided_by"))
    values = {**about, "statement": statement.title, "comment": payload.get("comment") or "—"}
    audience.title = _("【待审定·已过法律审核】%(statement)s · %(unit)s %(ref)s") % values
    audience.body = (
        _("回应稿“%(statement)s”已通过法律审核，请领导审定。") % values
        + "\n"
        + _("法律审核意见：%(comment)s") % values
        + "\n"
        + _footer(about)
    )
    return audience


def _statement_decided(payload: dict[str, Any], about: dict[str, str], approved: bool, legal: bool = False) -> Audience:
    """A decision reaches who wrote the statement, with the comment."""
    statement, version = _statement_and_version(payload)
    values = {**about, "statement": statement.title, "comment": payload.get("comment") or "—"}
    if legal:
        title = _("【法律审核退回】%(statement)s · %(unit)s %(ref)s")
        body = _("回应稿“%(statement)s”未通过法律审核，被退回修改。")
        label = _("法律审核意见：%(comment)s")
    elif approved:
        title = _("【已审定】%(statement)s · %(unit)s %(ref)s")
        body = _("回应稿“%(statement)s”已审定同意，可以发布。")
        label = _("审定意见：%(comment)s")
    else:
        title = _("【退回修改】%(statement)s · %(unit)s %(ref)s")
        body = _("回应稿“%(statement)s”被退回修改。")
        label = _("审定意见：%(comment)s")
    return Audience(
        _drafters(statement, version, payload.get("decided_by")),
        [],
        title % values,
        body % values + "\n" + label % values + "\n" + _footer(about),
    )


def _incident_created(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    """A new incident waits for 研判: the analysts and whoever is on duty (the leadership office)."""
    incident = Incident.objects.select_related("reporter").get(pk=payload["incident_id"])
    groups = _groups_of_kind(incident.organization_id, ResponseGroup.Kind.ANALYSIS, ResponseGroup.Kind.OFFICE)
    values = {
        **about,
        "who": person_name(incident.reporter),
        "platform": incident.get_platform_display(),
        "discovered": timezone.localtime(incident.discovered_at).strftime(DUE),
    }
    title = _("【新舆情·待研判】%(title)s · %(unit)s %(ref)s") % values
    body = _("%(who)s 登记了舆情“%(title)s”（%(platform)s，发现于 %(discovered)s），请转入研判。") % values
    if incident.logged_late:
        title = _("【后补登记·待研判】%(title)s · %(unit)s %(ref)s") % values
    if incident.description:
        body += "\n" + _("情况：%(description)s") % {"description": incident.description[:300]}
    return Audience(
        _but(_members_of([g.pk for g in groups]), incident.reporter_id), groups, title, body + "\n" + _footer(about)
    )


def _warning_issued(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    """The warning notice reaches the groups it assigns, with its text and what each must do."""
    groups = payload.get("groups") or []
    values = {**about, "level": payload.get("notice_level") or payload.get("level") or "—"}
    title = (
        _("【%(level)s预警】%(title)s · %(unit)s %(ref)s")
        if payload.get("notice_kind") != "level_changed"
        else _("【预警级别调整为%(level)s】%(title)s · %(unit)s %(ref)s")
    )
    lines = [_("预警级别：%(level)s") % values]
    if payload.get("text"):
        lines.append(_("预警内容：%(text)s") % {"text": payload["text"]})
    if groups:
        lines.append(_("须行动的工作组及要求："))
        for group in groups:
            requirement = group.get("requirement") or _("按预案职责处置")
            lines.append(f"· {group['name']}：{requirement}")
    ids = [group["id"] for group in groups]
    return Audience(
        _but(_members_of(ids), payload.get("issued_by")),
        ids,
        title % values,
        "\n".join(str(line) for line in lines) + "\n" + _footer(about),
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


def _incident_rebound(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    """The heat rose again during 跟踪: the incident's working groups and the leadership group are
    told, with the figures, that the plan suggests returning to 处置."""
    ids = list(payload.get("groups") or [])
    leadership = _leadership(payload["organization_id"])
    if leadership is not None and leadership.pk not in ids:
        ids.append(leadership.pk)
    values = {
        **about,
        "last": payload["last"],
        "low": payload["low"],
        "peak": payload["peak"],
        "share": payload["negative_percent"],
        "window": payload["window"],
    }
    return Audience(
        _members_of(ids),
        ids,
        _("【舆情反弹】%(title)s · %(unit)s %(ref)s") % values,
        _(
            "跟踪期间热度回落后再次上升：截至 %(window)s 的时段 %(last)s 条（此前低点 %(low)s 条，高峰 %(peak)s 条），"
            "负面占比 %(share)s%%。按预案建议转回处置。"
        )
        % values
        + "\n"
        + _footer(about),
    )


def _report_recorded(payload: dict[str, Any], about: dict[str, str]) -> list[Audience]:
    """A written report goes to the leaders who may sign it (under 审定回避 not its reporter); one
    sent up goes to the superior unit as well."""
    report = Report.objects.select_related("incident__plan", "reported_by").get(pk=payload["report_id"])
    audiences = []
    if report.kind == Report.Kind.WRITTEN:
        group = _leadership(payload["organization_id"])
        values = {**about, "who": person_name(report.reported_by), "summary": report.summary[:300]}
        audiences.append(
            Audience(
                _but(_members(group), report.reported_by_id),
                [group] if group else [],
                _("【待审阅】书面报告 · %(unit)s %(ref)s") % values,
                _("%(who)s 就“%(title)s”报送书面报告，请审阅签批。") % values
                + "\n"
                + _("内容摘要：%(summary)s") % values
                + "\n"
                + _footer(about),
            )
        )
    if payload.get("to_superior"):
        users, groups = _superior_leaders(payload["organization_id"])
        values = {**about, "kind": report.get_kind_display()}
        audiences.append(
            Audience(
                users,
                groups,
                _("【下级单位报告】%(unit)s %(ref)s %(kind)s") % values,
                _("%(unit)s就“%(title)s”报送%(kind)s。") % values + "\n" + _footer(about),
            )
        )
    return audiences


def _report_signed_off(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    """The reporter learns that the leader signed, with the 批示."""
    from django.contrib.auth import get_user_model

    report = Report.objects.get(pk=payload["report_id"])
    leader = get_user_model().objects.filter(pk=payload.get("signed_off_by") or 0).first()
    values = {**about, "who": person_name(leader), "comment": payload.get("comment") or "—"}
    return Audience(
        _but([report.reported_by_id], payload.get("signed_off_by")),
        [],
        _("【已审阅】书面报告 · %(unit)s %(ref)s") % values,
        _("%(who)s 已审阅“%(title)s”的书面报告。") % values
        + "\n"
        + _("领导批示：%(comment)s") % values
        + "\n"
        + _footer(about),
    )


def _comment_posted(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    """The people a comment @mentions (the author left out by the service), with its words."""
    values = {**about, "who": payload["author_name"], "text": payload["excerpt"]}
    return Audience(
        payload["recipients"],
        [],
        _("【有人@您】%(who)s · %(unit)s %(ref)s") % values,
        _("%(who)s 在“%(title)s”的讨论中提到了您：\n%(text)s") % values + "\n" + _footer(about),
    )


Route = Callable[[dict[str, Any], dict[str, str]], "Audience | list[Audience]"]


def _alert_raised(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    """A keyword alert: to the people the alert names (on duty by the 值班表, or the 舆情监测组, and
    the scheme's own recipients), decided by monitoring and carried in the event."""
    return Audience(
        users=payload.get("users", []),
        groups=payload.get("groups", []),
        title=_("监测预警（%(severity)s）：%(scheme)s") % payload,
        body=_("%(reason)s，共 %(post_count)s 条信息。\n单位：%(organization_name)s\n查看：%(url)s") % payload,
    )


def _monitoring_report_issued(payload: dict[str, Any], about: dict[str, str]) -> Audience:
    """A 舆情日报/周报/月报/专报: to the people and groups it is sent to (its schedule's subscribers,
    or those its author chose), decided by reports and carried in the event."""
    return Audience(
        users=payload.get("users", []),
        groups=payload.get("groups", []),
        title=_("【%(kind)s】%(title)s") % payload,
        body=_("%(number)s：新登记舆情 %(new)s 起，在办 %(open)s 起，逾期时限 %(missed)s 项。") % payload
        + "\n"
        + _("单位：%(organization_name)s\n查看：%(url)s") % payload,
    )


ROUTES: dict[str, Route] = {
    events.INCIDENT_CREATED: _incident_created,
    events.INCIDENT_WARNING_ISSUED: _warning_issued,
    events.DEADLINE_REMINDER: _deadline_reminder,
    events.DEADLINE_MISSED: _deadline_missed,
    events.DEADLINE_ESCALATED: _deadline_escalated,
    events.DEADLINE_ACKNOWLEDGED: _deadline_acknowledged,
    events.STATEMENT_SUBMITTED: _statement_submitted,
    events.STATEMENT_WITHDRAWN: _statement_withdrawn,
    events.STATEMENT_LEGAL_APPROVED: _statement_legal_approved,
    events.STATEMENT_LEGAL_REJECTED: lambda payload, about: _statement_decided(
        payload, about, approved=False, legal=True
    ),
    events.STATEMENT_APPROVED: lambda payload, about: _statement_decided(payload, about, approved=True),
    events.STATEMENT_REJECTED: lambda payload, about: _statement_decided(payload, about, approved=False),
    events.TASK_ASSIGNED: _task_assigned,
    events.INCIDENT_ESCALATED: _incident_escalated,
    events.INCIDENT_REBOUND: _incident_rebound,
    events.REPORT_RECORDED: _report_recorded,
    events.REPORT_SIGNED_OFF: _report_signed_off,
    events.COMMENT_POSTED: _comment_posted,
    events.ALERT_RAISED: _alert_raised,
    events.MONITORING_REPORT_ISSUED: _monitoring_report_issued,
}


def _messages(event: str, payload: dict[str, Any]) -> list[Message]:
    """One message per audience of the event; the unit's subscribed systems get the event once
    (with the first message)."""
    about = _about(payload) if payload.get("incident_id") else {}
    routed = ROUTES[event](payload, about) if event in ROUTES else Audience()
    audiences = [a for a in (routed if isinstance(routed, list) else [routed]) if a.users or a.groups]
    subscribable = event in WEBHOOK_EVENTS
    if not audiences:
        if not subscribable:
            return []
        audiences = [Audience()]
    key = payload.get("key") or f"event:{event}:{uuid.uuid4().hex}"
    return [
        Message(
            key=key if index == 0 else f"{key}:a{index}",
            kind=event,
            title=audience.title,
            body=audience.body,
            url=about.get("url", "") or payload.get("url", ""),
            recipients=audience.users,
            groups=audience.groups,
            incident=payload.get("incident_id"),
            deadline=payload.get("deadline_id"),
            organization_id=payload.get("organization_id"),
            payload=payload if subscribable and index == 0 else None,
        )
        for index, audience in enumerate(audiences)
    ]


def route_many(items: list[tuple[str, dict[str, Any]]]) -> None:
    """Turn domain events into outbox messages (people, groups, subscribed systems), written together."""
    with translation.override(settings.LANGUAGE_CODE):
        messages = [message for event, payload in items for message in _messages(event, payload)]
    notifications_send_many(messages=messages)


def route(event: str, payload: dict[str, Any]) -> None:
    """The listener for one event (route_many when the publisher batches, e.g. the clock sweeper)."""
    route_many([(event, payload)])


def connect() -> None:
    for event in sorted(set(ROUTES) | set(WEBHOOK_EVENTS)):
        events.subscribe(event, route, in_transaction=True, many=route_many)
