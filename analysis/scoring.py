"""Risk scores: a pluggable scorer gives each post a score in [0, 1], a label (负面/中性/正面) and the
words that caused it.

The default scorer (`LexiconScorer`, setting ANALYSIS_SCORER, default "lexicon") works offline from
analysis.lexicon plus the unit's own risk words, with negation ("没有中毒" is no poisoning) and
official rebuttals (辟谣) taken into account. A unit that trained its own model
(analysis.training) is scored by it (`TrainedScorer`); the lexicon still names the words. Another
scorer is added with `scorer_register(name, factory)` and named in the setting.
"""

import functools
import io
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import joblib
import numpy as np
from django.conf import settings

from analysis import lexicon
from analysis.models import RiskLabel, ScorerModel
from monitoring.matching.normalize import text_normalize

MAX_SCORED_CHARS = 20_000  # the longest post ingest accepts
NEGATIVE_AT = 0.75  # weight of risk minus praise from which a post reads negative
POSITIVE_AT = -0.5


@dataclass(frozen=True)
class RiskResult:
    score: float  # 0 (no risk) .. 1
    label: str  # RiskLabel value
    words: tuple[str, ...]  # what caused the score, in the order found; a denied word is shown as "没有…"


class RiskScorer(Protocol):
    name: str

    def score(self, text: str, *, unit_words: Sequence[str] = ()) -> RiskResult: ...


# --- the lexicon


@dataclass(frozen=True)
class _Word:
    weight: float  # > 0 risk, < 0 praise
    category: str


@functools.cache
def _lexicon() -> tuple[dict[str, _Word], re.Pattern[str]]:
    words: dict[str, _Word] = {}
    for category, (_label, weight, members) in lexicon.RISK_CATEGORIES.items():
        for word in members:
            words.setdefault(text_normalize(word), _Word(weight, category))
    for word in lexicon.NEGATIVE_SENTIMENT:
        words.setdefault(text_normalize(word), _Word(lexicon.WEIGHT_SENTIMENT, "sentiment"))
    for word in lexicon.SARCASM:
        words.setdefault(text_normalize(word), _Word(lexicon.WEIGHT_SARCASM, "sarcasm"))
    for word in lexicon.POSITIVE_SENTIMENT:
        words.setdefault(text_normalize(word), _Word(-lexicon.WEIGHT_POSITIVE, "positive"))
    for word in lexicon.REBUTTAL:
        words.setdefault(text_normalize(word), _Word(0.0, "rebuttal"))
    for word in lexicon.HARMLESS:
        words.setdefault(text_normalize(word), _Word(0.0, "harmless"))
    return words, _alternation(words)


def _alternation(words: Any) -> re.Pattern[str]:
    ordered = sorted(words, key=lambda w: (-len(w), w))  # the longest word at a place wins
    return re.compile("|".join(re.escape(w) for w in ordered)) if ordered else re.compile(r"(?!)")


@functools.lru_cache(maxsize=256)
def _unit_pattern(unit_words: tuple[str, ...]) -> re.Pattern[str]:
    return _alternation({text_normalize(w) for w in unit_words if text_normalize(w)})


_NEGATOR = re.compile("(?:" + "|".join(sorted(map(re.escape, lexicon.NEGATORS), key=len, reverse=True)) + ")")
_NEGATOR_SHORT = re.compile("[" + "".join(lexicon.NEGATORS_SHORT) + "].?$")
_CLAUSE_END = re.compile(r"[,.!?;:，。！？；：、\n…~]")


def _denied(text: str, start: int) -> bool:
    """A negator in the few characters before `start`, within the same clause."""
    before = text[max(0, start - lexicon.NEGATION_REACH) : start]
    cut = max((m.end() for m in _CLAUSE_END.finditer(before)), default=0)
    clause = before[cut:]
    return bool(_NEGATOR.search(clause) or _NEGATOR_SHORT.search(clause[-2:]))


def risk_categories() -> dict[str, str]:
    """category -> its label, for pages that group the words."""
    return {key: str(label) for key, (label, _w, _m) in lexicon.RISK_CATEGORIES.items()}


def word_category(word: str) -> str:
    found = _lexicon()[0].get(text_normalize(word))
    return found.category if found else "unit"


class LexiconScorer:
    """Risk and sentiment words, the unit's own words, negation and rebuttal: no model, no download."""

    name = "lexicon"

    def explain(self, text: str, unit_words: Sequence[str] = ()) -> tuple[float, float, list[str]]:
        """(risk weight, praise weight, words) of the text."""
        normalised = text_normalize((text or "")[:MAX_SCORED_CHARS])
        if not normalised:
            return 0.0, 0.0, []
        words, pattern = _lexicon()
        risk = praise = 0.0
        found: list[str] = []
        seen: set[str] = set()
        rebuttal = sarcasm = False
        hits = [(m.start(), m.group(), words[m.group()]) for m in pattern.finditer(normalised)]
        if unit_words:
            hits += [
                (m.start(), m.group(), _Word(lexicon.WEIGHT_UNIT_WORD, "unit"))
                for m in _unit_pattern(tuple(unit_words)).finditer(normalised)
            ]
        taken_until = 0
        for start, word, entry in sorted(hits, key=lambda hit: (hit[0], -len(hit[1]))):
            if start < taken_until:  # inside a longer word already counted ("说法" in "给个说法")
                continue
            taken_until = start + len(word)
            if entry.category in ("rebuttal", "harmless"):
                rebuttal = rebuttal or entry.category == "rebuttal"
                continue
            denied = _denied(normalised, start)
            key = ("-" if denied else "") + word
            if key in seen:  # a word counts once, however often it is repeated
                continue
            seen.add(key)
            if entry.weight > 0 and not denied:
                sarcasm = sarcasm or entry.category == "sarcasm"
                risk += entry.weight
                found.append(word)
            elif entry.weight < 0 and not denied:
                praise -= entry.weight
                found.append(word)
            elif entry.weight < 0 and denied:  # "不满意", "没有及时": praise denied reads as complaint
                risk += lexicon.WEIGHT_DENIED_PRAISE
                found.append(f"不{word}")
        if sarcasm and praise:  # "好一个负责任的物业": the praise is mockery
            risk += praise * lexicon.WEIGHT_DENIED_PRAISE / lexicon.WEIGHT_POSITIVE
            praise = 0.0
        if rebuttal:  # a refutation repeats the rumour's words: they are reported, not alleged
            risk *= 0.3
        return risk, praise, found

    def score(self, text: str, *, unit_words: Sequence[str] = ()) -> RiskResult:
        risk, praise, words = self.explain(text, unit_words)
        net = risk - praise
        if net >= NEGATIVE_AT:
            label = RiskLabel.NEGATIVE
        elif praise and net <= POSITIVE_AT:
            label = RiskLabel.POSITIVE
        else:
            label = RiskLabel.NEUTRAL
        score = 1 - math.exp(-0.7 * max(risk - 0.5 * praise, 0.0))
        return RiskResult(round(score, 4), str(label), tuple(words))


class TrainedScorer:
    """A unit's own model: its probability of 负面 is the score, its likeliest class the label; the
    words are the lexicon's, else the character n-grams that pushed most towards 负面."""

    def __init__(self, model_id: int, pipeline: Any) -> None:
        self.model_id = model_id
        self.name = f"model:{model_id}"
        self.pipeline = pipeline
        self.classes = [str(c) for c in pipeline.classes_]
        self._lexicon = LexiconScorer()

    def _negative_ngrams(self, text: str, n: int = 3) -> list[str]:
        if RiskLabel.NEGATIVE not in self.classes:
            return []
        vectorizer = self.pipeline.named_steps["features"].transformer_list[0][1]
        model = self.pipeline.named_steps["model"]
        row = vectorizer.transform([text])
        coef = model.coef_[:, : row.shape[1]]  # the n-grams come first, the lexicon's features after
        if coef.shape[0] == 1:  # binary: the row is for classes_[1]
            weights = coef[0] if self.classes[1] == RiskLabel.NEGATIVE else -coef[0]
        else:
            weights = coef[self.classes.index(RiskLabel.NEGATIVE)]
        contributions = row.multiply(weights).tocsr()
        if contributions.nnz == 0:
            return []
        order = np.argsort(-contributions.data)[:n]
        names = vectorizer.get_feature_names_out()
        return [
            str(names[contributions.indices[i]]).strip()
            for i in order
            if contributions.data[i] > 0 and str(names[contributions.indices[i]]).strip()
        ]

    def score(self, text: str, *, unit_words: Sequence[str] = ()) -> RiskResult:
        normalised = text_normalize((text or "")[:MAX_SCORED_CHARS])
        if not normalised:
            return RiskResult(0.0, str(RiskLabel.NEUTRAL), ())
        probabilities = self.pipeline.predict_proba([normalised])[0]
        label = self.classes[int(np.argmax(probabilities))]
        negative = (
            float(probabilities[self.classes.index(RiskLabel.NEGATIVE)]) if RiskLabel.NEGATIVE in self.classes else 0.0
        )
        _risk, _praise, words = self._lexicon.explain(text, unit_words)
        if label == RiskLabel.NEGATIVE and not words:
            words = self._negative_ngrams(normalised)
        return RiskResult(round(negative, 4), label, tuple(words))

    def predict(self, texts: Sequence[str]) -> list[str]:
        normalised = [text_normalize((t or "")[:MAX_SCORED_CHARS]) for t in texts]
        return [str(label) for label in self.pipeline.predict(normalised)]


# --- which scorer


_factories: dict[str, Callable[[], RiskScorer]] = {"lexicon": LexiconScorer}


def scorer_register(name: str, factory: Callable[[], RiskScorer]) -> None:
    """Make a scorer available under a name (then name it in settings.ANALYSIS_SCORER)."""
    _factories[name] = factory


@functools.cache
def _default(name: str) -> RiskScorer:
    if name not in _factories:
        raise LookupError(f"ANALYSIS_SCORER names no registered scorer: {name!r}")
    return _factories[name]()


def scorer_default() -> RiskScorer:
    """The scorer of units without a model of their own (settings.ANALYSIS_SCORER)."""
    return _default(getattr(settings, "ANALYSIS_SCORER", "lexicon"))


def pipeline_load(payload: bytes | memoryview) -> Any:
    return joblib.load(io.BytesIO(bytes(payload)))


def pipeline_dump(pipeline: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    return buffer.getvalue()


_loaded_lock = threading.Lock()
_loaded: dict[int, TrainedScorer] = {}  # model id -> scorer: a model never changes once stored


def scorer_of_model(model_id: int) -> TrainedScorer:
    with _loaded_lock:
        found = _loaded.get(model_id)
    if found is None:
        payload = ScorerModel.objects.filter(pk=model_id).values_list("payload", flat=True).first()
        if payload is None:
            raise LookupError(f"no risk model {model_id}")
        found = TrainedScorer(model_id, pipeline_load(payload))
        with _loaded_lock:
            if len(_loaded) > 32:
                _loaded.clear()
            _loaded[model_id] = found
    return found


def scorer_for_unit(organization_id: int) -> RiskScorer:
    """The unit's model in use, else the default scorer."""
    model_id = (
        ScorerModel.objects.filter(organization_id=organization_id, in_use=True).values_list("pk", flat=True).first()
    )
    return scorer_of_model(model_id) if model_id is not None else scorer_default()
