"""Correcting the record: merging a duplicate incident into another, and relating two incidents.

The record never moves. A duplicate's timeline, approvals and records (assessments, tasks, reports,
statements, clocks) stay with it, hash-chained as they were written; what a merge changes is
written as new entries on both incidents:

- the duplicate closes (已排除) with the reason "合并至 2026-0042：…" and `merged_into`, which both
  pages show as a link (one way on each, read from the same field);
- its posts (the plain links of capability apps listed in MERGE_FOLLOWERS) move to the surviving
  incident, named on both timelines;
- its pending clocks no longer apply (the surviving incident counts its own clocks from its own
  discovery time): re-planning withdraws them, recorded with the merge as the reason; a missed clock
  is history that a leader settles in the same step — waived or closed as not applicable, each with
  a reason — as when moving on to 总结.

Timeline entries name the other incident by its number only: a superior reading one incident
reported up to it does not learn the titles of the unit's others. Both incidents are locked in the
order of their ids (the one lock order, applied to a pair), then the clocks. Every refusal names
the field it is about and saves nothing.
"""

import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from incidents import events, policies
from incidents.models import Deadline, Incident, IncidentLink
from incidents.services.deadlines import deadline_decide_locked, deadlines_plan
from incidents.services.incidents import CLOCK_RESOLUTIONS, _event_payload
from incidents.services.locking import clocks_lock, incident_lock, incident_touch
from incidents.services.timeline import timeline_record
from opinion_ops.db import retry_on_conflict
from opinion_ops.errors import DomainError, InvalidTransition, StaleObject

# Reverse relations of Incident whose rows are plain links a capability app keeps (not records of
# the incident): they follow a duplicate into the surviving incident. A relation of an app that is
# not installed is skipped.
MERGE_FOLLOWERS = ("mentions",)
REASON_MAX = 500
REFERENCE = re.compile(r"^\s*(\d{4})\s*[-－—–]\s*(\d{1,6})\s*$")


def incident_by_reference(*, organization_id: int | None, reference: str) -> Incident | None:
    """The unit's incident numbered `reference` ("2026-0042", also "2026-42"), or None."""
    match = REFERENCE.match(reference or "")
    if organization_id is None or match is None:
        return None
    number = f"{match.group(1)}-{int(match.group(2)):04d}"
    return Incident.objects.filter(organization_id=organization_id, reference=number).first()


def _not_in_unit(field: str) -> DomainError:
    return DomainError(_("本单位没有这起舆情，请核对编号。"), field=field)


def _other_of_the_unit(incident_id: int, other_id: int | None, field: str) -> int:
    """The other incident's id once it is known to be of the same unit as the acting one (another
    unit's incident is answered exactly like one that does not exist)."""
    organization_id = Incident.objects.filter(pk=incident_id).values_list("organization_id", flat=True).first()
    if organization_id is None:
        raise DomainError(_("舆情事件不存在。"), code="not_found")
    if other_id is None or not Incident.objects.filter(pk=other_id, organization_id=organization_id).exists():
        raise _not_in_unit(field)
    if other_id == incident_id:
        raise DomainError(_("不能选择本事件自身。"), field=field)
    return other_id


def _lock_pair(acting_id: int, other_id: int, expected_version: int | None) -> tuple[Incident, Incident]:
    """Lock both incidents, the lower id first, so two writers on the same pair never deadlock."""
    locked = {
        pk: incident_lock(pk, expected_version if pk == acting_id else None) for pk in sorted((acting_id, other_id))
    }
    return locked[acting_id], locked[other_id]


def _reason(reason: str, field: str, missing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(missing, field=field)
    if len(reason) > REASON_MAX:
        raise DomainError(_("不超过 %(n)s 个字。") % {"n": REASON_MAX}, field=field)
    return reason


def _settle_missed_clocks(incident: Incident, actor: Any, resolutions: dict[int, dict[str, str]]) -> list[str]:
    """A leader settles each missed clock of the duplicate in the same step (the rule has already
    refused anyone else while one is missed)."""
    settled = []
    for clock in clocks_lock(incident, status=Deadline.Status.MISSED):
        choice = resolutions.get(clock.pk)
        if choice is None:
            raise InvalidTransition(
                _("时限“%(name)s”已逾期：请选择豁免或不再适用，并填写理由。") % {"name": clock.name},
                field="clocks",
            )
        action = CLOCK_RESOLUTIONS.get(choice.get("resolution", ""))
        if action is None:
            raise DomainError(
                _("请为时限“%(name)s”选择豁免或不再适用。") % {"name": clock.name}, field=f"clock_{clock.pk}"
            )
        if not (choice.get("reason") or "").strip():
            raise DomainError(_("请填写时限“%(name)s”的理由。") % {"name": clock.name}, field=f"reason_{clock.pk}")
        deadline_decide_locked(incident=incident, deadline=clock, action=action, actor=actor, reason=choice["reason"])
        settled.append(clock.name)
    return settled


def _followers_move(duplicate: Incident, into: Incident) -> dict[str, list[int]]:
    """Move the duplicate's posts (MERGE_FOLLOWERS) to the surviving incident; their ids, by relation."""
    moved: dict[str, list[int]] = {}
    for name in MERGE_FOLLOWERS:
        manager = getattr(duplicate, name, None)
        if manager is None:
            continue
        ids = list(manager.select_for_update().order_by("pk").values_list("pk", flat=True))
        if ids:
            manager.model.objects.filter(pk__in=ids).update(**{manager.field.name: into})
            moved[name] = ids
    return moved


@retry_on_conflict
def incident_merge(
    *,
    incident_id: int,
    into_id: int | None,
    actor: Any,
    reason: str,
    clocks: dict[int, dict[str, str]] | None = None,
    expected_version: int | None = None,
) -> Incident:
    """Close a duplicate incident into another open incident of the same unit (see the module's
    docstring). `clocks`: a leader's settlement of each missed clock of the duplicate,
    {deadline id: {"resolution": "waive" | "not_applicable", "reason": …}}."""
    reason = _reason(reason, "reason", _("请填写合并理由。"))
    into_id = _other_of_the_unit(incident_id, into_id, "into")
    resolutions = {int(k): v for k, v in (clocks or {}).items()}
    try:
        with transaction.atomic():
            duplicate, into = _lock_pair(incident_id, into_id, expected_version)
            policies.require("merge", actor, duplicate)
            if not into.is_open:
                raise DomainError(
                    _("只能并入尚未办结的舆情：%(ref)s 当前为“%(state)s”。")
                    % {"ref": into.reference, "state": into.get_state_display()},
                    field="into",
                )
            settled = _settle_missed_clocks(duplicate, actor, resolutions)
            state = duplicate.state
            values = {"ref": into.reference, "reason": reason}
            try:
                duplicate.merge_into(into=into, reason=_("合并至 %(ref)s：%(reason)s") % values, at=timezone.now())
            except TransitionNotAllowed as exc:
                raise InvalidTransition(_("不满足执行此操作的条件。")) from exc
            duplicate.version += 1
            duplicate.save()
            moved = _followers_move(duplicate, into)
            count = sum(len(ids) for ids in moved.values())
            summary = _("重复舆情，合并至 %(ref)s：%(reason)s") % values
            if count:
                summary += _("；%(n)s 条关联帖文转入该舆情") % {"n": count}
            details = {"merged_into": into.pk, "reference": into.reference, "reason": reason, "moved": moved}
            timeline_record(
                incident=duplicate,
                kind="transition",
                actor=actor,
                summary=summary,
                from_state=state,
                to_state=duplicate.state,
                details={**details, "settled_clocks": settled},
            )
            deadlines_plan(incident=duplicate, actor=actor, reason=_("合并至 %(ref)s") % values)
            theirs = {"ref": duplicate.reference, "reason": reason, "n": count}
            into_summary = _("并入重复舆情 %(ref)s：%(reason)s") % theirs
            if count:
                into_summary += _("；转入关联帖文 %(n)s 条") % theirs
            timeline_record(
                incident=into,
                kind="merge",
                actor=actor,
                summary=into_summary,
                details={"duplicate": duplicate.pk, "reference": duplicate.reference, "reason": reason, "moved": moved},
            )
            incident_touch(into)
            events.publish(
                events.INCIDENT_TRANSITIONED,
                _event_payload(duplicate, transition="merge_into", from_state=state, to_state=duplicate.state),
            )
            events.publish(
                events.INCIDENT_MERGED,
                _event_payload(duplicate, merged_into=into.pk, merged_into_reference=into.reference, reason=reason),
            )
    except ConcurrentTransition as exc:
        raise StaleObject(_("该舆情已被他人更新，请刷新页面后再操作。")) from exc
    return duplicate


@retry_on_conflict
def incident_link(
    *, incident_id: int, related_id: int | None, actor: Any, note: str = "", expected_version: int | None = None
) -> IncidentLink:
    """Record two incidents of one unit as related (关联舆情): one link, shown on both pages, and an
    entry on both timelines. The related incident may be closed (an earlier incident that returns)."""
    note = (note or "").strip()
    if len(note) > REASON_MAX:
        raise DomainError(_("不超过 %(n)s 个字。") % {"n": REASON_MAX}, field="note")
    related_id = _other_of_the_unit(incident_id, related_id, "related")
    with transaction.atomic():
        incident, related = _lock_pair(incident_id, related_id, expected_version)
        policies.require("link", actor, incident)
        low, high = sorted((incident, related), key=lambda i: i.pk)
        if IncidentLink.objects.filter(incident=low, related=high).exists():
            raise DomainError(_("这两起舆情已经关联。"), field="related")
        link = IncidentLink.objects.create(incident=low, related=high, note=note, created_by=actor)
        suffix = _("（%(note)s）") % {"note": note} if note else ""
        for this, other in ((incident, related), (related, incident)):
            timeline_record(
                incident=this,
                kind="link",
                actor=actor,
                summary=_("关联舆情 %(ref)s") % {"ref": other.reference} + suffix,
                details={"link_id": link.pk, "related": other.pk, "reference": other.reference, "note": note},
            )
            incident_touch(this)
        events.publish(
            events.INCIDENT_LINKED, _event_payload(incident, related=related.pk, related_reference=related.reference)
        )
    return link
