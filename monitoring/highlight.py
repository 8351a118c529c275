"""The words that hit, marked in a post as it was written: the alert page, the scheme's 试用 and
search results all show posts this way.

Words and text are compared as the matcher compares them (full/half width, case, traditional and
simplified: normalize.text_normalize), character by character, so a word typed 食堂 is marked in a
post that wrote 食堂 or ＳＨＩＴＡＮＧ-style full-width letters alike. Everything else is escaped.
"""

import functools
from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from monitoring.matching.normalize import text_normalize


@functools.lru_cache(maxsize=16_384)
def _char_normal(char: str) -> str:
    return " " if char.isspace() else text_normalize(char)


def text_highlight(text: str, words: Iterable[str]) -> SafeString:
    """`text`, escaped, with every occurrence of `words` in <mark>."""
    terms = {text_normalize(word) for word in words if word} - {""}
    if not text or not terms:
        return escape(text)
    owner: list[int] = []  # owner[i]: the position in `text` of the i-th normalised character
    parts = []
    for index, char in enumerate(text):
        normal = _char_normal(char)
        parts.append(normal)
        owner.extend([index] * len(normal))
    normalized = "".join(parts)
    marked = [False] * len(text)
    for term in terms:
        start = normalized.find(term)
        while start != -1:
            for position in range(start, start + len(term)):
                marked[owner[position]] = True
            start = normalized.find(term, start + 1)
    out, start = [], 0
    while start < len(text):
        end = start
        while end < len(text) and marked[end] == marked[start]:
            end += 1
        chunk = escape(text[start:end])
        out.append(f"<mark>{chunk}</mark>" if marked[start] else str(chunk))
        start = end
    return mark_safe("".join(out))  # noqa: S308 - every piece of the text was escaped above
