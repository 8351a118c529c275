"""研判支持: near-duplicate clusters of posts, each post's risk score, the labels a unit gives its posts
and the risk models it trains from them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident
from monitoring.models import KeywordScheme, Mention
from organizations.models import Organization


class RiskLabel(models.TextChoices):
    NEGATIVE = "negative", _("负面")
    NEUTRAL = "neutral", _("中性")
    POSITIVE = "positive", _("正面")


class AnalysisSettings(models.Model):
    """A unit's 研判 settings: its own risk words. Its row is also the lock that serialises the
    clustering of the unit's posts across workers."""

    organization = models.OneToOneField(
        Organization, verbose_name=_("单位"), primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    risk_words = models.TextField(
        _("本单位风险词"),
        blank=True,
        help_text=_("含有这些词的信息风险分更高；词与词之间用空格、逗号或换行分隔。"),
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("研判设置")
        verbose_name_plural = _("研判设置")

    def __str__(self) -> str:
        return str(self.organization_id)


class Cluster(models.Model):
    """Copies of one post (reposts, lightly edited versions) in a unit: its head is the earliest."""

    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    head = models.ForeignKey(
        Mention, verbose_name=_("首发信息"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    post_count = models.PositiveIntegerField(_("信息条数"), default=0)
    platform_counts = models.JSONField(_("各平台条数"), default=dict)
    first_seen_at = models.DateTimeField(_("首次出现"))
    last_seen_at = models.DateTimeField(_("最近出现"))
    negative_count = models.PositiveIntegerField(_("负面条数"), default=0)
    risk_max = models.FloatField(_("最高风险分"), default=0.0)
    risk_sum = models.FloatField(default=0.0, editable=False)
    risk_words = models.JSONField(_("风险词"), default=dict)  # word -> posts it appears in
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("信息聚类")
        verbose_name_plural = _("信息聚类")
        ordering = ["-last_seen_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-last_seen_at"], name="cluster_unit_recent"),
            models.Index(fields=["organization", "-post_count"], name="cluster_unit_size"),
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.post_count}"

    @property
    def risk_mean(self) -> float:
        return self.risk_sum / self.post_count if self.post_count else 0.0

    @property
    def negative_share(self) -> float:
        return self.negative_count / self.post_count if self.post_count else 0.0

    def risk_words_top(self, n: int = 8) -> list[tuple[str, int]]:
        return sorted(self.risk_words.items(), key=lambda item: (-item[1], item[0]))[:n]


class PostAnalysis(models.Model):
    """What 研判 knows of one post: its cluster, its MinHash signature and its risk score."""

    mention = models.OneToOneField(
        Mention, verbose_name=_("信息"), primary_key=True, on_delete=models.CASCADE, related_name="analysis"
    )
    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    cluster = models.ForeignKey(Cluster, verbose_name=_("聚类"), on_delete=models.CASCADE, related_name="posts")
    signature = models.BinaryField(editable=False)  # MinHash values, uint64 little-endian; empty: no text
    seen_at = models.DateTimeField(_("出现时间"))  # published, else captured
    platform = models.CharField(_("平台"), max_length=20)
    risk_score = models.FloatField(_("风险分"), default=0.0)
    risk_label = models.CharField(_("倾向"), max_length=10, choices=RiskLabel.choices, default=RiskLabel.NEUTRAL)
    risk_words = models.JSONField(_("风险词"), default=list)
    scorer = models.CharField(_("评分器"), max_length=60, blank=True)
    analysed_at = models.DateTimeField(_("分析时间"))

    class Meta:
        verbose_name = _("信息研判")
        verbose_name_plural = _("信息研判")
        indexes = [
            models.Index(fields=["cluster", "seen_at"], name="analysis_cluster_time"),
            models.Index(fields=["organization", "-analysed_at"], name="analysis_unit_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.mention_id} → {self.cluster_id}"


class ClusterBand(models.Model):
    """One LSH band key of a post's signature: posts of a unit sharing a key are candidate copies."""

    organization_id: int
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.BigIntegerField()
    post = models.ForeignKey(PostAnalysis, on_delete=models.CASCADE, related_name="bands")

    class Meta:
        indexes = [models.Index(fields=["organization", "key"], name="band_unit_key")]

    def __str__(self) -> str:
        return f"{self.post_id}: {self.key}"


class PostLabel(models.Model):
    """A person's judgement of a post (负面/中性/正面): what a unit trains its own model from."""

    mention = models.OneToOneField(
        Mention, verbose_name=_("信息"), primary_key=True, on_delete=models.CASCADE, related_name="label"
    )
    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    label = models.CharField(_("标注"), max_length=10, choices=RiskLabel.choices)
    labelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("标注人"), on_delete=models.PROTECT, related_name="+"
    )
    labelled_at = models.DateTimeField(_("标注时间"))

    class Meta:
        verbose_name = _("信息标注")
        verbose_name_plural = _("信息标注")
        indexes = [models.Index(fields=["organization", "label"], name="label_unit")]

    def __str__(self) -> str:
        return f"{self.mention_id}: {self.label}"


class ScorerModel(models.Model):
    """A risk model a unit trained (TF-IDF over character n-grams + logistic regression), with the
    labels it learnt from and its evaluation on held-out posts. At most one is in use per unit."""

    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("训练时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("训练人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("训练数据"), max_length=200)
    payload = models.BinaryField(editable=False)  # joblib of the fitted scikit-learn pipeline
    classes = models.JSONField(_("类别"), default=list)
    label_counts = models.JSONField(_("各类标注数"), default=dict)
    evaluation = models.JSONField(_("留出集评估"), default=dict)
    in_use = models.BooleanField(_("使用中"), default=False)
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    rolled_back_at = models.DateTimeField(_("回退时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("风险模型")
        verbose_name_plural = _("风险模型")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization"], condition=Q(in_use=True), name="scorer_one_in_use")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.created_at:%Y-%m-%d %H:%M}"


class SchemeRiskRules(models.Model):
    """A keyword scheme's alert rules on risk and growth, checked after each batch of its posts is
    scored: ≥ N negative posts in M minutes; growth of the last window over the one before; a
    cluster of the scheme crossing a heat threshold. A rule left empty is off. The row is also the
    lock that serialises checking the scheme's rules (a rule fires at most once per its window)."""

    scheme = models.OneToOneField(
        KeywordScheme, verbose_name=_("监测方案"), primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    risky_posts = models.PositiveIntegerField(_("负面信息条数"), null=True, blank=True)
    risky_minutes = models.PositiveIntegerField(_("负面信息统计时段（分钟）"), default=60)
    growth_percent = models.PositiveIntegerField(_("增长幅度（%）"), null=True, blank=True)
    growth_minutes = models.PositiveIntegerField(_("增长统计时段（分钟）"), default=60)
    growth_min_posts = models.PositiveIntegerField(_("增长最少条数"), default=10)
    cluster_posts = models.PositiveIntegerField(_("聚类热度阈值（条）"), null=True, blank=True)
    cluster_minutes = models.PositiveIntegerField(_("聚类热度统计时段（分钟）"), default=60)
    fired_at = models.JSONField(default=dict, editable=False)  # rule -> when it last fired (ISO)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("风险与增长预警规则")
        verbose_name_plural = _("风险与增长预警规则")

    def __str__(self) -> str:
        return str(self.scheme_id)

    @property
    def any_on(self) -> bool:
        return any(v is not None for v in (self.risky_posts, self.growth_percent, self.cluster_posts))


class ReboundNotice(models.Model):
    """A rebound of an incident's heat during 跟踪 that its groups and leaders were told of: the n-th
    rebound of its heat is told once (unique), whichever worker sees it first."""

    incident = models.ForeignKey(Incident, verbose_name=_("舆情"), on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField(_("第几次反弹"))
    told_at = models.DateTimeField(_("通知时间"))
    figures = models.JSONField(_("热度数据"), default=dict)

    class Meta:
        verbose_name = _("热度反弹通知")
        verbose_name_plural = _("热度反弹通知")
        constraints = [models.UniqueConstraint(fields=["incident", "number"], name="rebound_once")]

    def __str__(self) -> str:
        return f"{self.incident_id} #{self.number}"
