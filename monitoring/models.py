import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, Platform
from organizations.models import Organization


def mention_content_hash(url: str, text: str) -> str:
    """Same post seen twice (same link, same words modulo whitespace) hashes the same."""
    normalized = " ".join(text.split())
    return hashlib.sha256(f"{url.strip()}\n{normalized}".encode()).hexdigest()


class Source(models.Model):
    """Where a unit's posts come from: a feed it polls (RSS/Atom, an RSSHub route), the API its other
    tools push to, a file import, or staff typing them in. Every post names its source."""

    class Kind(models.TextChoices):
        FEED = "feed", _("RSS/Atom 订阅源")
        API = "api", _("接口推送")
        IMPORT = "import", _("文件导入")
        MANUAL = "manual", _("手工录入")

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="post_sources"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    platform = models.CharField(_("平台"), max_length=20, choices=Platform.choices, default=Platform.NEWS)
    url = models.URLField(_("订阅地址"), max_length=1000, blank=True)
    interval_minutes = models.PositiveIntegerField(_("抓取间隔（分钟）"), default=15)
    enabled = models.BooleanField(_("启用"), default=True)
    # Polling, as clocks are swept: claimed by an indexed due time.
    next_fetch_at = models.DateTimeField(_("下次抓取时间"), null=True, blank=True)
    etag = models.CharField(max_length=255, blank=True, editable=False)
    last_modified = models.CharField(max_length=255, blank=True, editable=False)
    failures = models.PositiveIntegerField(_("连续失败次数"), default=0, editable=False)
    last_fetch_at = models.DateTimeField(_("最近抓取"), null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(_("最近成功"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True, editable=False)
    last_error_at = models.DateTimeField(_("最近出错时间"), null=True, blank=True, editable=False)
    items_total = models.PositiveBigIntegerField(_("累计入库"), default=0, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信息来源")
        verbose_name_plural = _("信息来源")
        ordering = ["organization", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="source_name_per_unit")]
        indexes = [
            models.Index(fields=["next_fetch_at"], condition=Q(enabled=True, kind="feed"), name="source_feed_due")
        ]

    def __str__(self) -> str:
        return self.name


class Mention(models.Model):
    """A monitored post, from one of the unit's sources (feeds, the API, imports, staff)."""

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
    source = models.ForeignKey(
        Source, verbose_name=_("来源"), null=True, blank=True, on_delete=models.PROTECT, related_name="posts"
    )
    external_id = models.CharField(_("外部编号"), max_length=255, blank=True)
    title = models.CharField(_("标题"), max_length=500, blank=True)
    # The words of title and text as jieba segments them, separated by spaces: what full-text search
    # indexes (PostgreSQL's "simple" configuration then splits on the spaces).
    search_text = models.TextField(blank=True, editable=False)
    # When the post was segmented and matched against the schemes; None: still to do (the match
    # sweeper picks such posts up if their queued task was lost).
    matched_at = models.DateTimeField(null=True, blank=True, editable=False)
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
        constraints = [
            models.UniqueConstraint(fields=["organization", "content_hash"], name="mention_unique_per_unit"),
            # The same item of the same source twice (a feed read again, an API batch sent again).
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~Q(external_id=""), name="mention_unique_external"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-captured_at"], name="mention_unit_recent"),
            models.Index(fields=["captured_at"], condition=Q(matched_at__isnull=True), name="mention_to_match"),
        ]

    def __str__(self) -> str:
        return self.text[:40]


class MonitoringSettings(models.Model):
    """A unit's monitoring settings: words that exclude a post from every scheme, and how long posts
    that no incident holds are kept (个人信息最小化)."""

    organization = models.OneToOneField(
        Organization, verbose_name=_("单位"), primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    exclusions = models.TextField(_("全局排除词"), blank=True, help_text=_("含有这些词的信息不触发任何监测方案。"))
    retention_days = models.PositiveIntegerField(
        _("信息保存天数"), default=180, help_text=_("未关联舆情事件的信息保存这么多天后删除。")
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("监测设置")
        verbose_name_plural = _("监测设置")

    def __str__(self) -> str:
        return str(self.organization_id)


class KeywordScheme(models.Model):
    """A 监测方案: 地域词 + 主体词 + 事件词, minus 排除词, and/or an expert expression; its severity, its
    alert rule and its own recipients."""

    class Scope(models.TextChoices):
        TITLE = "title", _("仅标题")
        FULL = "full", _("标题和正文")

    class Severity(models.TextChoices):
        LOW = "low", _("一般")
        MEDIUM = "medium", _("重要")
        HIGH = "high", _("紧急")

    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="keyword_schemes"
    )
    name = models.CharField(_("方案名称"), max_length=100)
    regions = models.TextField(_("地域词"), blank=True)
    subjects = models.TextField(_("主体词"), blank=True)
    events = models.TextField(_("事件词"), blank=True)
    exclusions = models.TextField(_("排除词"), blank=True)
    expression = models.TextField(_("高级表达式"), blank=True)
    scope = models.CharField(_("匹配范围"), max_length=10, choices=Scope.choices, default=Scope.FULL)
    severity = models.CharField(_("预警等级"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    enabled = models.BooleanField(_("启用"), default=True)
    threshold_posts = models.PositiveIntegerField(_("触发条数"), default=1)
    window_minutes = models.PositiveIntegerField(_("统计时段（分钟）"), default=60)
    watched_accounts = models.TextField(_("重点关注账号"), blank=True)
    auto_incident = models.BooleanField(_("自动登记舆情"), default=False)
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("监测方案")
        verbose_name_plural = _("监测方案")
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="scheme_name_per_unit")]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """A warning raised by a scheme's rule; further matches join the active alert of the scheme."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        ACKNOWLEDGED = "acknowledged", _("已确认")
        DISMISSED = "dismissed", _("已排除")
        CONVERTED = "converted", _("已登记为舆情")

    ACTIVE = (Status.OPEN, Status.ACKNOWLEDGED)

    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    scheme = models.ForeignKey(
        KeywordScheme, verbose_name=_("监测方案"), on_delete=models.PROTECT, related_name="alerts"
    )
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.OPEN)
    severity = models.CharField(_("预警等级"), max_length=10, choices=KeywordScheme.Severity.choices)
    reason = models.CharField(_("触发原因"), max_length=300)
    post_count = models.PositiveIntegerField(_("信息条数"), default=0)
    first_matched_at = models.DateTimeField(_("首条时间"))
    last_matched_at = models.DateTimeField(_("最新时间"))
    raised_at = models.DateTimeField(_("预警时间"), auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    dismiss_reason = models.TextField(_("排除理由"), blank=True)
    incident = models.ForeignKey(
        Incident, verbose_name=_("舆情事件"), null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("监测预警")
        verbose_name_plural = _("监测预警")
        ordering = ["-last_matched_at", "-id"]
        constraints = [
            # Further matches update the active alert of the scheme instead of raising another.
            models.UniqueConstraint(
                fields=["scheme"], condition=Q(status__in=["open", "acknowledged"]), name="alert_one_active_per_scheme"
            )
        ]
        indexes = [models.Index(fields=["organization", "status", "-last_matched_at"], name="alert_unit_status")]

    def __str__(self) -> str:
        return f"{self.scheme_id}: {self.reason}"


class SchemeMatch(models.Model):
    """A post matched by a scheme, with the words that hit; the alert it counts in, if any."""

    scheme = models.ForeignKey(KeywordScheme, on_delete=models.CASCADE, related_name="matches")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="matches")
    words = models.JSONField(default=list)
    matched_at = models.DateTimeField(db_index=True)
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="matches")

    class Meta:
        verbose_name = _("命中记录")
        verbose_name_plural = _("命中记录")
        constraints = [models.UniqueConstraint(fields=["scheme", "mention"], name="match_once_per_scheme")]
        indexes = [models.Index(fields=["scheme", "-matched_at"], name="match_scheme_recent")]

    def __str__(self) -> str:
        return f"{self.scheme_id} ← {self.mention_id}"


class DutyShift(models.Model):
    """值班表: who watches when. Alerts reach the people on duty at the moment they are raised."""

    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("值班人"), on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("值班安排")
        verbose_name_plural = _("值班表")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["organization", "ends_at", "starts_at"], name="duty_unit_time")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="duty_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.starts_at:%Y-%m-%d %H:%M}"


class PostPurge(models.Model):
    """One run of the retention purge for a unit: what was deleted, up to when."""

    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    ran_at = models.DateTimeField(_("执行时间"), auto_now_add=True)
    cutoff = models.DateTimeField(_("删除此时间之前采集的信息"))
    posts_deleted = models.PositiveIntegerField(_("删除信息条数"), default=0)

    class Meta:
        verbose_name = _("信息清理记录")
        verbose_name_plural = _("信息清理记录")
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.ran_at:%Y-%m-%d %H:%M}: {self.posts_deleted}"
