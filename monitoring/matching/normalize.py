"""One spelling for keywords and posts, so that 食堂, 食堂, 食堂 in a title written in traditional
characters, ＡＢＣ and abc all meet: NFKC (full-width to half-width), casefold, OpenCC t2s
(traditional to simplified), whitespace runs to one space.

Measured on one core (Weibo-like posts of about 150 characters, bench/monitoring.py): NFKC's slow path
costs about 15 µs a post as soon as one full-width comma is present, OpenCC about 2.5 µs, so the common
full-width punctuation is folded by a regex first (the post is then usually already NFKC) and OpenCC
runs only on posts holding a character that t2s can change (about 0.6 µs to find out).
"""

import functools
import re
import unicodedata

import opencc

# OpenCC's converter holds read-only dictionaries after construction: one per process, shared by threads.
_T2S = opencc.OpenCC("t2s")

# Characters that t2s leaves alone on their own but changes inside a phrase of OpenCC 1.4.2's TSPhrases
# (沈默→沉默, 反覆→反复, 瞭解→了解, 藉口→借口, 甦醒→苏醒, 英哩→英里, 衹得→只得, 毛坏→毛坯).
_T2S_PHRASE_ONLY = "哩坏沈甦瞭藉衹覆"
# Where t2s finds something to change: the CJK blocks, their compatibility forms, planes 2 and 3.
_CJK_RANGES = ((0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F))
_CJK_ASTRAL = "\U00020000-\U0003ffff"  # CJK extensions B-H: rare in posts, always converted

# Full-width ASCII, the ideographic space and the ellipsis: the characters that make most Chinese posts
# non-NFKC. Each maps to its own NFKC form whatever surrounds it.
_FAST_FOLD = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " ", "\u2026": "..."}
_FAST_FOLD_RE = re.compile("[\uff01-\uff5e\u3000\u2026]")


@functools.cache
def _t2s_trigger() -> re.Pattern[str]:
    """A character class of every character t2s may change (built once, ~25 ms: each BMP CJK character
    is converted alone, in one call)."""
    chars = [chr(c) for start, end in _CJK_RANGES for c in range(start, end + 1)]
    converted = _T2S.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # a conversion merged lines: be safe and convert every CJK post
        return re.compile(f"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f{_CJK_ASTRAL}]")
    changed = {c for c, out in zip(chars, converted, strict=True) if c != out} | set(_T2S_PHRASE_ONLY)
    return re.compile("[" + "".join(sorted(changed)) + _CJK_ASTRAL + "]")


def _fold_fast(match: re.Match[str]) -> str:
    return _FAST_FOLD[match[0]]


def text_normalize(text: str) -> str:
    """NFKC, casefold, traditional to simplified (OpenCC t2s), runs of whitespace to one space (no
    leading or trailing space). Terms and posts both go through it, so a term matches a post by
    plain substring search of the two results."""
    if not text:
        return ""
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = _FAST_FOLD_RE.sub(_fold_fast, text)
            if not unicodedata.is_normalized("NFKC", text):
                text = unicodedata.normalize("NFKC", text)
        text = text.casefold()
        # Casefolding may undo NFKC in rare cases (ǰ, some Greek): redo it then, as NFKC_Casefold does.
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        if _t2s_trigger().search(text):
            text = _T2S.convert(text)
    else:
        text = text.casefold()
    return " ".join(text.split())
