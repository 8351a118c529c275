from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models.chain import approval_digest
from incidents.models.incident import Incident, TimelineEntry
from incidents.models.records import Report, StatementVersion


class Approval(models.Model):
    """A leader's decision on a statement version (approved or rejected) or sign-off of a written
    report: the unalterable evidence of who decided on exactly which text, and when.

    StatementVersion.decision/decided_by/decided_at and Report.signed_off_by/at stay where the
    pages read them; this row is what they must agree with (incidents.integrity checks it).

    How it sits in the incident's hash chain: `hash` is the SHA-256 of the approval's canonical
    content (incidents.models.chain.approval_digest), which includes `content_sha256`, the digest
    of the exact text decided on (the version's text, or the report's content). The service writes
    the approval and its timeline entry (`entry`) in one transaction, and that entry carries the
    approval's hash in its details ("approval_sha256"), so the chain itself fixes the approval:
    changing the approval breaks its own hash, replacing it breaks the link to the entry, removing
    it leaves the entry pointing at nothing. Decisions taken before the chain existed were sealed
    by the migration with `entry` empty. On PostgreSQL the table is append-only like the timeline.
    """

    class Decision(models.TextChoices):
        APPROVED = "approved", _("审定同意")
        REJECTED = "rejected", _("退回修改")
        SIGNED_OFF = "signed_off", _("审阅签批")

    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="approvals"
    )
    entry = models.OneToOneField(
        TimelineEntry,
        verbose_name=_("处置记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval",
        help_text=_("与本审定同时写入、带有其哈希的处置记录；启用校验前的审定为空。"),
    )
    decision = models.CharField(_("审定结果"), max_length=12, choices=Decision.choices)
    statement_version = models.ForeignKey(
        StatementVersion,
        verbose_name=_("回应稿版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approvals",
    )
    report = models.ForeignKey(
        Report, verbose_name=_("报告"), null=True, blank=True, on_delete=models.PROTECT, related_name="approvals"
    )
    version_number = models.PositiveIntegerField(_("版本"), null=True, blank=True)
    content_sha256 = models.CharField(
        _("所审内容哈希"), max_length=64, help_text=_("所审定正文（或报告内容）的 SHA-256。")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审定人"), on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审定时间"))
    comment = models.TextField(_("审定意见"), blank=True)
    hash = models.CharField(_("本条哈希"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("审定记录")
        verbose_name_plural = _("审定记录")
        ordering = ["decided_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(statement_version__isnull=False) & models.Q(report__isnull=True))
                | (models.Q(statement_version__isnull=True) & models.Q(report__isnull=False)),
                name="approval_of_one_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} · {self.incident_id}"

    def compute_hash(self) -> str:
        """The SHA-256 this approval's content gives now (equal to `hash` unless altered)."""
        return approval_digest(
            incident_id=self.incident_id,
            decision=self.decision,
            statement_version_id=self.statement_version_id,
            report_id=self.report_id,
            version_number=self.version_number,
            content_sha256=self.content_sha256,
            actor_id=self.actor_id,
            decided_at=self.decided_at,
            comment=self.comment,
        )

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("Approvals are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Approvals are append-only")
