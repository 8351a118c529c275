"""Posts typed in by staff (a unit member, checked here, then the one ingest path like feeds, the API
and imports) and linking a post to an incident with its 存证."""

import hashlib
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import policies
from incidents.models import Incident, Platform
from incidents.services.locking import incident_lock, incident_touch
from incidents.services.timeline import timeline_record
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import Mention, Source
from opinion_ops.errors import DomainError, NotPermitted
from organizations.roles import Role, user_has_role, user_organization_id


def mention_create(
    *,
    actor: Any,
    platform: str,
    text: str,
    url: str = "",
    author_handle: str = "",
    published_at: datetime | None = None,
    captured_at: datetime | None = None,
    incident: Incident | None = None,
) -> Mention:
    """Save a post typed in by a member of the unit, through the one ingest path (the unit's 手工录入
    source); the same post twice (by content hash) is refused here rather than counted."""
    organization_id = user_organization_id(actor)
    if organization_id is None or not user_has_role(actor, organization_id, *Role):
        raise NotPermitted(_("只有本单位应急工作组成员可以录入舆情信息。"))
    if platform not in Platform.values:
        raise DomainError(_("请选择平台。"), field="platform")
    if not (text or "").strip():
        raise DomainError(_("请填写内容。"), field="text")
    if published_at is not None and published_at > timezone.now():
        raise DomainError(_("发布时间不能晚于当前时间。"), field="published_at")
    post = PostIn(
        text=text,
        platform=platform,
        url=url,
        author=author_handle,
        published_at=published_at,
        captured_at=captured_at,
    )
    with transaction.atomic():
        source = source_of_kind(organization_id, Source.Kind.MANUAL)
        result = posts_ingest(source_id=source.pk, posts=[post], actor=actor)
        if result.rejected:
            refused = result.rejected[0]
            raise DomainError(refused["message"], field=INGEST_FIELDS.get(refused["field"], refused["field"]))
        if not result.created:
            raise DomainError(_("这条信息已经录入过。"), field="text", code="duplicate")
        if incident is not None:
            mention_attach(mention_id=result.created[0], incident_id=incident.pk, actor=actor)
        return Mention.objects.get(pk=result.created[0])


# The ingest service's field names as this form and the API's mention resource name them.
INGEST_FIELDS = {"author": "author_handle"}


def mention_attach(*, mention_id: int, incident_id: int, actor: Any) -> Mention:
    """Link a post of the unit to one of the unit's open incidents."""
    with transaction.atomic():
        incident = incident_lock(incident_id)
        try:
            mention = Mention.objects.select_for_update().get(pk=mention_id)
        except Mention.DoesNotExist as exc:
            raise DomainError(_("舆情信息不存在。"), code="not_found") from exc
        policies.require("add_mention", actor, incident)
        if mention.organization_id != incident.organization_id:
            raise DomainError(_("只能关联本单位的舆情信息。"), field="mention")
        if mention.incident_id == incident.pk:
            return mention
        if mention.incident_id is not None:
            raise DomainError(_("这条信息已关联到其他舆情。"), field="mention")
        mention.incident = incident
        mention.save(update_fields=["incident"])
        timeline_record(
            incident=incident,
            kind="mention",
            actor=actor,
            summary=_("关联%(platform)s信息：%(text)s")
            % {"platform": mention.get_platform_display(), "text": mention.text[:60]},
            # 存证: the post as it was taken in, kept in the hash-chained record, so the record stands
            # even if the post is deleted from the internet (or edited there).
            details={
                "mention_id": mention.pk,
                "url": mention.url,
                "platform": mention.platform,
                "author": mention.author_handle,
                "title": mention.title,
                "text": mention.text,
                "published_at": mention.published_at.isoformat() if mention.published_at else None,
                "fetched_at": mention.captured_at.isoformat(),
                "sha256": hashlib.sha256(mention.text.encode()).hexdigest(),
            },
        )
        incident_touch(incident)
    return mention
