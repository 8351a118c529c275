"""Evidence (存证): files kept as evidence of an incident, one of its reports or one of its posts.

Both tables are append-only: an attachment is never changed, replaced or deleted; withdrawing it
(撤回) adds an EvidenceWithdrawal row, with its reason, beside it. On PostgreSQL the database refuses
UPDATE, DELETE and TRUNCATE of either table (opinion_ops.append_only); elsewhere save() and delete()
refuse. The file itself lives in the default storage under a random name (never the uploaded name,
kept in `original_name`) and is served only by evidence.views after the incident's visibility check.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, Report


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError(f"{type(self).__name__} rows are append-only evidence")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(f"{type(self).__name__} rows are append-only evidence")


class Evidence(AppendOnly):
    class Kind(models.TextChoices):
        PDF = "pdf", _("PDF 文档")
        DOCX = "docx", _("Word 文档")
        XLSX = "xlsx", _("Excel 表格")
        PNG = "png", _("PNG 图片")
        JPEG = "jpeg", _("JPEG 图片")
        GIF = "gif", _("GIF 图片")
        WEBP = "webp", _("WebP 图片")
        TEXT = "text", _("纯文本")
        # Rows moved from the old report attachments whose content is none of the above.
        OTHER = "other", _("其他（迁移的原报告附件）")

    IMAGE_KINDS = frozenset({Kind.PNG, Kind.JPEG, Kind.GIF, Kind.WEBP})

    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="evidence"
    )
    report = models.ForeignKey(
        Report, verbose_name=_("报告"), null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    mention = models.ForeignKey(
        "monitoring.Mention",
        verbose_name=_("帖文"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    original_name = models.CharField(_("原文件名"), max_length=255)
    description = models.CharField(_("说明"), max_length=500, blank=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    content_type = models.CharField(_("内容类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    stored_name = models.CharField(_("存储名"), max_length=255, unique=True, editable=False)
    thumbnail_name = models.CharField(_("缩略图存储名"), max_length=255, blank=True, editable=False)
    width = models.PositiveIntegerField(_("宽（像素）"), null=True, blank=True)
    height = models.PositiveIntegerField(_("高（像素）"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,  # rows moved from the old report attachments, which did not record one
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now, db_index=True)
    legacy_source = models.CharField(_("迁移来源"), max_length=100, blank=True, editable=False)

    class Meta:
        verbose_name = _("证据")
        verbose_name_plural = _("证据")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(report__isnull=True) | Q(mention__isnull=True), name="evidence_one_target"
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_withdrawn(self) -> bool:
        return hasattr(self, "withdrawal")

    def shown_size(self, box: int) -> tuple[int, int] | None:
        """The thumbnail drawn within `box` pixels, as HTML width/height attributes (no style needed)."""
        if not self.width or not self.height:
            return None
        scale = min(1.0, box / max(self.width, self.height))
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))

    @property
    def shown_on_page(self) -> tuple[int, int] | None:
        return self.shown_size(160)

    @property
    def shown_in_list(self) -> tuple[int, int] | None:
        return self.shown_size(48)

    @property
    def target_kind(self) -> str:
        return "report" if self.report_id else "mention" if self.mention_id else "incident"


class EvidenceWithdrawal(AppendOnly):
    """The withdrawal (撤回) of one attachment: who, when and why. The attachment stays in the record."""

    evidence = models.OneToOneField(
        Evidence, verbose_name=_("证据"), on_delete=models.PROTECT, related_name="withdrawal"
    )
    reason = models.TextField(_("撤回理由"))
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撤回人"), on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("撤回时间"), default=timezone.now)

    class Meta:
        verbose_name = _("证据撤回")
        verbose_name_plural = _("证据撤回")

    def __str__(self) -> str:
        return f"{self.evidence} · {self.reason[:40]}"
