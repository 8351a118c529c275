"""Keyword matching of 监测方案: normalisation, the expression syntax and the one-pass engine.

Pure Python, no models: services build a Matcher from stored schemes and feed it posts.
"""

from monitoring.matching.engine import Hit, Matcher, SchemeSpec, naive_match
from monitoring.matching.expression import ExpressionError, parse, scheme_node, words_split
from monitoring.matching.normalize import text_normalize

__all__ = [
    "ExpressionError",
    "Hit",
    "Matcher",
    "SchemeSpec",
    "naive_match",
    "parse",
    "scheme_node",
    "text_normalize",
    "words_split",
]
