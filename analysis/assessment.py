"""What 研判 shows above the assessment form (registered in incidents.assessment_aids from
AppConfig.ready()): the incident's clusters, its heat curve, a risk summary and a warning level
suggested from the plan's criteria with the facts that led to it. The analyst decides.

The suggestion is deliberately simple, so that it can be explained in a sentence:
- figures written in a level's 判定标准 are thresholds: "500 条" is posts ≥ 500, "负面…60%" is a
  negative share ≥ 60%, "增长…50%" growth of the last window ≥ 50%, "3 个平台" platforms ≥ 3;
  a level with figures is met when every figure is;
- a level without figures is met when a risk word its criteria name (中毒, 打人, …, or one of the
  unit's own) is among the words of the incident's posts;
- a level with neither is read on a default scale by its place among the plan's levels (the
  least severe: any post; then ≥ 20 posts and ≥ 30% negative; ≥ 100 and ≥ 50%; ≥ 500 and ≥ 60%).
The most severe level met is suggested.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from analysis import lexicon, selectors
from analysis.models import AnalysisSettings, PostAnalysis
from analysis.panels import PLATFORMS, heat_chart
from analysis.services import unit_risk_words
from incidents.models import Incident, WarningLevel

TOP_CLUSTERS = 5
TOP_WORDS = 10
TOP_POSTS = 5
WORDS_READ = 5_000  # posts whose words are counted (the most risky first)
DEFAULT_POSTS = (0, 20, 100, 500)
DEFAULT_SHARE = (0.0, 0.3, 0.5, 0.6)

_NUMBER = r"(\d+(?:\.\d+)?)"
_POSTS = re.compile(_NUMBER + r"\s*(?:条|篇|次|帖|个帖子)")
_PERCENT = re.compile(_NUMBER + r"\s*[%％]")
_PLATFORMS = re.compile(_NUMBER + r"\s*个(?:以上)?(?:网络|主要)?(?:平台|网站|媒体)")


@dataclass(frozen=True)
class Facts:
    posts: int
    clusters: int
    negative_share: float
    platforms: int
    growth: float | None
    words: dict[str, int]  # risk word -> posts it appears in
    post_words: tuple[frozenset[str], ...] = ()  # each post's risk words

    def posts_with(self, word: str) -> int:
        """Posts with the word or a longer one holding it ("中毒" in "食物中毒")."""
        return sum(1 for words in self.post_words if any(word in found for found in words))


@dataclass
class LevelCheck:
    level: WarningLevel
    met: bool = False
    reasons: list[str] = field(default_factory=list)


def _percent(share: float) -> str:
    return f"{round(share * 100)}%"


def criteria_figures(criteria: str) -> list[tuple[str, float]]:
    """The thresholds a level's 判定标准 states: [("posts"|"share"|"growth"|"platforms", value)]."""
    found: list[tuple[str, float]] = []
    for match in _PLATFORMS.finditer(criteria):
        found.append(("platforms", float(match.group(1))))
    for match in _POSTS.finditer(criteria):
        found.append(("posts", float(match.group(1))))
    for match in _PERCENT.finditer(criteria):
        before = criteria[max(0, match.start() - 12) : match.start()]
        if re.search(r"增长|上升|增幅|增加", before):
            found.append(("growth", float(match.group(1)) / 100))
        elif re.search(r"负面|差评|批评", before):
            found.append(("share", float(match.group(1)) / 100))
    return found


def _figure_check(kind: str, value: float, facts: Facts) -> tuple[bool, str]:
    if kind == "posts":
        met = facts.posts >= value
        return met, _("关联信息 %(n)s 条%(cmp)s判定标准的 %(v)s 条") % {
            "n": facts.posts,
            "cmp": "≥" if met else "<",
            "v": int(value),
        }
    if kind == "platforms":
        met = facts.platforms >= value
        return met, _("涉及 %(n)s 个平台%(cmp)s判定标准的 %(v)s 个") % {
            "n": facts.platforms,
            "cmp": "≥" if met else "<",
            "v": int(value),
        }
    if kind == "growth":
        met = facts.growth is not None and facts.growth >= value
        shown = _percent(facts.growth) if facts.growth is not None else _("无法计算")
        return met, _("最近时段增长 %(g)s%(cmp)s判定标准的 %(v)s") % {
            "g": shown,
            "cmp": "≥" if met else "<",
            "v": _percent(value),
        }
    met = facts.negative_share >= value
    return met, _("负面占比 %(s)s%(cmp)s判定标准的 %(v)s") % {
        "s": _percent(facts.negative_share),
        "cmp": "≥" if met else "<",
        "v": _percent(value),
    }


def _criteria_words(criteria: str, unit_words: tuple[str, ...]) -> list[str]:
    watched = {word for _label, _weight, words in lexicon.RISK_CATEGORIES.values() for word in words}
    watched.update(unit_words)
    return sorted((word for word in watched if len(word) >= 2 and word in criteria), key=lambda w: (-len(w), w))


def level_check(level: WarningLevel, place: int, facts: Facts, unit_words: tuple[str, ...] = ()) -> LevelCheck:
    """Is the level met by the facts, and why (place: 0 for the plan's least severe level)."""
    check = LevelCheck(level)
    figures = criteria_figures(level.criteria or "")
    if figures:
        results = [_figure_check(kind, value, facts) for kind, value in figures]
        check.met = all(met for met, _reason in results)
        check.reasons = [reason for _met, reason in results]
        return check
    counted = [(word, facts.posts_with(word)) for word in _criteria_words(level.criteria or "", unit_words)]
    words = [(word, n) for word, n in counted if n]
    if words:
        check.met = True
        check.reasons = [
            _("判定标准提到“%(word)s”，关联信息中 %(n)s 条含此词") % {"word": word, "n": n} for word, n in words[:3]
        ]
        return check
    posts = DEFAULT_POSTS[min(place, len(DEFAULT_POSTS) - 1)]
    share = DEFAULT_SHARE[min(place, len(DEFAULT_SHARE) - 1)]
    check.met = facts.posts >= max(posts, 1) and facts.negative_share >= share
    if place == 0:
        check.reasons = [_("判定标准未写明数量，作为最低级别：关联信息 %(n)s 条") % {"n": facts.posts}]
    else:
        check.reasons = [
            _(
                "判定标准未写明数量，按默认尺度（信息 ≥ %(p)s 条且负面占比 ≥ %(s)s）："
                "关联信息 %(n)s 条，负面占比 %(share)s"
            )
            % {"p": posts, "s": _percent(share), "n": facts.posts, "share": _percent(facts.negative_share)}
        ]
    return check


def level_suggest(
    levels: list[WarningLevel], facts: Facts, unit_words: tuple[str, ...] = ()
) -> tuple[WarningLevel | None, list[LevelCheck]]:
    """The most severe level the facts meet (levels given most severe first), and every level's check."""
    checks = [level_check(level, len(levels) - 1 - index, facts, unit_words) for index, level in enumerate(levels)]
    chosen = next((check.level for check in checks if check.met), None)
    return chosen, checks


def _risk_words(organization_id: int, incident_id: int) -> tuple[dict[str, int], tuple[frozenset[str], ...]]:
    """(risk word -> how many of the incident's posts it appears in, each post's words); a denied
    word ("不…") is left out."""
    counted: Counter[str] = Counter()
    rows = (
        PostAnalysis.objects.filter(organization_id=organization_id, mention__incident_id=incident_id)
        .order_by("-risk_score")
        .values_list("risk_words", flat=True)[:WORDS_READ]
    )
    post_words = []
    for words in rows:
        kept = frozenset(word for word in words or [] if not word.startswith("不"))
        counted.update(kept)
        if kept:
            post_words.append(kept)
    return dict(counted), tuple(post_words)


def incident_assessment_aid(incident: Incident) -> dict[str, Any] | None:
    """The clusters, heat, risk and suggested level shown above the incident's 研判 form (None when
    it has no posts)."""
    organization_id = incident.organization_id
    picture = selectors.incident_picture(incident)
    counts, heat = picture.counts, picture.heat
    if not counts.posts:
        return None
    words, post_words = _risk_words(organization_id, incident.pk)
    facts = Facts(
        posts=counts.posts,
        clusters=counts.clusters,
        negative_share=heat.negative_share if heat is not None else 0.0,
        platforms=len(heat.platforms) if heat is not None else 0,
        growth=heat.growth if heat is not None else None,
        words=words,
        post_words=post_words,
    )
    unit_words = unit_risk_words(AnalysisSettings.objects.filter(organization_id=organization_id).first())
    levels = list(WarningLevel.objects.filter(plan_id=incident.plan_id).order_by("rank"))
    suggested, checks = level_suggest(levels, facts, unit_words)
    risky = list(
        PostAnalysis.objects.filter(organization_id=organization_id, mention__incident_id=incident.pk, risk_score__gt=0)
        .select_related("mention")
        .order_by("-risk_score", "mention_id")[:TOP_POSTS]
    )
    return {
        "counts": counts,
        "clusters": picture.clusters[:TOP_CLUSTERS],
        "heat": heat,
        "heat_chart": heat_chart(heat) if heat is not None else None,
        "growth_percent": round(heat.growth * 100) if heat is not None and heat.growth is not None else None,
        "negative_percent": round(facts.negative_share * 100),
        "platforms": [(PLATFORMS.get(name, name), n) for name, n in (heat.platforms.items() if heat else [])],
        "risk_words": sorted(words.items(), key=lambda item: (-item[1], item[0]))[:TOP_WORDS],
        "risky_posts": risky,
        "suggested_level": suggested,
        "suggested_level_id": suggested.pk if suggested is not None else None,
        "suggestion_reasons": next((c.reasons for c in checks if c.met), []),
        "checks": checks,
    }
