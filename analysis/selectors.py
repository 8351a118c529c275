"""研判支持's reads: clusters and their posts, counts of clusters next to posts for an alert or an
incident, a cluster's heat, the posts waiting for a label, the unit's models. Every reader is given
the unit and finds rows only in it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, FloatField, Q, QuerySet, Value
from django.db.models.functions import Abs, TruncHour
from django.utils import timezone
from django.utils.translation import ngettext

from analysis.models import Cluster, PostAnalysis, PostLabel, RiskLabel, SchemeRiskRules, ScorerModel
from monitoring.models import KeywordScheme, Mention
from opinion_ops.db import compiled


@dataclass(frozen=True)
class ClusterCounts:
    posts: int
    clusters: int
    analysed: int  # posts with a cluster (the others are still waiting for analysis)


def _counted() -> dict[str, Count]:
    """What ClusterCounts counts of a set of posts (new expressions for each query)."""
    return {
        "posts": Count("pk", distinct=True),
        "analysed": Count("analysis", distinct=True),
        "clusters": Count("analysis__cluster", distinct=True),
    }


def _counts_of(row: dict[str, Any]) -> ClusterCounts:
    return ClusterCounts(posts=row["posts"], clusters=row["clusters"], analysed=row["analysed"])


def _counts(posts: QuerySet[Mention]) -> ClusterCounts:
    return _counts_of(posts.aggregate(**_counted()))


def alert_cluster_counts(*, organization_id: int, alert_id: int) -> ClusterCounts:
    """How many posts an alert holds and into how many clusters (copies of one post) they fall."""
    return _counts(Mention.objects.filter(organization_id=organization_id, matches__alert_id=alert_id))


def alerts_cluster_counts(*, organization_id: int, alert_ids: list[int]) -> dict[int, ClusterCounts]:
    """The counts of alert_cluster_counts for several alerts of the unit, in one query."""
    rows = (
        Mention.objects.filter(organization_id=organization_id, matches__alert_id__in=alert_ids)
        .values("matches__alert_id")
        .annotate(**_counted())
    )
    found = {row["matches__alert_id"]: _counts_of(row) for row in rows}
    return {pk: found.get(pk, ClusterCounts(0, 0, 0)) for pk in alert_ids}


@compiled
def _incident_counts(organization_id: int, incident_id: int) -> QuerySet[Mention, dict[str, Any]]:
    # Grouped by the unit the filter names: one row, or none without posts (aggregate() cannot be compiled).
    return (
        Mention.objects.filter(organization_id=organization_id, incident_id=incident_id)
        .values("organization_id")
        .annotate(**_counted())
        .order_by()
    )


def incident_cluster_counts(*, organization_id: int, incident_id: int) -> ClusterCounts:
    found = _incident_counts(organization_id, incident_id)
    return _counts_of(found[0]) if found else ClusterCounts(posts=0, clusters=0, analysed=0)


@compiled
def _incident_cluster_sizes(
    organization_id: int, incident_id: int, *, limit: int
) -> QuerySet[PostAnalysis, dict[str, Any]]:
    return (
        PostAnalysis.objects.filter(organization_id=organization_id, mention__incident_id=incident_id)
        .values("cluster_id")
        .annotate(in_incident=Count("pk"))
        .order_by("-in_incident", "cluster_id")[:limit]
    )


def incident_clusters(*, organization_id: int, incident_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The clusters of an incident's posts, the largest first: the cluster, its posts in the incident."""
    rows = _incident_cluster_sizes(organization_id, incident_id, limit=limit)
    if not rows:
        return []
    clusters = Cluster.objects.select_related("head").in_bulk([row["cluster_id"] for row in rows])
    return [
        {"cluster": clusters[row["cluster_id"]], "in_incident": row["in_incident"]}
        for row in rows
        if row["cluster_id"] in clusters
    ]


def clusters_of_unit(*, organization_id: int, order: str = "recent", offset: int = 0, limit: int = 50) -> list[Cluster]:
    orderings = {
        "recent": ("-last_seen_at", "-id"),
        "size": ("-post_count", "-last_seen_at"),
        "risk": ("-risk_max", "-post_count"),
    }
    return list(
        Cluster.objects.filter(organization_id=organization_id)
        .select_related("head")
        .order_by(*orderings.get(order, orderings["recent"]))[offset : offset + limit]
    )


def cluster_of_unit(*, organization_id: int, cluster_id: int) -> Cluster | None:
    return Cluster.objects.select_related("head").filter(pk=cluster_id, organization_id=organization_id).first()


def cluster_posts(*, cluster: Cluster, offset: int = 0, limit: int = 50) -> list[PostAnalysis]:
    """The cluster's posts, earliest first, with their labels (one query)."""
    return list(
        PostAnalysis.objects.filter(cluster=cluster)
        .select_related("mention", "mention__label")
        .order_by("seen_at", "mention_id")[offset : offset + limit]
    )


def posts_to_label(*, organization_id: int, offset: int = 0, limit: int = 50) -> list[PostAnalysis]:
    """待标注: analysed posts nobody labelled yet, those the scorer is least sure of first (a score near
    the middle), then the newest."""
    return list(
        PostAnalysis.objects.filter(organization_id=organization_id, mention__label__isnull=True)
        .select_related("mention")
        .annotate(doubt=Abs(F("risk_score") - Value(0.5, output_field=FloatField())))
        .order_by("doubt", "-analysed_at", "mention_id")[offset : offset + limit]
    )


def label_counts(*, organization_id: int) -> dict[str, int]:
    found = dict(
        PostLabel.objects.filter(organization_id=organization_id)
        .values_list("label")
        .annotate(n=Count("pk"))
        .values_list("label", "n")
    )
    return {label: found.get(label, 0) for label in RiskLabel.values}


def models_of_unit(*, organization_id: int, limit: int = 20) -> list[ScorerModel]:
    return list(
        ScorerModel.objects.filter(organization_id=organization_id)
        .defer("payload")
        .select_related("created_by")
        .order_by("-created_at", "-id")[:limit]
    )


def model_in_use(*, organization_id: int) -> ScorerModel | None:
    return (
        ScorerModel.objects.filter(organization_id=organization_id, in_use=True)
        .defer("payload")
        .select_related("created_by")
        .first()
    )


def model_of_unit(*, organization_id: int, model_id: int) -> ScorerModel | None:
    return (
        ScorerModel.objects.filter(organization_id=organization_id, pk=model_id)
        .defer("payload")
        .select_related("created_by")
        .first()
    )


def model_previous(*, organization_id: int, current: ScorerModel) -> ScorerModel | None:
    """The model a rollback would return to (None: the default scorer)."""
    return (
        ScorerModel.objects.filter(
            organization_id=organization_id, rolled_back_at__isnull=True, activated_at__isnull=False
        )
        .exclude(pk=current.pk)
        .filter(Q(created_at__lt=current.created_at) | Q(created_at=current.created_at, pk__lt=current.pk))
        .defer("payload")
        .order_by("-created_at", "-id")
        .first()
    )


# --- heat


@dataclass(frozen=True)
class Heat:
    labels: list[str]  # window ends, local time
    volume: list[int]  # posts per window
    negative: list[int]  # of which negative
    growth: float | None  # last window over the one before, as a ratio - 1 (None: nothing before)
    negative_share: float
    platforms: dict[str, int]
    rebound: bool  # volume rose again after falling


def _heat(
    rows: Any, start: datetime, size: timedelta, windows: int, negative_share: float, platforms: dict[str, int]
) -> Heat:
    """Bucket (seen_at, posts, negative posts) rows into `windows` windows of `size` from `start`:
    volume and negative posts per window, growth of the last window over the one before, and
    whether the volume rose again after it had fallen (a rebound)."""
    volume = [0] * windows
    negative = [0] * windows
    for seen_at, posts, negatives in rows:
        index = min(windows - 1, max(0, int((seen_at - start) / size)))
        volume[index] += posts
        negative[index] += negatives
    growth = (volume[-1] / volume[-2] - 1) if windows > 1 and volume[-2] else None
    peak_seen = fell = rebound = False
    previous = 0
    for count in volume:
        if peak_seen and count < previous:
            fell = True
        elif fell and count > previous:
            rebound = True
        peak_seen = peak_seen or count > 0
        previous = count
    labels = [timezone.localtime(start + size * (i + 1)).strftime("%m-%d %H:%M") for i in range(windows)]
    return Heat(
        labels=labels,
        volume=volume,
        negative=negative,
        growth=round(growth, 3) if growth is not None else None,
        negative_share=round(negative_share, 3),
        platforms=platforms,
        rebound=rebound,
    )


def cluster_heat(*, cluster: Cluster, window_minutes: int = 60, windows: int = 24, now: datetime | None = None) -> Heat:
    """Volume and negative posts of the cluster in consecutive windows ending at its last post (or
    now, if given), growth of the last window over the one before, share of negative posts and the
    spread across platforms."""
    end = now or cluster.last_seen_at
    size = timedelta(minutes=window_minutes)
    start = end - size * windows
    rows = PostAnalysis.objects.filter(cluster=cluster, seen_at__gt=start, seen_at__lte=end).values_list(
        "seen_at", "risk_label"
    )
    counted = ((seen_at, 1, int(label == RiskLabel.NEGATIVE)) for seen_at, label in rows)
    return _heat(counted, start, size, windows, cluster.negative_share, dict(cluster.platform_counts or {}))


INCIDENT_WINDOWS = 24


@compiled
def _incident_hours(organization_id: int, incident_id: int) -> QuerySet[PostAnalysis, dict[str, Any]]:
    """The incident's analysed posts counted by the hour (all and negative ones)."""
    return (
        PostAnalysis.objects.filter(organization_id=organization_id, mention__incident_id=incident_id)
        .annotate(hour=TruncHour("seen_at"))
        .values("hour")
        .annotate(n=Count("pk"), negative=Count("pk", filter=Q(risk_label=RiskLabel.NEGATIVE)))
        .order_by("hour")
    )


def incident_heat(*, organization_id: int, incident_id: int, now: datetime | None = None) -> Heat | None:
    """The heat of the posts attached to an incident, from its first post to now, in 24 windows of
    whole hours; counted by the hour in the database, so its cost follows the hours, not the posts.
    None when no attached post is analysed yet."""
    posts = PostAnalysis.objects.filter(organization_id=organization_id, mention__incident_id=incident_id)
    hourly = _incident_hours(organization_id, incident_id)
    if not hourly:
        return None
    first, last = hourly[0]["hour"], hourly[-1]["hour"] + timedelta(hours=1)
    end = max(now or timezone.now(), last)
    hours = max(1, -(-int((end - first).total_seconds()) // (3600 * INCIDENT_WINDOWS)))
    size = timedelta(hours=hours)
    start = end - size * INCIDENT_WINDOWS
    rows = [(row["hour"], row["n"], row["negative"]) for row in hourly]
    total = sum(row["n"] for row in hourly)
    platforms = dict(posts.values_list("platform").annotate(n=Count("pk")).order_by("-n"))
    negative = sum(row["negative"] for row in hourly)
    return _heat(rows, start, size, INCIDENT_WINDOWS, negative / total, platforms)


def scheme_heat(*, scheme_id: int, window_minutes: int = 60, windows: int = 24, now: datetime | None = None) -> Heat:
    """The heat of a keyword scheme's posts (analysed ones, by when they appeared) in `windows`
    windows ending now: volume, negative posts, growth, negative share and platforms."""
    end = now or timezone.now()
    size = timedelta(minutes=window_minutes)
    start = end - size * windows
    posts = PostAnalysis.objects.filter(mention__matches__scheme_id=scheme_id, seen_at__gt=start, seen_at__lte=end)
    rows = list(posts.values_list("seen_at", "risk_label", "platform"))
    platforms: dict[str, int] = {}
    for _seen, _label, platform in rows:
        platforms[platform] = platforms.get(platform, 0) + 1
    negative = sum(1 for _seen, label, _p in rows if label == RiskLabel.NEGATIVE)
    counted = ((seen_at, 1, int(label == RiskLabel.NEGATIVE)) for seen_at, label, _p in rows)
    return _heat(counted, start, size, windows, negative / len(rows) if rows else 0.0, platforms)


def schemes_of_unit(*, organization_id: int) -> list[KeywordScheme]:
    """The unit's keyword schemes with their risk and growth rules (None: none set)."""
    schemes = list(KeywordScheme.objects.filter(organization_id=organization_id).order_by("name", "id"))
    rules = SchemeRiskRules.objects.in_bulk([scheme.pk for scheme in schemes])
    for scheme in schemes:
        scheme.risk_rules = rules.get(scheme.pk)  # type: ignore[attr-defined]
    return schemes


def alerts_cluster_texts(organization_id: int, alert_ids: list[int]) -> dict[int, str]:
    """For the alert pages (monitoring.alert_counts): "N 个聚类" beside each alert's posts."""
    counts = alerts_cluster_counts(organization_id=organization_id, alert_ids=alert_ids)
    return {
        pk: ngettext("%(n)s 个聚类", "%(n)s 个聚类", c.clusters) % {"n": c.clusters}
        for pk, c in counts.items()
        if c.analysed
    }


@dataclass(frozen=True)
class IncidentPicture:
    """What 研判支持 knows of an incident's posts: counts, heat and its largest clusters."""

    counts: ClusterCounts
    heat: Heat | None
    clusters: list[dict[str, Any]]


PICTURE_CLUSTERS = 10
_PICTURE = "_analysis_picture"


def incident_picture(incident: Any) -> IncidentPicture:
    """The incident's picture, read once per incident object: the page's panel, the 研判 form's aid
    and the 总结评估's draft drawn in one request share it instead of counting three times."""
    picture: IncidentPicture | None = getattr(incident, _PICTURE, None)
    if picture is None:
        organization_id, incident_id = incident.organization_id, incident.pk
        picture = IncidentPicture(
            counts=incident_cluster_counts(organization_id=organization_id, incident_id=incident_id),
            heat=incident_heat(organization_id=organization_id, incident_id=incident_id),
            clusters=incident_clusters(
                organization_id=organization_id, incident_id=incident_id, limit=PICTURE_CLUSTERS
            ),
        )
        setattr(incident, _PICTURE, picture)
    return picture
