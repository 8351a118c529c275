"""The warning notice (预警通知): what a warning says and to whom — its level, its text, the working
groups that must act and what is required of each. Written by incidents.services.incidents when a
warning is issued or a level changed with a notice, recorded on the timeline (hash-chained) in the
same transaction, and delivered to the groups through notifications.routing. Never changed."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models.incident import Incident
from incidents.models.plan import WarningLevel
from organizations.models import ResponseGroup


class WarningNoticeManager(models.Manager["WarningNotice"]):
    """Notices come with their level, issuer and groups: the incident page and the API read
    `incident.warning_notices.all()` in a fixed number of queries, whatever the number of rows."""

    def get_queryset(self) -> models.QuerySet["WarningNotice"]:
        return (
            super()
            .get_queryset()
            .select_related("level", "issued_by")
            .prefetch_related(
                models.Prefetch(
                    "assignments", queryset=WarningNoticeGroup.objects.select_related("group").order_by("id")
                )
            )
        )


class WarningNotice(models.Model):
    class Kind(models.TextChoices):
        ISSUED = "issued", _("发布预警")
        LEVEL_CHANGED = "level_changed", _("调整级别")

    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), on_delete=models.PROTECT, related_name="warning_notices"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.ISSUED)
    level = models.ForeignKey(WarningLevel, verbose_name=_("预警级别"), on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("预警内容"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("发布时间"))

    objects = WarningNoticeManager()

    class Meta:
        verbose_name = _("预警通知")
        verbose_name_plural = _("预警通知")
        ordering = ["issued_at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} · {self.level_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("Warning notices are never changed")
        super().save(*args, **kwargs)


class WarningNoticeGroup(models.Model):
    """One working group a notice assigns, with what is required of it."""

    notice = models.ForeignKey(
        WarningNotice, verbose_name=_("预警通知"), on_delete=models.PROTECT, related_name="assignments"
    )
    group = models.ForeignKey(ResponseGroup, verbose_name=_("工作组"), on_delete=models.PROTECT, related_name="+")
    requirement = models.TextField(_("工作要求"), blank=True)

    class Meta:
        verbose_name = _("预警通知工作组")
        verbose_name_plural = _("预警通知工作组")
        ordering = ["notice", "id"]
        constraints = [models.UniqueConstraint(fields=["notice", "group"], name="warning_notice_group_unique")]

    def __str__(self) -> str:
        return f"{self.notice_id} · {self.group_id}"
