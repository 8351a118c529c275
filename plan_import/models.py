"""One import of a unit's existing plan: the text as read, what the rules found in it (each item
with the sentence it came from, kept or dropped by the administrator, its values as corrected), and
the draft it became. The plan itself only changes through incidents.services.plans."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import EmergencyPlan
from organizations.models import Organization


class PlanImport(models.Model):
    class Status(models.TextChoices):
        REVIEW = "review", _("待核对")
        DRAFTED = "drafted", _("已生成草稿")
        DISCARDED = "discarded", _("已放弃导入")

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="plan_imports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    source_name = models.CharField(_("来源"), max_length=200, help_text=_("文件名、“粘贴的文字”或范本名称。"))
    text = models.TextField(_("预案原文"))
    title = models.CharField(_("预案名称"), max_length=200, blank=True)
    summary = models.TextField(_("总则与适用范围"), blank=True)
    # [{kind, values, start, end, note, keep}], in the order the rules found them; an item's index
    # in this list is its name on the review page, so items are never removed, only dropped (keep).
    items = models.JSONField(_("识别结果"), default=list, blank=True)
    unmapped = models.JSONField(_("未能转换的章节"), default=list, blank=True)  # [{title, start, end}]
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.REVIEW)
    plan = models.ForeignKey(
        EmergencyPlan,
        verbose_name=_("生成的草稿"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imports",
    )
    groups_applied_at = models.DateTimeField(_("工作组更新时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("预案导入")
        verbose_name_plural = _("预案导入")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="plan_import_unit_recent")]

    def __str__(self) -> str:
        if self.created_at is None:
            return self.source_name
        return f"{self.source_name}（{timezone.localtime(self.created_at):%Y-%m-%d %H:%M}）"
