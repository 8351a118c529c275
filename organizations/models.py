"""Units, their people and their emergency working groups: what every other app stands on."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """A unit (单位) that runs its own plan; reports and escalations travel up `parent`."""

    name = models.CharField(_("单位名称"), max_length=200, unique=True)
    code = models.SlugField(_("单位代码"), max_length=64, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级主管部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subordinates",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": _("上级主管部门不能是本单位或其下级单位。")})
            ancestor = ancestor.parent


class Membership(models.Model):
    """A user's unit. Roles come from the response groups the user belongs to."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="memberships"
    )
    is_unit_admin = models.BooleanField(
        _("单位管理员"), default=False, help_text=_("可在后台维护本单位的预案、工作组和人员。")
    )
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("单位成员")
        verbose_name_plural = _("单位成员")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization}"


class ResponseGroup(models.Model):
    """One of the unit's emergency working groups (领导小组、监测组、研判组 …)."""

    class Kind(models.TextChoices):
        LEADERSHIP = "leadership", _("领导小组")
        OFFICE = "office", _("领导小组办公室")
        MONITORING = "monitoring", _("舆情监测组")
        ANALYSIS = "analysis", _("舆情研判组")
        HANDLING = "handling", _("舆情处置组")
        PUBLICITY = "publicity", _("宣传组（信息发布）")
        LEGAL = "legal", _("法律援助组")
        SUPPORT = "support", _("综合保障组")

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="response_groups"
    )
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    duties = models.TextField(_("工作职责"), blank=True)
    members = models.ManyToManyField(  # type: ignore[var-annotated]
        settings.AUTH_USER_MODEL, through="GroupMember", related_name="response_groups", verbose_name=_("成员")
    )

    class Meta:
        verbose_name = _("工作组")
        verbose_name_plural = _("工作组")
        ordering = ["organization", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="group_name_unique_per_unit")]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    class Position(models.TextChoices):
        HEAD = "head", _("组长")
        DEPUTY = "deputy", _("副组长")
        MEMBER = "member", _("成员")

    group = models.ForeignKey(
        ResponseGroup, verbose_name=_("工作组"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="group_memberships"
    )
    position = models.CharField(_("职务"), max_length=10, choices=Position.choices, default=Position.MEMBER)
    duties = models.CharField(_("分工"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("工作组成员")
        verbose_name_plural = _("工作组成员")
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="group_member_unique")]

    def __str__(self) -> str:
        return f"{self.group} · {self.user} · {self.get_position_display()}"

    def clean(self) -> None:
        membership = Membership.objects.filter(user_id=self.user_id).first()
        if self.group_id and (membership is None or membership.organization_id != self.group.organization_id):
            raise ValidationError({"user": _("只能把本单位的人员加入工作组。")})


class AuditEntry(models.Model):
    """One change to a unit's configuration (plans, people, groups, tokens, webhooks, channels,
    sign-in security): who, when, what it was before and after. Append-only, in Python and, on
    PostgreSQL, in the database; written by the service that made the change, in its transaction."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=64)
    target_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    target_label = models.CharField(_("对象"), max_length=200, blank=True)
    summary = models.CharField(_("摘要"), max_length=500)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("配置审计记录")
        verbose_name_plural = _("配置审计记录")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["organization", "-recorded_at"], name="audit_unit_recent")]

    def __str__(self) -> str:
        return self.summary

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("Audit entries are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only")
