"""信息检索: full-text search over a unit's posts, in Chinese.

Posts carry `search_text`, the words of title and text as jieba's search mode cuts them, separated
by spaces (search_words, filled when a post is matched; `manage.py posts_reindex`
fills posts that lack it). Search mode lists each word jieba finds and, before a long one, the
dictionary words inside it (食品安全 → 食品 安全 食品安全). A query is read by `search_query_parse`:

- plain words: each is cut by jieba into its words (the words search mode starts from) and every
  word is required, anywhere in the post; 安全 finds 食品安全 too. A long word (食品安全) is found as
  a word of the post, or as the dictionary words inside it when the post cut it into a longer one
  (食品安全法 lists 食品 安全, not 食品安全) and then checked as written in title or text;
- a quoted phrase ("…", “…” or 「…」): its words are required and the phrase must occur as written
  (adjacent characters, any case) in the title or the text. Positions in `search_text` cannot say
  "adjacent": search mode puts a word's parts before the word (食品 安全 食品安全 问题), so 安全问题 is
  not two neighbouring lexemes there although it is two neighbouring words of the post;
- `-词` (or `-"短语"`): posts containing it as written are left out. Not a tsquery negation: that
  would keep 食品安全法 for -食品安全, and a negation alone cannot use the index anyway; the words
  that are required narrow the posts first, the exclusion is then a check of each one.

On PostgreSQL the words go to the GIN index `mention_search` (migration 0003), which is built on
`to_tsvector('simple', search_text)`: the WHERE clause uses exactly that expression, and the words
are handed to `plainto_tsquery('simple', %s)` as parameters, so nothing a user types is ever part
of the SQL and PostgreSQL splits the query words as it split the post's. Other databases (SQLite in
development and tests) compare the words and phrases with LIKE on title and text.

Results are the newest first (captured_at, then id), a page at a time by keyset (`before_id`: the
last post of the previous page), so a page costs the same however deep it is.
"""

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jieba
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection, transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, Func, OuterRef, Prefetch, Q, QuerySet, Value
from django.utils.safestring import SafeString

from monitoring.highlight import text_highlight
from monitoring.models import Mention, SchemeMatch

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
MAX_QUERY_CHARS = 200
MAX_WORDS = 32
MAX_LIMIT = 200

_TERM = re.compile(r'(?P<neg>[-－]?)(?:"(?P<q1>[^"]*)"?|“(?P<q2>[^”]*)”?|「(?P<q3>[^」]*)」?|(?P<word>[^\s"“「]+))')


jieba.setLogLevel(logging.WARNING)  # not a line per process about building its dictionary


def search_words(title: str, text: str) -> str:
    """The words of a post as jieba's search mode cuts them, separated by spaces (for full-text search)."""
    words = jieba.cut_for_search(f"{title}\n{text}")
    return " ".join(word for word in (w.strip() for w in words) if word)[:60_000]


@dataclass(frozen=True)
class SearchTerms:
    """A query as read: what every post found contains and what none of them contains."""

    words: tuple[str, ...] = ()  # the jieba words of the plain terms and phrases, each required
    plain_words: tuple[str, ...] = ()  # those of the plain terms (LIKE checks phrases whole)
    # A long word and the dictionary words inside it, as search mode lists them: a post holding
    # 食品安全法 has 食品 安全 安全法 食品安全法 but not 食品安全.
    inner_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phrases: tuple[str, ...] = ()  # required as written
    excluded: tuple[str, ...] = ()  # no post found contains any of these as written
    marks: tuple[str, ...] = ()  # what to highlight in a result, longest first


def _kept(words: Any) -> list[str]:
    """The words that are words: no spaces, no punctuation alone."""
    return [word for word in (w.strip() for w in words) if any(c.isalnum() for c in word)]


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))[:MAX_WORDS]


def search_query_parse(q: str) -> SearchTerms:
    """Read a query: plain words, quoted phrases and -excluded words (see the module docstring)."""
    words: list[str] = []
    plain_words: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    for match in _TERM.finditer((q or "")[:MAX_QUERY_CHARS]):
        phrase = match["q1"] if match["q1"] is not None else match["q2"] if match["q2"] is not None else match["q3"]
        text = " ".join((phrase if phrase is not None else match["word"] or "").split())
        cut = _kept(jieba.cut(text)) if text else []
        if not cut:
            continue
        if match["neg"]:
            excluded.append(text)
            continue
        words += cut
        if phrase is not None:
            phrases.append(text)
        else:
            plain_words += cut
    unique_words = _unique(words)
    # Search mode lists the 2- and 3-character dictionary words inside a longer word: only a word of
    # 4 or more characters can hide in a post's longer word without being listed.
    inner = {word: tuple(w for w in _kept(jieba.cut_for_search(word)) if w != word) for word in unique_words}
    return SearchTerms(
        words=unique_words,
        plain_words=_unique(plain_words),
        inner_words={word: parts for word, parts in inner.items() if parts and len(word) >= 4},
        phrases=_unique(phrases),
        excluded=_unique(excluded),
        marks=tuple(sorted(set(words) | set(phrases), key=len, reverse=True)[:MAX_WORDS]),
    )


class PostWords(Func):
    """to_tsvector('simple', search_text): the very expression the GIN index mention_search is built
    on, so that PostgreSQL answers `@@` from the index. (SearchVector would wrap it in COALESCE.)"""

    template = "to_tsvector('simple'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


def _tsquery(words: Sequence[str]) -> SearchQuery:
    # One bound parameter: plainto_tsquery splits it as to_tsvector split the post and ANDs the
    # lexemes; no operator a user types means anything to it.
    return SearchQuery(" ".join(words), config="simple", search_type="plain")


def _contains(text: str) -> Q:
    return Q(title__icontains=text) | Q(text__icontains=text)


def _words_filtered(posts: QuerySet[Mention], terms: SearchTerms) -> QuerySet[Mention]:
    """PostgreSQL: posts with every word, from the GIN index (a long word also through the words
    inside it; _as_written_filtered then checks it)."""
    if connection.vendor != "postgresql":
        return posts
    found: Any = None
    simple = [word for word in terms.words if word not in terms.inner_words]
    if simple:
        found = _tsquery(simple)
    for word, inner in terms.inner_words.items():
        either = _tsquery([word]) | _tsquery(inner)
        found = either if found is None else found & either
    if found is None:
        return posts
    return posts.alias(post_words=PostWords("search_text")).filter(post_words=found)


def _as_written_filtered(posts: QuerySet[Mention], terms: SearchTerms) -> QuerySet[Mention]:
    """What LIKE checks in title and text: the phrases and excluded terms; on PostgreSQL the long
    words found through their inner words, elsewhere every word."""
    if connection.vendor == "postgresql":
        as_written = (*terms.inner_words, *terms.phrases)
    else:
        as_written = (*terms.plain_words, *terms.phrases)
    for text in as_written:
        posts = posts.filter(_contains(text))
    for text in terms.excluded:
        posts = posts.exclude(_contains(text))
    return posts


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_ZONE)


def posts_search(
    *,
    organization_id: int,
    q: str = "",
    source_id: int | None = None,
    platform: str = "",
    scheme_id: int | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    attached: bool | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[Mention]:
    """The unit's posts matching the query and filters, newest first (captured_at, id), at most
    `limit` (≤ 200) of them, after the post `before_id` when given. Never another unit's post.

    `since`/`until` are days in Shanghai (both included) or exact moments; `scheme_id`: posts the
    unit's scheme matched; `attached`: True for posts linked to an incident, False for the others.
    Each post comes with its source, its incident and its matches (with their schemes) loaded."""
    posts = Mention.objects.filter(organization_id=organization_id)
    if before_id is not None:
        last = Mention.objects.filter(pk=before_id, organization_id=organization_id).values_list(
            "captured_at", flat=True
        )
        if not last:
            return []
        posts = posts.filter(Q(captured_at__lt=last[0]) | Q(captured_at=last[0], pk__lt=before_id))
    terms = search_query_parse(q)
    posts = _words_filtered(posts, terms)
    from_index = bool(terms.words) and connection.vendor == "postgresql" and _few_candidates(posts)
    posts = _as_written_filtered(posts, terms)
    if source_id is not None:
        posts = posts.filter(source_id=source_id)
    if platform:
        posts = posts.filter(platform=platform)
    if scheme_id is not None:
        matched = SchemeMatch.objects.filter(
            scheme_id=scheme_id, scheme__organization_id=organization_id, mention_id=OuterRef("pk")
        )
        posts = posts.filter(Exists(matched))
    if since is not None:
        posts = posts.filter(captured_at__gte=since if isinstance(since, datetime) else _day_start(since))
    if until is not None:
        if isinstance(until, datetime):
            posts = posts.filter(captured_at__lte=until)
        else:
            posts = posts.filter(captured_at__lt=_day_start(until + timedelta(days=1)))
    if attached is not None:
        posts = posts.filter(incident__isnull=not attached)
    matches = SchemeMatch.objects.select_related("scheme").only("id", "mention_id", "words", "scheme__name")
    return list(
        posts.select_related("source", "incident")
        .defer("search_text")
        .prefetch_related(Prefetch("matches", queryset=matches.order_by("scheme__name")))
        .order_by(*_newest_first(from_index=from_index))[: max(1, min(limit, MAX_LIMIT))]
    )


# Fewer posts estimated to hold the words than this: read them all through the GIN index and sort
# them, rather than walk the unit's posts newest first testing each one. Walking costs about
# limit / density posts at ~4 µs each (to_tsvector again); reading costs each match at ~10-15 µs
# (a heap page apiece). Measured at a million posts (600,000 in the unit): both ~40 ms at ~3,000.
GIN_FIRST_BELOW = 3_000


def _few_candidates(posts: QuerySet[Mention]) -> bool:
    """Whether PostgreSQL estimates (from the index's statistics; nothing is read) that few posts
    hold the words."""
    sql, params = posts.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        row = cursor.fetchone()
    plan = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return int(plan[0]["Plan"]["Plan Rows"]) < GIN_FIRST_BELOW


def _newest_first(*, from_index: bool) -> list[Any]:
    """Newest first. With `from_index`, by an expression the captured_at indexes cannot give, so
    PostgreSQL reads the matches through the GIN index: left to itself it walks the recent-posts
    index for anything but the rarest words (it does not count to_tsvector on each post it passes),
    ~200 ms at a million posts for a word in one post of 300, against ~10 ms."""
    captured_at: Any = F("captured_at")
    if from_index:
        captured_at = ExpressionWrapper(F("captured_at") + Value(timedelta(0)), output_field=DateTimeField())
    return [captured_at.desc(), F("pk").desc()]


REINDEX_BATCH = 500


def posts_reindex(*, organization_id: int | None = None, batch: int = REINDEX_BATCH) -> int:
    """Fill `search_text` of the posts that lack it (of one unit, or all), as posts_match fills it;
    one short transaction per batch, in id order, so a run always ends and can be repeated.
    Returns how many posts got their words."""
    posts = Mention.objects.filter(search_text="")
    if organization_id is not None:
        posts = posts.filter(organization_id=organization_id)
    done, last_id = 0, 0
    while True:
        with transaction.atomic():
            chunk = list(
                posts.filter(pk__gt=last_id)
                .select_for_update(skip_locked=True)  # a post being matched right now gets its words there
                .order_by("pk")
                .only("id", "title", "text")[:batch]
            )
            if not chunk:
                return done
            last_id = chunk[-1].pk
            for post in chunk:
                post.search_text = search_words(post.title, post.text)
            filled = [post for post in chunk if post.search_text]
            Mention.objects.bulk_update(filled, ["search_text"])
            done += len(filled)


# --- showing a result


def text_marked(text: str, marks: Sequence[str], *, width: int | None = None) -> SafeString:
    """The text escaped, with each of `marks` in <mark> (monitoring.highlight). With `width`, an excerpt of about
    that many characters around the first mark (… where cut), whitespace collapsed."""
    text = " ".join((text or "").split())
    pattern = re.compile("(" + "|".join(re.escape(mark) for mark in marks) + ")", re.IGNORECASE) if marks else None
    if width is not None and len(text) > width:
        first = pattern.search(text) if pattern else None
        start = max(0, (first.start() if first else 0) - width // 4)
        start = min(start, len(text) - width)
        text = ("…" if start > 0 else "") + text[start : start + width] + ("…" if start + width < len(text) else "")
    return text_highlight(text, marks)
