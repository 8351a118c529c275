"""Correcting the record and discussing it, on the incident page: 修改基本情况, 合并重复舆情 and
关联其他舆情 (actions of the page's registry: their forms and runners are here), the links and
merges shown on both incidents, and the discussion thread (讨论) with its own form.

Everything shown of another incident goes through incidents_visible_to: a superior reading an
incident reported up to it does not see the subordinate unit's other incidents it links to.
"""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from incidents import forms as f
from incidents import policies
from incidents.models import Comment, Deadline, Incident, IncidentLink
from incidents.selectors import incidents_seen_by_unit, incidents_visible_to, user_subordinate_unit_ids
from incidents.services import incidents as svc
from incidents.services.corrections import incident_by_reference, incident_link, incident_merge
from incidents.views.context import ActionContext
from opinion_ops.db import compiled
from organizations.roles import Role, user_organization_id

COMMENTS_SHOWN = 200


# --- the registry's actions (incidents.views.registry): forms and runners


def edit_form(ctx: "ActionContext", data: Any, display: bool) -> forms.Form:
    return f.IncidentEditForm(data, initial={"expected_version": ctx.incident.version}, incident=ctx.incident)


def run_edit(ctx: "ActionContext", data: dict[str, Any]) -> Any:
    facts = {name: data[name] for name in f.IncidentEditForm.base_fields if name not in ("expected_version", "reason")}
    return svc.incident_update(
        incident_id=ctx.incident.pk,
        actor=ctx.user,
        expected_version=data.get("expected_version"),
        reason=data.get("reason", ""),
        **facts,
    )


def merge_form(ctx: "ActionContext", data: Any, display: bool) -> forms.Form:
    missed = (
        [clock for clock in ctx.open_clocks if clock.status == Deadline.Status.MISSED] if ctx.has(Role.LEADER) else []
    )
    return f.MergeForm(data, initial={"expected_version": ctx.incident.version}, missed_clocks=missed)


def _named(ctx: "ActionContext", reference: str) -> int | None:
    found = incident_by_reference(organization_id=ctx.incident.organization_id, reference=reference)
    return found.pk if found is not None else None


def run_merge(ctx: "ActionContext", data: dict[str, Any]) -> Any:
    clocks = {
        int(name.split("_", 1)[1]): {"resolution": value, "reason": data.get(f"reason_{name.split('_', 1)[1]}", "")}
        for name, value in data.items()
        if name.startswith("clock_")
    }
    return incident_merge(
        incident_id=ctx.incident.pk,
        into_id=_named(ctx, data["into"]),
        actor=ctx.user,
        reason=data["reason"],
        clocks=clocks,
        expected_version=data.get("expected_version"),
    )


def run_link(ctx: "ActionContext", data: dict[str, Any]) -> Any:
    return incident_link(
        incident_id=ctx.incident.pk,
        related_id=_named(ctx, data["related"]),
        actor=ctx.user,
        note=data.get("note", ""),
        expected_version=data.get("expected_version"),
    )


# --- what the incident page shows


@compiled
def _comments(incident_id: int) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(incident_id=incident_id)
        .select_related("author")
        .order_by("-created_at", "-id")[:COMMENTS_SHOWN]
    )


def _comment_rows(incident: Incident) -> list[dict[str, Any]]:
    """The thread, oldest first, with the names of the people each comment mentions (two queries)."""
    comments = _comments(incident.pk)
    comments.reverse()
    ids = {pk for comment in comments for pk in comment.mentioned or []}
    people = get_user_model().objects.in_bulk(ids) if ids else {}
    return [
        {"comment": comment, "mentioned": [people[pk] for pk in comment.mentioned or [] if pk in people]}
        for comment in comments
    ]


# The incident's links and merged duplicates as this unit sees them (its own incidents and those of
# its subordinate units reported up to it): compiled once per set of subordinate units.
@compiled
def _links(incident_id: int, organization_id: int, *, subordinates: tuple[int, ...]) -> QuerySet[IncidentLink]:
    visible = incidents_seen_by_unit(organization_id, subordinates)
    return (
        IncidentLink.objects.filter(Q(incident_id=incident_id) | Q(related_id=incident_id))
        .filter(Q(incident__in=visible) & Q(related__in=visible))
        .select_related("incident", "related", "created_by")
    )


@compiled
def _duplicates(incident_id: int, organization_id: int, *, subordinates: tuple[int, ...]) -> QuerySet[Incident]:
    return (
        incidents_seen_by_unit(organization_id, subordinates).filter(merged_into_id=incident_id).order_by("reference")
    )


def corrections_context(request: HttpRequest, incident: Incident, overrides: dict[str, Any]) -> dict[str, Any]:
    """The links, merges and discussion of the incident page, in a fixed number of queries."""
    organization_id = user_organization_id(request.user)
    subordinates = tuple(user_subordinate_unit_ids(request.user))
    links, duplicates = [], []
    if organization_id is not None:  # the page is shown only to a unit that may see the incident
        links = _links(incident.pk, organization_id, subordinates=subordinates)
        duplicates = _duplicates(incident.pk, organization_id, subordinates=subordinates)
    merged_into = (
        incidents_visible_to(request.user).filter(pk=incident.merged_into_id).first()
        if incident.merged_into_id
        else None
    )
    may_comment = policies.allows("comment", request.user, incident)
    form = overrides.get("comment") or (f.CommentForm(prefix="comment") if may_comment else None)
    if form is not None:
        form.auto_id = "id_comment_%s"
    return {
        "related_links": [{"link": link, "other": link.other(incident.pk)} for link in links],
        "merged_into": merged_into,
        "merged_duplicates": duplicates,
        "comment_rows": _comment_rows(incident),
        "comments_shown": COMMENTS_SHOWN,
        "comment_form": form,
    }
