"""研判支持's writes: clustering and scoring posts, labels, training and rolling back a unit's model,
its risk words. Each write is one function in one transaction, writing its audit entry there.

Clustering is serialised per unit by locking the unit's AnalysisSettings row (SELECT … FOR UPDATE on
PostgreSQL; SQLite serialises writers anyway), so two workers never make two clusters of one post's
copies; the candidates of a post are found by its LSH band keys in ClusterBand (one indexed query a
batch), which every worker shares, so clustering survives restarts.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis import clustering
from analysis.models import (
    AnalysisSettings,
    Cluster,
    ClusterBand,
    PostAnalysis,
    PostLabel,
    RiskLabel,
    SchemeRiskRules,
    ScorerModel,
)
from analysis.policies import analysis_require
from analysis.rules import posts_rules_check
from analysis.scoring import RiskScorer, pipeline_dump, scorer_for_unit
from analysis.training import model_fit
from monitoring.matching.expression import words_split
from monitoring.models import Mention, SchemeMatch
from opinion_ops.db import rows_update
from opinion_ops.errors import DomainError
from organizations.audit import audit_record
from organizations.policies import unit_require

logger = logging.getLogger(__name__)

BATCH = 500
RISK_WORDS_LIMIT = 5_000
CLUSTER_WORDS_KEPT = 30
SWEEP_WAIT = timedelta(minutes=1)  # the hook normally does it first
SWEEP_LOOKBACK = timedelta(days=1)
# What counting a post in its cluster changes (_cluster_add).
CLUSTER_COUNTS = (
    "post_count",
    "platform_counts",
    "head_id",
    "first_seen_at",
    "last_seen_at",
    "risk_sum",
    "risk_max",
    "negative_count",
    "risk_words",
)


def settings_locked(organization_id: int) -> AnalysisSettings:
    """The unit's settings row, locked: the one place clustering of the unit waits for another worker."""
    try:
        with transaction.atomic():
            AnalysisSettings.objects.get_or_create(organization_id=organization_id)
    except IntegrityError:  # another worker made it meanwhile
        pass
    return AnalysisSettings.objects.select_for_update().get(organization_id=organization_id)


def unit_risk_words(row: AnalysisSettings | None) -> tuple[str, ...]:
    return tuple(words_split(row.risk_words)) if row is not None and row.risk_words else ()


def _cluster_add(cluster: Cluster, analysis: PostAnalysis) -> None:
    """Count the post in its cluster (in memory; saved by the caller)."""
    cluster.post_count += 1
    counts = dict(cluster.platform_counts or {})
    counts[analysis.platform] = counts.get(analysis.platform, 0) + 1
    cluster.platform_counts = counts
    if cluster.head_id is None or analysis.seen_at < cluster.first_seen_at:
        cluster.head_id = analysis.mention_id
    cluster.first_seen_at = min(cluster.first_seen_at, analysis.seen_at)
    cluster.last_seen_at = max(cluster.last_seen_at, analysis.seen_at)
    cluster.risk_sum += analysis.risk_score
    cluster.risk_max = max(cluster.risk_max, analysis.risk_score)
    if analysis.risk_label == RiskLabel.NEGATIVE:
        cluster.negative_count += 1
    words = dict(cluster.risk_words or {})
    for word in dict.fromkeys(analysis.risk_words):
        words[word] = words.get(word, 0) + 1
    if len(words) > CLUSTER_WORDS_KEPT:
        words = dict(sorted(words.items(), key=lambda item: -item[1])[:CLUSTER_WORDS_KEPT])
    cluster.risk_words = words


def _unit_analyse(organization_id: int, post_ids: list[int], now: datetime) -> int:
    with transaction.atomic():
        row = settings_locked(organization_id)
        posts = list(
            Mention.objects.filter(organization_id=organization_id, pk__in=post_ids, analysis__isnull=True)
            .only("id", "organization_id", "platform", "title", "text", "published_at", "captured_at")
            .order_by("captured_at", "id")
        )
        if not posts:
            return 0
        scorer: RiskScorer = scorer_for_unit(organization_id)
        unit_words = unit_risk_words(row)
        prepared = []
        all_keys: set[int] = set()
        for post in posts:
            values = clustering.signature(post.text if clustering.text_for_clustering(post.text) else post.title)
            keys = clustering.band_keys(values)
            all_keys.update(keys)
            prepared.append((post, values, keys))
        # The candidates of the whole batch in one query: band key -> [(post id, cluster id)]
        by_key: dict[int, list[tuple[int, int]]] = defaultdict(list)
        signatures: dict[int, Any] = {}
        if all_keys:
            found = list(
                ClusterBand.objects.filter(organization_id=organization_id, key__in=list(all_keys)).values_list(
                    "key", "post_id", "post__cluster_id", "post__signature"
                )
            )
            for key, post_id, its_cluster, data in found:
                by_key[key].append((post_id, its_cluster))
                if post_id not in signatures:
                    signatures[post_id] = clustering.signature_from(data)
        # The clusters the candidates belong to, locked in one query (in id order); a new cluster is
        # made in memory under a temporary negative id and inserted with the others at the end.
        clusters: dict[int, Cluster] = Cluster.objects.select_for_update().in_bulk(
            sorted({its_cluster for pairs in by_key.values() for _post, its_cluster in pairs})
        )
        new_clusters: dict[int, Cluster] = {}
        counted: set[int] = set()
        analyses: list[PostAnalysis] = []
        bands: list[ClusterBand] = []
        for post, values, keys in prepared:
            seen_at = min(post.published_at or post.captured_at, post.captured_at)
            result = scorer.score(f"{post.title}\n{post.text}" if post.title else post.text, unit_words=unit_words)
            cluster_id: int | None = None
            if values is not None:
                candidates: dict[int, tuple[int, Any]] = {}
                for key in keys:
                    for other_id, other_cluster in by_key.get(key, ()):
                        other = signatures.get(other_id)
                        if other is not None:
                            candidates.setdefault(other_id, (other_cluster, other))
                cluster_id = clustering.best_candidate(values, list(candidates.values()))
            if cluster_id is None or cluster_id not in clusters:  # (or its cluster was purged meanwhile)
                cluster_id = -1 - len(new_clusters)
                new_clusters[cluster_id] = clusters[cluster_id] = Cluster(
                    organization_id=organization_id, first_seen_at=seen_at, last_seen_at=seen_at
                )
            analysis = PostAnalysis(
                mention_id=post.pk,
                organization_id=organization_id,
                cluster_id=cluster_id,
                signature=clustering.signature_bytes(values),
                seen_at=seen_at,
                platform=post.platform,
                risk_score=result.score,
                risk_label=result.label,
                risk_words=list(result.words),
                scorer=scorer.name[:60],
                analysed_at=now,
            )
            _cluster_add(clusters[cluster_id], analysis)
            counted.add(cluster_id)
            analyses.append(analysis)
            # Later posts find this one as a candidate: one post per cluster and band key is enough.
            if values is not None:
                signatures[post.pk] = values
                for key in keys:
                    if any(other_cluster == cluster_id for _other, other_cluster in by_key.get(key, ())):
                        continue
                    by_key[key].append((post.pk, cluster_id))
                    bands.append(ClusterBand(organization_id=organization_id, key=key, post_id=post.pk))
        Cluster.objects.bulk_create(new_clusters.values(), batch_size=BATCH)
        for analysis in analyses:
            if analysis.cluster_id < 0:
                analysis.cluster_id = new_clusters[analysis.cluster_id].pk
        PostAnalysis.objects.bulk_create(analyses, batch_size=BATCH)
        ClusterBand.objects.bulk_create(bands, batch_size=BATCH * 5)
        grown = [clusters[cluster_id] for cluster_id in sorted(counted) if cluster_id > 0]
        for cluster in grown:
            cluster.updated_at = now  # (auto_now is not applied by bulk_update)
        rows_update(grown, [*CLUSTER_COUNTS, "updated_at"])
        return len(analyses)


def posts_analyse(post_ids: Iterable[int], now: datetime | None = None) -> int:
    """Cluster and score the given posts not analysed yet, unit by unit; returns how many were. A
    unit whose batch fails is logged and left for the sweeper; the other units go on."""
    now = now or timezone.now()
    by_unit: dict[int, list[int]] = defaultdict(list)
    for pk, organization_id in Mention.objects.filter(pk__in=list(post_ids)).values_list("pk", "organization_id"):
        by_unit[organization_id].append(pk)
    done = 0
    for organization_id, ids in sorted(by_unit.items()):
        for start in range(0, len(ids), BATCH):
            try:
                done += _unit_analyse(organization_id, ids[start : start + BATCH], now)
            except Exception:  # contained: matching and alerts go on; the sweeper tries again
                logger.exception("posts of unit %s could not be analysed", organization_id)
    return done


def posts_matched_analyse(posts: list[Mention]) -> None:
    """The hook monitoring.alerts.posts_match calls with the posts that matched a scheme: cluster and
    score them, then check the risk and growth rules of the schemes they matched (analysis.rules)."""
    ids = [post.pk for post in posts]
    now = timezone.now()
    posts_analyse(ids, now)
    try:
        posts_rules_check(ids, now)
    except Exception:  # contained: matching and the scheme's own alerts stand
        logger.exception("risk and growth rules could not be checked")


def posts_analyse_due(limit: int = BATCH, now: datetime | None = None) -> int:
    """The sweeper: posts matched in the last day, or attached to an incident, that were not analysed
    (a worker died, analysis failed, a post typed into an incident) once they have waited a minute."""
    now = now or timezone.now()
    matched = (
        SchemeMatch.objects.filter(
            matched_at__gte=now - SWEEP_LOOKBACK, matched_at__lte=now - SWEEP_WAIT, mention__analysis__isnull=True
        )
        .order_by("matched_at")
        .values_list("mention_id", flat=True)[:limit]
    )
    attached = (
        Mention.objects.filter(incident__isnull=False, analysis__isnull=True, captured_at__lte=now - SWEEP_WAIT)
        .order_by("captured_at")
        .values_list("pk", flat=True)[:limit]
    )
    waiting = list(dict.fromkeys([*matched, *attached]))[:limit]
    if not waiting:
        return 0
    done = posts_analyse(waiting)
    # The matched ones the hook missed (a worker died after matching): their schemes' risk and growth
    # rules are checked now, as the hook would have.
    late = [pk for pk in matched if pk in set(waiting)]
    if late:
        try:
            posts_rules_check(late, now)
        except Exception:  # contained, as in the hook
            logger.exception("risk and growth rules could not be checked")
    return done


def incident_posts_analyse(*, incident_id: int) -> int:
    """Cluster and score the posts attached to an incident that are not analysed yet."""
    ids = list(Mention.objects.filter(incident_id=incident_id, analysis__isnull=True).values_list("pk", flat=True))
    return posts_analyse(ids) if ids else 0


# --- labels


def post_label(*, mention_id: int, label: str, actor: Any) -> PostLabel | None:
    """Record (or change, or with label "" clear) a person's judgement of a post of their unit."""
    post = Mention.objects.filter(pk=mention_id).only("id", "organization_id", "text").first()
    if post is None:
        raise DomainError(_("信息不存在。"), code="not_found")
    analysis_require("label_posts", actor, post.organization_id)
    if label and label not in RiskLabel.values:
        raise DomainError(_("请选择负面、中性或正面。"), field="label")
    with transaction.atomic():
        before = PostLabel.objects.select_for_update().filter(mention_id=mention_id).first()
        previous = before.label if before else ""
        if not label:
            if before is not None:
                before.delete()
            saved = None
        else:
            saved, _created = PostLabel.objects.update_or_create(
                mention_id=mention_id,
                defaults={
                    "organization_id": post.organization_id,
                    "label": label,
                    "labelled_by": actor,
                    "labelled_at": timezone.now(),
                },
            )
        if previous != label:
            audit_record(
                organization=post.organization_id,
                actor=actor,
                action="analysis.label",
                target=post,
                target_type="mention",
                summary=_("标注信息：%(text)s → %(label)s")
                % {"text": post.text[:40], "label": RiskLabel(label).label if label else _("取消标注")},
                before={"label": previous},
                after={"label": label},
            )
    return saved


# --- the unit's model


def _model_use(model: ScorerModel | None, organization_id: int, now: datetime) -> None:
    ScorerModel.objects.filter(organization_id=organization_id, in_use=True).update(in_use=False)
    if model is not None:
        model.in_use, model.activated_at = True, now
        model.save(update_fields=["in_use", "activated_at"])


def scorer_train(
    *,
    organization_id: int,
    actor: Any,
    texts: list[str] | None = None,
    labels: list[str] | None = None,
    source: str = "",
) -> ScorerModel:
    """Train the unit's model from the given rows, or from its staff's labels; the new model is used
    from then on. A training that fails (too few labels, one class) raises DomainError and leaves the
    model in use as it was. `actor` None: a management command (set-up code, no policy check)."""
    if actor is not None:
        analysis_require("manage_scorer", actor, organization_id)
    if texts is None or labels is None:
        rows = list(
            PostLabel.objects.filter(organization_id=organization_id)
            .select_related("mention")
            .values_list("mention__title", "mention__text", "label")
        )
        texts = [f"{title}\n{text}" if title else text for title, text, _label in rows]
        labels = [label for _t, _x, label in rows]
        source = source or _("本单位标注（%(n)s 条）") % {"n": len(rows)}
    pipeline, evaluation = model_fit(texts, labels)  # DomainError here: nothing is stored
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    now = timezone.now()
    with transaction.atomic():
        settings_locked(organization_id)  # one model change of a unit at a time
        model = ScorerModel.objects.create(
            organization_id=organization_id,
            created_at=now,
            created_by=actor if getattr(actor, "pk", None) else None,
            source=source[:200],
            payload=pipeline_dump(pipeline),
            classes=[str(c) for c in pipeline.classes_],
            label_counts=counts,
            evaluation=evaluation,
        )
        _model_use(model, organization_id, now)
        audit_record(
            organization=organization_id,
            actor=actor,
            action="analysis.model_train",
            target=model,
            target_type="scorer_model",
            summary=_("训练并启用风险模型（%(source)s），留出集准确率 %(acc).1f%%")
            % {"source": source, "acc": evaluation["accuracy"] * 100},
            after={"label_counts": counts, "accuracy": evaluation["accuracy"]},
        )
    return model


def scorer_rollback(*, organization_id: int, actor: Any) -> ScorerModel | None:
    """Stop using the model in use and go back to the one used before it (the default scorer when
    there is none); returns the model now in use."""
    if actor is not None:
        analysis_require("manage_scorer", actor, organization_id)
    now = timezone.now()
    with transaction.atomic():
        settings_locked(organization_id)
        current = ScorerModel.objects.filter(organization_id=organization_id, in_use=True).first()
        if current is None:
            raise DomainError(_("当前使用的是默认评分器，没有可以回退的模型。"), code="conflict")
        previous = (
            ScorerModel.objects.filter(
                organization_id=organization_id, rolled_back_at__isnull=True, activated_at__isnull=False
            )
            .exclude(pk=current.pk)
            .filter(Q(created_at__lt=current.created_at) | Q(created_at=current.created_at, pk__lt=current.pk))
            .order_by("-created_at", "-id")
            .first()
        )
        current.rolled_back_at = now
        current.save(update_fields=["rolled_back_at"])
        _model_use(previous, organization_id, now)
        audit_record(
            organization=organization_id,
            actor=actor,
            action="analysis.model_rollback",
            target=current,
            target_type="scorer_model",
            summary=_("回退风险模型：停用 %(current)s，改用 %(previous)s")
            % {
                "current": f"{current.created_at:%Y-%m-%d %H:%M}",
                "previous": f"{previous.created_at:%Y-%m-%d %H:%M}" if previous else _("默认评分器"),
            },
            before={"model": current.pk},
            after={"model": previous.pk if previous else None},
        )
    return previous


def analysis_settings_update(*, organization_id: int, actor: Any, risk_words: str) -> AnalysisSettings:
    """Change the unit's own risk words (used for posts analysed from now on)."""
    analysis_require("manage_scorer", actor, organization_id)
    risk_words = (risk_words or "").strip()
    if len(risk_words) > RISK_WORDS_LIMIT:
        raise DomainError(_("风险词不超过 %(n)s 个字符。") % {"n": RISK_WORDS_LIMIT}, field="risk_words")
    try:
        words = words_split(risk_words)
    except DomainError as error:
        raise DomainError(error.message, field="risk_words") from error
    with transaction.atomic():
        row = settings_locked(organization_id)
        before = row.risk_words
        row.risk_words = "\n".join(words)
        row.save(update_fields=["risk_words", "updated_at"])
        audit_record(
            organization=organization_id,
            actor=actor,
            action="analysis.settings",
            target=row,
            target_type="analysis_settings",
            summary=_("修改本单位风险词"),
            before={"risk_words": before},
            after={"risk_words": row.risk_words},
        )
    return row


# --- alert rules on risk and growth

RULE_FIELDS = (
    "risky_posts",
    "risky_minutes",
    "growth_percent",
    "growth_minutes",
    "growth_min_posts",
    "cluster_posts",
    "cluster_minutes",
)
WINDOW_LIMIT = 7 * 24 * 60  # a week, in minutes
COUNT_LIMIT = 1_000_000


def _rule_values_check(values: dict[str, Any]) -> None:
    """Every figure a whole number within bounds: windows 1 minute to a week, counts ≥ 1."""
    for name in RULE_FIELDS:
        value = values.get(name)
        optional = name in ("risky_posts", "growth_percent", "cluster_posts")
        if value is None:
            if optional:
                continue
            raise DomainError(_("请填写此项。"), field=name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise DomainError(_("请填写整数。"), field=name)
        if name.endswith("_minutes") and not 1 <= value <= WINDOW_LIMIT:
            raise DomainError(_("统计时段须在 1 到 %(n)s 分钟之间。") % {"n": WINDOW_LIMIT}, field=name)
        if not name.endswith("_minutes") and not 1 <= value <= COUNT_LIMIT:
            raise DomainError(_("须为不小于 1 的整数。"), field=name)


def scheme_risk_rules_update(*, scheme_id: int, actor: Any, **values: Any) -> SchemeRiskRules:
    """Set a keyword scheme's risk and growth rules (an empty threshold turns its rule off); checked
    from the next batch of the scheme's posts."""
    from monitoring.models import KeywordScheme

    scheme = KeywordScheme.objects.filter(pk=scheme_id).first()
    if scheme is None:
        raise DomainError(_("监测方案不存在。"), code="not_found")
    unit_require("manage_monitoring", actor, scheme.organization_id)
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise DomainError(_("未知的规则项：%(names)s") % {"names": "、".join(sorted(unknown))})
    _rule_values_check(values)
    with transaction.atomic():
        try:
            with transaction.atomic():
                created = SchemeRiskRules.objects.get_or_create(
                    scheme_id=scheme.pk, defaults={"organization_id": scheme.organization_id}
                )[1]
        except IntegrityError:  # another person made it meanwhile
            created = False
        rules = SchemeRiskRules.objects.select_for_update().get(scheme_id=scheme.pk)
        before = {name: getattr(rules, name) for name in RULE_FIELDS}
        for name in RULE_FIELDS:
            setattr(rules, name, values.get(name))
        rules.updated_by = actor
        rules.save()
        after = {name: getattr(rules, name) for name in RULE_FIELDS}
        if before != after or created:
            audit_record(
                organization=scheme.organization_id,
                actor=actor,
                action="analysis.risk_rules",
                target=scheme,
                target_type="keyword_scheme",
                summary=_("修改监测方案“%(name)s”的风险与增长预警规则") % {"name": scheme.name},
                before=before,
                after=after,
            )
    return rules
