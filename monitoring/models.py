import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, Platform
from organizations.models import Organization


def mention_content_hash(url: str, text: str) -> str:
    """Same post seen twice (same link, same words modulo whitespace) hashes the same."""
    normalized = " ".join(text.split())
    return hashlib.sha256(f"{url.strip()}\n{normalized}".encode()).hexdigest()


class Mention(models.Model):
    """A monitored post. Staff add them by hand; automated sources feed the same model."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="mentions"
    )
    platform = models.CharField(_("平台"), max_length=20, choices=Platform.choices)
    url = models.URLField(_("链接"), max_length=1000, blank=True)
    author_handle = models.CharField(_("发布者"), max_length=200, blank=True)
    text = models.TextField(_("内容"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    captured_at = models.DateTimeField(_("采集时间"), db_index=True)
    content_hash = models.CharField(_("内容指纹"), max_length=64, editable=False)
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("采集人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    incident = models.ForeignKey(
        Incident,
        verbose_name=_("关联舆情事件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mentions",
    )

    class Meta:
        verbose_name = _("舆情信息")
        verbose_name_plural = _("舆情信息")
        ordering = ["-captured_at", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "content_hash"], name="mention_unique_per_unit")]

    def __str__(self) -> str:
        return self.text[:40]
