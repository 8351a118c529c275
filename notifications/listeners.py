"""Domain events that reach people: subscribed in NotificationsConfig.ready().

Listeners run inside the transaction of the change (in_transaction=True), so the notifications
commit with it or not at all; each writes under a key derived from the event, so a repeated event
never notifies twice. Deliveries to channels are sent after commit.
"""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from incidents import events
from incidents.models import GroupMember, ResponseGroup, Statement, Task
from incidents.services.deadline_clock import incident_url
from notifications.services import notifications_send


def _leaders(organization_id: int) -> tuple[list[Any], list[ResponseGroup]]:
    groups = list(ResponseGroup.objects.filter(organization_id=organization_id, kind=ResponseGroup.Kind.LEADERSHIP))
    members = GroupMember.objects.filter(group__in=groups).select_related("user")
    return [m.user for m in members if m.user.is_active], groups


def on_statement_submitted(event: str, payload: dict[str, Any]) -> None:
    statement = Statement.objects.select_related("incident").get(pk=payload["statement_id"])
    users, groups = _leaders(statement.incident.organization_id)
    with transaction.atomic():
        notifications_send(
            key=f"statement:{statement.pk}:submitted:{statement.version}",
            kind=event,
            title=_("【待审定】%(title)s") % {"title": statement.title},
            body=_("“%(incident)s”的回应稿已提交审定。") % {"incident": statement.incident.title},
            url=incident_url(statement.incident),
            recipients=users,
            groups=groups,
            incident=statement.incident,
        )


def on_statement_decided(event: str, payload: dict[str, Any]) -> None:
    statement = Statement.objects.select_related("incident", "created_by").get(pk=payload["statement_id"])
    approved = event == events.STATEMENT_APPROVED
    with transaction.atomic():
        notifications_send(
            key=f"statement:{statement.pk}:decided:{statement.version}",
            kind=event,
            title=(_("【已审定】%(title)s") if approved else _("【退回修改】%(title)s")) % {"title": statement.title},
            body=_("“%(incident)s”的回应稿已有审定结果。") % {"incident": statement.incident.title},
            url=incident_url(statement.incident),
            recipients=[statement.created_by],
            incident=statement.incident,
        )


def on_task_assigned(event: str, payload: dict[str, Any]) -> None:
    task = Task.objects.select_related("incident", "assignee", "assignee_group").get(pk=payload["task_id"])
    if task.assignee_id:
        users, groups = [task.assignee], []
    else:
        users = [m.user for m in GroupMember.objects.filter(group_id=task.assignee_group_id).select_related("user")]
        groups = [task.assignee_group]
    with transaction.atomic():
        notifications_send(
            key=f"task:{task.pk}:assigned",
            kind=event,
            title=_("【新任务】%(title)s") % {"title": task.title},
            body=_("“%(incident)s”交办给您的任务：%(title)s") % {"incident": task.incident.title, "title": task.title},
            url=incident_url(task.incident),
            recipients=users,
            groups=groups,  # type: ignore[arg-type]
            incident=task.incident,
        )


def connect() -> None:
    events.subscribe(events.STATEMENT_SUBMITTED, on_statement_submitted, in_transaction=True)
    events.subscribe(events.STATEMENT_APPROVED, on_statement_decided, in_transaction=True)
    events.subscribe(events.STATEMENT_REJECTED, on_statement_decided, in_transaction=True)
    events.subscribe(events.TASK_ASSIGNED, on_task_assigned, in_transaction=True)
