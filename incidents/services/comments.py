"""The discussion thread of an incident (讨论): comments with @mentions that tell the people named.

Who may comment is the rule "comment" (incidents.policies): the members of the unit's working
groups while the incident is open, and — once it was reported up — the superior unit's 领导小组.
Who may be @mentioned: the active people of the incident's unit and, once reported up, the
superior unit's 领导小组 (the people who can open the incident). A name is written after @ as the
person's user name or full name, e.g. "@zhangsan" or "@张三请核实" (Chinese needs no space after
the name); an @ naming anyone else is refused with the text as typed, and nothing is saved.

A comment is part of the record: written once, never edited or deleted, anchored in the incident's
hash chain by the timeline entry written with it (incidents.models.discussion). Each person
mentioned is told through the one outbox (the event comment.posted, routed by notifications).
"""

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events, policies
from incidents.models import Comment, Incident
from incidents.models.discussion import COMMENT_KEY
from incidents.services.locking import incident_lock
from incidents.services.timeline import timeline_record
from opinion_ops.db import retry_on_conflict
from opinion_ops.errors import DomainError
from organizations.models import GroupMember, ResponseGroup
from organizations.selectors import person_name

BODY_MAX = 5000
EXCERPT = 80
# An @ that starts a mention: not inside a word or an e-mail address (name@example.cn).
AT = re.compile(r"(?<![A-Za-z0-9_.+\-])@")
# What was typed after an @ that names no one, for the message (up to a space or punctuation).
TYPED = re.compile(r"[^\s，。、；：！？“”‘’（）()《》,.;:!?\"'@]+")
ASCII_NAME_CHAR = re.compile(r"[A-Za-z0-9_.\-]")


def mentionable_people(incident: Incident) -> list[Any]:
    """The people who may be @mentioned in the incident's discussion (see the module docstring)."""
    reach = Q(membership__organization_id=incident.organization_id)
    parent_id = incident.organization.parent_id
    if incident.escalated_at is not None and parent_id is not None:
        leaders = GroupMember.objects.filter(
            group__organization_id=parent_id, group__kind=ResponseGroup.Kind.LEADERSHIP
        ).values("user_id")
        reach |= Q(pk__in=leaders)
    return list(get_user_model().objects.filter(reach, is_active=True).distinct().order_by("id"))


def _names(person: Any) -> set[str]:
    """How a person may be written after @: user name, full name, and a Chinese name without a space."""
    first, last = (person.first_name or "").strip(), (person.last_name or "").strip()
    names = {person.get_username(), person_name(person).strip(), f"{first}{last}", f"{last}{first}"}
    return {name.casefold() for name in names if name}


def mentions_resolve(body: str, people: list[Any]) -> list[Any]:
    """The people `body` @mentions, in the order first named, each once. After each @ the longest
    name of one of `people` is taken; an ASCII name must end where the word ends ("@alice2" is not
    alice). An @ that names no one of them is refused (DomainError on "body"); a lone @ is text."""
    by_name: dict[str, list[Any]] = {}
    for person in people:
        for name in _names(person):
            by_name.setdefault(name, []).append(person)
    found: list[Any] = []
    for at in AT.finditer(body):
        start = at.end()
        best = ""
        for name in by_name:
            if len(name) <= len(best) or body[start : start + len(name)].casefold() != name:
                continue
            after = body[start + len(name) : start + len(name) + 1]
            if name.isascii() and after and ASCII_NAME_CHAR.match(after):
                continue
            best = name
        typed = TYPED.match(body, start)
        if not best:
            if typed is None:
                continue  # "@" followed by a space or punctuation: not a mention
            raise DomainError(
                _("无法提及“@%(name)s”：只能提及本单位人员；已上报的舆情还可提及上级主管部门领导小组成员。")
                % {"name": typed.group(0)},
                field="body",
            )
        if len({person.pk for person in by_name[best]}) > 1:
            raise DomainError(
                _("“@%(name)s”对应多位人员，请改用用户名提及。") % {"name": body[start : start + len(best)]},
                field="body",
            )
        person = by_name[best][0]
        if person not in found:
            found.append(person)
    return found


@retry_on_conflict
def comment_create(*, incident_id: int, actor: Any, body: str) -> Comment:
    """Post a comment to the incident's discussion. It is recorded on the timeline (its SHA-256 in
    the hash chain) and everyone it @mentions, but the author, is told."""
    body = (body or "").strip()
    if not body:
        raise DomainError(_("请填写评论内容。"), field="body")
    if len(body) > BODY_MAX:
        raise DomainError(_("评论不超过 %(n)s 个字。") % {"n": BODY_MAX}, field="body")
    with transaction.atomic():
        incident = incident_lock(incident_id)
        policies.require("comment", actor, incident)
        mentioned = mentions_resolve(body, mentionable_people(incident))
        ids = [person.pk for person in mentioned]
        comment = Comment(incident=incident, author=actor, body=body, mentioned=ids, created_at=timezone.now())
        comment.sha256 = comment.compute_hash()
        excerpt = body if len(body) <= EXCERPT else body[:EXCERPT] + "…"
        summary = _("评论：%(text)s") % {"text": excerpt}
        # The discussion does not bump the incident's version: a comment makes no one's open form stale.
        comment.entry = timeline_record(
            incident=incident,
            kind="comment",
            actor=actor,
            summary=summary,
            details={COMMENT_KEY: comment.sha256, "mentioned": ids},
        )
        comment.save(force_insert=True)
        events.publish(
            events.COMMENT_POSTED,
            {
                "key": f"comment:{comment.pk}",
                "incident_id": incident.pk,
                "organization_id": incident.organization_id,
                "reference": incident.reference,
                "comment_id": comment.pk,
                "author_id": actor.pk,
                "author_name": person_name(actor),
                "excerpt": excerpt,
                "recipients": [pk for pk in ids if pk != actor.pk],
            },
        )
    return comment
