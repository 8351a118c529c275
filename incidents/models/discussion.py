"""Talking about an incident and relating it to others: the discussion thread (讨论) and the links
between related incidents of one unit (关联舆情).

Both are part of the record. A comment is never edited or deleted: it is written once, with the
timeline entry that anchors it in the incident's hash chain (the entry's details carry the
comment's SHA-256 under "comment_sha256", as an approval's entry carries the approval's), and on
PostgreSQL the database refuses UPDATE, DELETE and TRUNCATE of comments and links
(opinion_ops.append_only). A comment's digest covers (key: value, serialised as in
incidents.models.chain)
    v: 1, incident: incident id, author: user id, created_at, body, mentioned: the ids of the people
    mentioned, in the order they were named.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models.chain import FORMAT, canonical_json, canonical_time, sha256_hex
from incidents.models.incident import Incident, TimelineEntry

__all__ = ["COMMENT_KEY", "Comment", "IncidentLink", "comment_digest"]

# The key of a timeline entry's details that holds the hash of the comment the entry records.
COMMENT_KEY = "comment_sha256"


def comment_digest(*, incident_id: int, author_id: int, created_at: Any, body: str, mentioned: list[int]) -> str:
    return sha256_hex(
        canonical_json(
            {
                "v": FORMAT,
                "incident": incident_id,
                "author": author_id,
                "created_at": canonical_time(created_at),
                "body": body,
                "mentioned": list(mentioned),
            }
        )
    )


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(f"{type(self).__name__} rows are append-only")


class Comment(AppendOnly):
    """One message of an incident's discussion, with the people it @mentions (who were told)."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发表人"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("内容"))
    mentioned = models.JSONField(_("提及的人员"), default=list, blank=True, help_text=_("被 @ 提及的人员 id。"))
    created_at = models.DateTimeField(_("发表时间"), default=timezone.now, editable=False, db_index=True)
    entry = models.OneToOneField(
        TimelineEntry, verbose_name=_("处置记录"), on_delete=models.PROTECT, related_name="comment"
    )
    sha256 = models.CharField(_("内容哈希"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["incident", "created_at"], name="comment_incident_time")]

    def __str__(self) -> str:
        return self.body[:40]

    def compute_hash(self) -> str:
        """The SHA-256 the comment's content gives now (equal to `sha256` unless altered)."""
        return comment_digest(
            incident_id=self.incident_id,
            author_id=self.author_id,
            created_at=self.created_at,
            body=self.body,
            mentioned=list(self.mentioned or []),
        )


class IncidentLink(AppendOnly):
    """Two incidents of one unit recorded as related; one row per pair, the lower id first, shown on
    both incidents' pages."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="links_out"
    )
    related = models.ForeignKey(Incident, verbose_name=_("关联舆情"), on_delete=models.PROTECT, related_name="links_in")
    note = models.CharField(_("关联说明"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("关联人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("关联时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("关联舆情")
        verbose_name_plural = _("关联舆情")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "related"], name="incident_link_unique_pair"),
            models.CheckConstraint(condition=models.Q(incident__lt=models.F("related")), name="incident_link_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} ↔ {self.related_id}"

    def other(self, incident_id: int) -> Incident:
        return self.related if self.incident_id == incident_id else self.incident
