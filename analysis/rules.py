"""Alert rules on risk and growth, per keyword scheme (SchemeRiskRules), checked after a batch of the
scheme's posts is clustered and scored (posts_matched_analyse, the hook of monitoring's matching):

- 负面信息: ≥ N of the scheme's negative posts matched in the last M minutes and not in an alert yet
  (like the scheme's own rule: posts an alert took do not count again);
- 增长: posts of the last window (by the time they appeared) over the window before grew by ≥ X%,
  with at least `growth_min_posts` in the last window (so 1 → 2 posts is not +100%); it fires at
  most once per its window;
- 聚类热度: a cluster holding this batch's posts of the scheme reached ≥ T posts in the last window
  with this batch (it had fewer without it): crossing the threshold fires once.

A rule that fires raises an alert through monitoring.alerts.scheme_alert_raise (or adds the posts
to the scheme's active alert), its reason naming the rule and its figures. The scheme's rules row is
locked while its rules are checked, so two workers never both fire the growth rule.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from analysis.models import Cluster, PostAnalysis, RiskLabel, SchemeRiskRules
from monitoring.alerts import scheme_alert_raise
from monitoring.models import SchemeMatch


def _risky(rules: SchemeRiskRules, now: datetime) -> tuple[str, datetime] | None:
    assert rules.risky_posts is not None
    since = now - timedelta(minutes=rules.risky_minutes)
    found = SchemeMatch.objects.filter(
        scheme_id=rules.scheme_id,
        alert__isnull=True,
        matched_at__gte=since,
        mention__analysis__risk_label=RiskLabel.NEGATIVE,
    ).count()
    if found < rules.risky_posts:
        return None
    reason = _("风险规则「负面信息」：%(m)s 分钟内负面信息 %(n)s 条（阈值 %(t)s 条）") % {
        "m": rules.risky_minutes,
        "n": found,
        "t": rules.risky_posts,
    }
    return reason, since


def _seen_between(scheme_id: int, start: datetime, end: datetime) -> int:
    return PostAnalysis.objects.filter(
        mention__matches__scheme_id=scheme_id, seen_at__gt=start, seen_at__lte=end
    ).count()


def growth_figures(rules: SchemeRiskRules, now: datetime) -> tuple[int, int]:
    """(posts of the last window, posts of the window before) of the scheme, by when they appeared."""
    size = timedelta(minutes=rules.growth_minutes)
    return _seen_between(rules.scheme_id, now - size, now), _seen_between(rules.scheme_id, now - 2 * size, now - size)


def _growth(rules: SchemeRiskRules, now: datetime) -> tuple[str, datetime] | None:
    assert rules.growth_percent is not None
    fired = parse_datetime(rules.fired_at.get("growth") or "")
    if fired is not None and fired > now - timedelta(minutes=rules.growth_minutes):
        return None  # once per window
    last, before = growth_figures(rules, now)
    if last < rules.growth_min_posts:
        return None
    if before and (last - before) * 100 < rules.growth_percent * before:
        return None
    values = {
        "m": rules.growth_minutes,
        "last": last,
        "before": before,
        "g": round((last / before - 1) * 100) if before else "∞",
        "t": rules.growth_percent,
        "min": rules.growth_min_posts,
    }
    reason = (
        _(
            "风险规则「增长」：最近 %(m)s 分钟 %(last)s 条，前一时段 %(before)s 条，"
            "增长 %(g)s%%（阈值 %(t)s%%，至少 %(min)s 条）"
        )
        % values
    )
    rules.fired_at = {**rules.fired_at, "growth": now.isoformat()}
    return reason, now - timedelta(minutes=rules.growth_minutes)


def _cluster_heat(rules: SchemeRiskRules, batch: set[int], now: datetime) -> tuple[str, datetime] | None:
    assert rules.cluster_posts is not None
    since = now - timedelta(minutes=rules.cluster_minutes)
    clusters = set(
        PostAnalysis.objects.filter(mention_id__in=batch, mention__matches__scheme_id=rules.scheme_id).values_list(
            "cluster_id", flat=True
        )
    )
    if not clusters:
        return None
    rows = (
        PostAnalysis.objects.filter(cluster_id__in=clusters, seen_at__gt=since, seen_at__lte=now)
        .values("cluster_id")
        .annotate(n=Count("pk"))
    )
    recent = {row["cluster_id"]: row["n"] for row in rows}
    new = dict(
        PostAnalysis.objects.filter(cluster_id__in=clusters, mention_id__in=batch, seen_at__gt=since, seen_at__lte=now)
        .values_list("cluster_id")
        .annotate(n=Count("pk"))
        .values_list("cluster_id", "n")
    )
    crossed = [
        (n, pk) for pk, n in recent.items() if n >= rules.cluster_posts and n - new.get(pk, 0) < rules.cluster_posts
    ]
    if not crossed:
        return None
    n, pk = max(crossed)
    cluster = Cluster.objects.select_related("head").get(pk=pk)
    head = (cluster.head.text if cluster.head else "")[:30]
    reason = _("风险规则「聚类热度」：聚类“%(head)s”%(m)s 分钟内 %(n)s 条，达到热度阈值 %(t)s 条") % {
        "head": head,
        "m": rules.cluster_minutes,
        "n": n,
        "t": rules.cluster_posts,
    }
    return reason, since


def scheme_rules_check(*, scheme_id: int, batch: Iterable[int], now: datetime) -> bool:
    """Check the scheme's risk and growth rules after `batch` (post ids) was scored; raise an alert
    (or join the active one) when one fires. True when a rule fired."""
    batch_ids = set(batch)
    with transaction.atomic():
        rules = SchemeRiskRules.objects.select_for_update().filter(scheme_id=scheme_id).first()
        if rules is None or not rules.any_on:
            return False
        found: list[tuple[str, datetime]] = []
        checks: list[Any] = []
        if rules.risky_posts is not None:
            checks.append(lambda: _risky(rules, now))
        if rules.growth_percent is not None:
            checks.append(lambda: _growth(rules, now))
        if rules.cluster_posts is not None:
            checks.append(lambda: _cluster_heat(rules, batch_ids, now))
        for check in checks:
            result = check()
            if result is not None:
                found.append(result)
        if not found:
            return False
        reason = "；".join(text for text, _since in found)
        scheme_alert_raise(scheme_id, reason, now, since=min(since for _text, since in found))
        rules.save(update_fields=["fired_at"])
    return True


def posts_rules_check(post_ids: list[int], now: datetime) -> int:
    """After posts were scored: check the rules of every scheme they matched that has rules on."""
    schemes = set(
        SchemeMatch.objects.filter(mention_id__in=post_ids, scheme_id__in=SchemeRiskRules.objects.values("scheme_id"))
        .values_list("scheme_id", flat=True)
        .distinct()
    )
    return sum(1 for scheme_id in sorted(schemes) if scheme_rules_check(scheme_id=scheme_id, batch=post_ids, now=now))
