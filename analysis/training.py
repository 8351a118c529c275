"""A unit's own risk model: labelled posts (from its staff's labels or a CSV file of `text,label`)
→ TF-IDF over character 1-3-grams + logistic regression (scikit-learn), evaluated on a held-out
fifth of the posts (stratified, fixed seed); the model kept is the one evaluated.

Labels: negative/neutral/positive, 负面/中性/正面, or 0/1 as public sentiment sets write them
(0 = negative, 1 = positive). Bad rows are skipped with their row number and reason; too few
labels or a single class refuse the training with a DomainError, so nothing is replaced.
"""

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils.translation import gettext as _
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline

from analysis.clustering import text_for_clustering
from analysis.models import RiskLabel
from monitoring.matching.normalize import text_normalize
from opinion_ops.errors import DomainError

MAX_TEXT = 20_000
MAX_ROWS = 200_000
MIN_LABELS = 20  # in all
MIN_PER_CLASS = 5  # of each class used
HELD_OUT = 0.2
SEED = 2026

LABEL_ALIASES = {
    "negative": RiskLabel.NEGATIVE,
    "neg": RiskLabel.NEGATIVE,
    "负面": RiskLabel.NEGATIVE,
    "0": RiskLabel.NEGATIVE,
    "neutral": RiskLabel.NEUTRAL,
    "中性": RiskLabel.NEUTRAL,
    "positive": RiskLabel.POSITIVE,
    "pos": RiskLabel.POSITIVE,
    "正面": RiskLabel.POSITIVE,
    "1": RiskLabel.POSITIVE,
}
CLASS_ORDER = [RiskLabel.NEGATIVE.value, RiskLabel.NEUTRAL.value, RiskLabel.POSITIVE.value]


def label_parse(value: str) -> str | None:
    found = LABEL_ALIASES.get((value or "").strip().casefold())
    return found.value if found is not None else None


def text_problem(text: str) -> str | None:
    """Why a text cannot be learnt from (None when it can)."""
    if not text.strip():
        return _("内容为空")
    if len(text) > MAX_TEXT:
        return _("内容超过 %(n)s 个字符") % {"n": MAX_TEXT}
    if not text_for_clustering(text):
        return _("没有文字（只有表情、符号或链接）")
    return None


@dataclass
class LabelledRows:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row number as a spreadsheet counts, reason)

    def counts(self) -> dict[str, int]:
        return dict(Counter(self.labels))


def csv_read(data: bytes) -> LabelledRows:
    """The rows of a `text,label` CSV file (UTF-8, with or without BOM, or GB18030). A file without
    those columns is refused; a bad row is skipped with its reason."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise DomainError(_("文件编码无法识别，请保存为 UTF-8 编码的 CSV。"), field="csv")
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = [cell.strip().casefold() for cell in next(reader)]
    except StopIteration:
        raise DomainError(_("文件是空的。"), field="csv") from None
    except csv.Error as error:
        raise DomainError(_("文件不是有效的 CSV：%(e)s") % {"e": error}, field="csv") from None
    if "text" not in header or "label" not in header:
        raise DomainError(_("第 1 行须是列名 text,label（内容,标注）。"), field="csv")
    text_at, label_at = header.index("text"), header.index("label")
    rows = LabelledRows()
    seen: dict[str, str] = {}
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            rows.skipped.append((number, _("格式错误：%(e)s") % {"e": error}))
            continue
        if not cells or not any(cell.strip() for cell in cells):
            continue
        if len(cells) <= max(text_at, label_at):
            rows.skipped.append((number, _("列数不足")))
            continue
        text, label = cells[text_at], label_parse(cells[label_at])
        problem = text_problem(text)
        if problem:
            rows.skipped.append((number, problem))
            continue
        if label is None:
            rows.skipped.append(
                (
                    number,
                    _("标注“%(v)s”无法识别（应为 negative/neutral/positive 或 0/1）") % {"v": cells[label_at][:20]},
                )
            )
            continue
        key = text_normalize(text)
        if key in seen:
            rows.skipped.append((number, _("与前面的行内容重复")))
            continue
        seen[key] = label
        rows.texts.append(text)
        rows.labels.append(label)
        if len(rows.texts) >= MAX_ROWS:
            rows.skipped.append((number + 1, _("超过 %(n)s 行，其余未读") % {"n": MAX_ROWS}))
            break
    return rows


def labels_check(labels: Sequence[str]) -> None:
    """Enough labels of at least two classes, else a DomainError saying what is missing."""
    counts = Counter(labels)
    if len(counts) < 2:
        raise DomainError(
            _("只有一类标注（%(label)s），至少需要两类（如负面和非负面）才能训练。")
            % {"label": "、".join(str(RiskLabel(k).label) for k in counts) or _("无")},
            field="labels",
        )
    if len(labels) < MIN_LABELS:
        raise DomainError(
            _("标注太少：共 %(n)s 条，至少需要 %(min)s 条。") % {"n": len(labels), "min": MIN_LABELS}, field="labels"
        )
    short = [k for k, n in counts.items() if n < MIN_PER_CLASS]
    if short:
        raise DomainError(
            _("“%(labels)s”的标注太少，每类至少需要 %(min)s 条。")
            % {"labels": "、".join(str(RiskLabel(k).label) for k in short), "min": MIN_PER_CLASS},
            field="labels",
        )


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """The default scorer's weights of risk and praise as four features next to the n-grams, so a
    model learns from a few hundred labels what the lexicon already knows."""

    def fit(self, texts: Sequence[str], labels: Any = None) -> "LexiconFeatures":
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        from analysis.scoring import NEGATIVE_AT, LexiconScorer

        scorer = LexiconScorer()
        rows = []
        for text in texts:
            risk, praise, _words = scorer.explain(text)
            rows.append([risk, praise, risk - praise, float(risk - praise >= NEGATIVE_AT)])
        return np.asarray(rows, dtype=float).reshape(len(rows), 4)


def pipeline_new() -> Pipeline:
    """Chosen by 5-fold cross-validation on the training part of analysis/data (char 1-2-grams with
    the lexicon features: 0.90; char 1-3-grams alone: 0.87)."""
    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        (
                            "tfidf",
                            TfidfVectorizer(
                                analyzer="char", ngram_range=(1, 2), sublinear_tf=True, max_features=200_000
                            ),
                        ),
                        ("lexicon", LexiconFeatures()),
                    ]
                ),
            ),
            ("model", LogisticRegression(max_iter=3000, C=10.0, class_weight="balanced")),
        ]
    )


def evaluation_of(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy and per-class precision/recall/F1/support, classes in a fixed order."""
    classes = [c for c in CLASS_ORDER if c in set(truth) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=classes, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4) if truth else 0.0,
        "n": len(truth),
        "classes": {
            c: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, c in enumerate(classes)
        },
    }


def model_fit(texts: Sequence[str], labels: Sequence[str]) -> tuple[Pipeline, dict[str, Any]]:
    """Fit on four fifths, evaluate on the held-out fifth (stratified, seed 2026)."""
    labels_check(labels)
    normalised = [text_normalize(t[:MAX_TEXT]) for t in texts]
    train_x, test_x, train_y, test_y = train_test_split(
        normalised, list(labels), test_size=HELD_OUT, random_state=SEED, stratify=list(labels)
    )
    pipeline = pipeline_new()
    pipeline.fit(train_x, train_y)
    evaluation = evaluation_of(test_y, [str(p) for p in pipeline.predict(test_x)])
    evaluation["n_train"] = len(train_x)
    return pipeline, evaluation
