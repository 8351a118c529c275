"""The one way posts come in: feeds, the API, file imports and staff all hand their posts to
posts_ingest, for a unit and a source (not for a logged-in user).

Each post is checked on its own (a bad one is refused with its field and reason; the rest of the
batch goes in) and inserted with ON CONFLICT DO NOTHING, so the same post seen twice — the same
item of a source (external id) or the same link and words in the unit (content hash) — is counted
as a duplicate, and two ingests racing on the same posts never collide. The new posts are matched
against every unit's schemes by the matching task (monitoring.tasks), queued when the batch commits.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Platform
from monitoring.models import Mention, Source, mention_content_hash
from opinion_ops.errors import DomainError
from opinion_ops.links_policy import http_url_check

logger = logging.getLogger(__name__)

MATCH_TASK = "monitoring.tasks.match_posts_task"
MAX_TEXT = 20_000
MAX_TITLE = 500
MAX_AUTHOR = 200
MAX_EXTERNAL_ID = 255
MAX_BATCH = 1_000
FUTURE_SLACK = timedelta(days=1)  # clocks of other systems are not exact; beyond that is a wrong date


@dataclass
class PostIn:
    """A post as a source hands it over."""

    text: str
    platform: str = ""
    title: str = ""
    url: str = ""
    author: str = ""
    published_at: datetime | None = None
    external_id: str = ""
    captured_at: datetime | None = None  # when it was seen, if earlier than now (a post typed in later)


@dataclass
class IngestResult:
    created: list[int] = field(default_factory=list)  # ids of the posts inserted
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"index", "field", "message"}

    def as_dict(self) -> dict[str, Any]:
        return {"created": len(self.created), "duplicates": self.duplicates, "rejected": self.rejected}


def source_of_kind(organization_id: int, kind: str) -> Source:
    """The unit's one source of a kind other than feeds (接口推送, 文件导入, 手工录入), made on first use."""
    names = {
        Source.Kind.API: _("接口推送"),
        Source.Kind.IMPORT: _("文件导入"),
        Source.Kind.MANUAL: _("手工录入"),
    }
    source = Source.objects.filter(organization_id=organization_id, kind=kind).order_by("id").first()
    if source is not None:
        return source
    source, _created = Source.objects.get_or_create(
        organization_id=organization_id, name=str(names[Source.Kind(kind)]), defaults={"kind": kind}
    )
    return source


def _checked(post: PostIn, source: Source, now: datetime) -> dict[str, Any]:
    """The post's columns, or DomainError naming the field."""
    text = (post.text or "").strip()
    title = " ".join((post.title or "").split())
    if not text and not title:
        raise DomainError(_("内容为空。"), field="text")
    if len(text) > MAX_TEXT:
        raise DomainError(_("内容过长（不超过 %(n)s 个字符）。") % {"n": MAX_TEXT}, field="text")
    if len(title) > MAX_TITLE:
        raise DomainError(_("标题过长（不超过 %(n)s 个字符）。") % {"n": MAX_TITLE}, field="title")
    author = (post.author or "").strip()
    if len(author) > MAX_AUTHOR:
        raise DomainError(_("发布者过长（不超过 %(n)s 个字符）。") % {"n": MAX_AUTHOR}, field="author")
    external_id = (post.external_id or "").strip()
    if len(external_id) > MAX_EXTERNAL_ID:
        raise DomainError(_("外部编号过长（不超过 %(n)s 个字符）。") % {"n": MAX_EXTERNAL_ID}, field="external_id")
    platform = post.platform or source.platform
    if platform not in Platform.values:
        raise DomainError(_("平台“%(value)s”无法识别。") % {"value": str(platform)[:40]}, field="platform")
    url = http_url_check(post.url, field="url") if (post.url or "").strip() else ""
    published_at = post.published_at
    if published_at is not None:
        if timezone.is_naive(published_at):
            raise DomainError(_("发布时间须带时区。"), field="published_at")
        if published_at > now + FUTURE_SLACK:
            raise DomainError(_("发布时间晚于当前时间。"), field="published_at")
    captured_at = post.captured_at or now
    if timezone.is_naive(captured_at) or captured_at > now + FUTURE_SLACK:
        raise DomainError(_("采集时间须带时区，且不能晚于当前时间。"), field="captured_at")
    return {
        "organization_id": source.organization_id,
        "source_id": source.pk,
        "platform": platform,
        "url": url,
        "author_handle": author,
        "title": title,
        "text": text or title,
        "published_at": published_at,
        "captured_at": captured_at,
        "content_hash": mention_content_hash(url, f"{title}\n{text}" if title else text),
        "external_id": external_id,
        "search_text": "",
    }


COLUMNS = (
    "organization_id",
    "source_id",
    "platform",
    "url",
    "author_handle",
    "title",
    "text",
    "published_at",
    "captured_at",
    "content_hash",
    "external_id",
    "search_text",
    "captured_by_id",
)


def _insert(rows: list[dict[str, Any]]) -> list[int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the ids of the rows that were new."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    table = quote(Mention._meta.db_table)
    columns = ", ".join(quote(name) for name in COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    params: list[Any] = []
    for row in rows:
        for name in COLUMNS:
            value = row.get(name)
            params.append(adapt(value) if isinstance(value, datetime) else value)
    # The names are the model's own, quoted; every value goes as a parameter.
    values = ", ".join([placeholders] * len(rows))
    sql = f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT DO NOTHING RETURNING {quote('id')}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def posts_ingest(*, source_id: int, posts: list[PostIn], actor: Any = None, match: bool = True) -> IngestResult:
    """Insert the posts of a source; each bad post is refused with its field and reason, duplicates
    are counted and skipped, the new ones are matched once the batch commits."""
    if len(posts) > MAX_BATCH:
        raise DomainError(_("一次最多提交 %(n)s 条信息。") % {"n": MAX_BATCH}, field="posts")
    source = Source.objects.get(pk=source_id)
    now = timezone.now()
    result = IngestResult()
    rows = []
    for index, post in enumerate(posts):
        try:
            row = _checked(post, source, now)
        except DomainError as error:
            result.rejected.append({"index": index, "field": error.field or "", "message": str(error.message)})
            continue
        row["captured_by_id"] = getattr(actor, "pk", None)
        rows.append(row)
    with transaction.atomic():
        for start in range(0, len(rows), 200):
            result.created += _insert(rows[start : start + 200])
        result.duplicates = len(rows) - len(result.created)
        if result.created:
            Source.objects.filter(pk=source.pk).update(items_total=F("items_total") + len(result.created))
            if match:
                created = list(result.created)
                transaction.on_commit(lambda: queue_matching(created))
    return result


def queue_matching(post_ids: list[int]) -> None:
    """Queue the matching of new posts (after commit); the match sweeper covers a lost queue. Sent by
    the task's name (routed to the matching queue by settings.CELERY_TASK_ROUTES), so this module
    does not import the tasks, which import the matching."""
    from opinion_ops.celery import app

    try:
        app.send_task(MATCH_TASK, args=[post_ids])
    except Exception:  # the broker is down: the match sweeper finds unmatched posts
        logger.warning("matching not queued for %d posts; the match sweeper will pick them up", len(post_ids))
