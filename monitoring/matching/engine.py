"""Every scheme of every unit against a post in one pass.

Matcher is built once from all schemes (SchemeSpec: the tree from expression.scheme_node, the unit,
the scope) and reused for many posts; it holds no connection and no mutable state, so threads may
share it. Per post:

1. title and text are normalised once (normalize.text_normalize);
2. one Aho-Corasick automaton over the union of every scheme's terms (each normalised spelling once,
   whatever number of schemes and units use it) finds which terms occur, in the title and anywhere;
3. a unit's exclusion word anywhere in the post ends its matching there;
4. only the schemes indexed under a term that occurred are evaluated: each scheme is indexed under
   the terms one of which must occur for it to match (expression.required_terms);
5. a scheme's tree is compiled to closures over a bitset of the unit's terms (one bit per term of the
   unit), so `食堂 | 宿舍` is one `&`; proximity (~N) reads the positions of its two terms from a second
   automaton of proximity terms only, run on the rare post that reaches such a scheme. At most
   NEAR_OCCURRENCES positions are kept per term, so a post of 100,000 characters stays linear.

Scope: a "title" scheme sees the title only, its exclusions and proximity included; a "full" scheme
sees the title and the text (proximity counted across them as if the text followed the title on a new
line). naive_match is the baseline for tests and bench/monitoring.py: one regex per scheme.
"""

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import ahocorasick

from monitoring.matching.expression import And, Near, Node, Not, Or, Term, node_terms, required_terms
from monitoring.matching.normalize import text_normalize

NEAR_OCCURRENCES = 1_000  # positions kept per proximity term and post
Scope = Literal["title", "full"]


@dataclass(frozen=True, slots=True)
class SchemeSpec:
    id: int
    unit_id: int
    node: Node
    scope: Scope = "full"


@dataclass(frozen=True, slots=True)
class Hit:
    scheme_id: int
    words: tuple[str, ...]  # the scheme's words found in the post, spelt as in the scheme


class _Post:
    """One post, normalised and scanned: which terms occur, their positions on demand."""

    __slots__ = ("_ends", "_matcher", "doc", "present", "title_length", "title_present")

    def __init__(self, matcher: "Matcher", title: str, text: str) -> None:
        title, text = text_normalize(title), text_normalize(text)
        self._matcher = matcher
        self.doc = f"{title}\n{text}"  # no normalised term holds a newline: none matches across the two
        self.title_length = len(title)
        automaton = matcher._automaton
        if automaton is None:
            self.title_present: set[int] = set()
            self.present: set[int] = set()
        else:
            self.title_present = {pid for _, pid in automaton.iter(title)} if title else set()
            self.present = self.title_present | ({pid for _, pid in automaton.iter(text)} if text else set())
        self._ends: dict[int, list[int]] | None = None

    def ends(self, pid: int, title_only: bool) -> list[int]:
        """Exclusive end offsets in `doc` of the term `pid` (first NEAR_OCCURRENCES), ascending."""
        if self._ends is None:
            self._ends = {}
            automaton = self._matcher._near_automaton
            assert automaton is not None  # a proximity scheme put its terms in it
            for end, found in automaton.iter(self.doc):
                positions = self._ends.setdefault(found, [])
                if len(positions) < NEAR_OCCURRENCES:
                    positions.append(end + 1)
        positions = self._ends.get(pid, [])
        return positions[: bisect.bisect_right(positions, self.title_length)] if title_only else positions

    def near(self, a: int, b: int, distance: int, title_only: bool) -> bool:
        ends_a, ends_b = self.ends(a, title_only), self.ends(b, title_only)
        lengths = self._matcher._lengths
        return _follows(ends_a, ends_b, lengths[b], distance) or _follows(ends_b, ends_a, lengths[a], distance)


def _follows(first_ends: list[int], second_ends: list[int], second_length: int, distance: int) -> bool:
    """Whether an occurrence of the second term starts at most `distance` characters after one of the
    first ends (no overlap). Both lists ascending: one merge, O(len(first) + len(second))."""
    i, count = -1, len(first_ends)
    for end in second_ends:
        start = end - second_length
        while i + 1 < count and first_ends[i + 1] <= start:
            i += 1
        if i >= 0 and start - first_ends[i] <= distance:
            return True
    return False


Test = Callable[[int, _Post], bool]


class _Scheme:
    __slots__ = ("id", "test", "title_only", "words")

    def __init__(self, scheme_id: int, title_only: bool, test: Test, words: tuple[tuple[int, str], ...]) -> None:
        self.id = scheme_id
        self.title_only = title_only
        self.test = test
        self.words = words  # (bit, spelling) of each positive term, first spelling per normalised term


class _Unit:
    __slots__ = ("bits", "exclusions", "schemes", "triggers")

    def __init__(self) -> None:
        self.bits: dict[int, int] = {}  # pid -> this unit's bit for the term
        self.exclusions: frozenset[int] = frozenset()
        self.schemes: list[_Scheme] = []
        self.triggers: dict[int, list[int]] = {}  # pid -> indexes in `schemes` to evaluate when it occurs

    def bit(self, pid: int) -> int:
        bit = self.bits.get(pid)
        if bit is None:
            bit = self.bits[pid] = 1 << len(self.bits)
        return bit

    def mask(self, pids: Iterable[int]) -> int:
        mask = 0
        bits = self.bits
        for pid in pids:
            bit = bits.get(pid)
            if bit is not None:
                mask |= bit
        return mask


class Matcher:
    """All schemes of all units, compiled; `match` and `match_all` for posts. Schemes that cannot be
    evaluated (a term empty once normalised, or no term that must occur: expression.scheme_node refuses
    both) are left out and listed in `rejected` rather than failing the whole build."""

    def __init__(self, schemes: Iterable[SchemeSpec], unit_exclusions: Mapping[int, Sequence[str]] | None = None):
        self._pids: dict[str, int] = {}
        self._lengths: list[int] = []
        self._normalised: dict[str, str] = {}
        self._units: dict[int, _Unit] = {}
        near_pids: set[int] = set()
        rejected: list[int] = []
        for spec in sorted(schemes, key=lambda s: s.id):
            required = required_terms(spec.node)
            terms = node_terms(spec.node)
            if required is None or not all(self._normal(term.text) for term, _ in terms):
                rejected.append(spec.id)
                continue
            unit = self._units.setdefault(spec.unit_id, _Unit())
            index = len(unit.schemes)
            unit.schemes.append(self._compile(spec, unit, near_pids))
            for pid in {self._pid(term) for term in required}:
                unit.triggers.setdefault(pid, []).append(index)
        for unit_id, words in (unit_exclusions or {}).items():
            pids = frozenset(self._pid(Term(word)) for word in words if self._normal(word))
            if pids:
                self._units.setdefault(unit_id, _Unit()).exclusions = pids
        self.rejected = tuple(rejected)
        self._units_by_pid: dict[int, tuple[int, ...]] = {}
        for unit_id, unit in self._units.items():
            for pid in unit.triggers:
                self._units_by_pid[pid] = (*self._units_by_pid.get(pid, ()), unit_id)
        self._automaton = self._build(self._pids)
        self._near_automaton = self._build({p: i for p, i in self._pids.items() if i in near_pids})
        del self._normalised

    @staticmethod
    def _build(patterns: Mapping[str, int]) -> "ahocorasick.Automaton | None":
        if not patterns:
            return None  # pyahocorasick refuses to search with no word
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for pattern, pid in patterns.items():
            automaton.add_word(pattern, pid)
        automaton.make_automaton()
        return automaton

    def _normal(self, text: str) -> str:
        normal = self._normalised.get(text)
        if normal is None:
            normal = self._normalised[text] = text_normalize(text)
        return normal

    def _pid(self, term: Term) -> int:
        normal = self._normal(term.text)
        pid = self._pids.get(normal)
        if pid is None:
            pid = self._pids[normal] = len(self._lengths)
            self._lengths.append(len(normal))
        return pid

    def _compile(self, spec: SchemeSpec, unit: _Unit, near_pids: set[int]) -> _Scheme:
        title_only = spec.scope == "title"

        def bit(term: Term) -> int:
            return unit.bit(self._pid(term))

        def compile_node(node: Node) -> Test:
            if isinstance(node, Term):
                b = bit(node)
                return lambda p, post: bool(p & b)
            if isinstance(node, Near):
                a, b = self._pid(node.left), self._pid(node.right)
                near_pids.update((a, b))
                both = unit.bit(a) | unit.bit(b)
                distance = node.distance
                return lambda p, post: (p & both) == both and post.near(a, b, distance, title_only)
            if isinstance(node, Not):
                inner = compile_node(node.item)
                return lambda p, post: not inner(p, post)
            if isinstance(node, Or):
                any_mask = 0
                rest: list[Test] = []
                for item in node.items:
                    if isinstance(item, Term):
                        any_mask |= bit(item)
                    else:
                        rest.append(compile_node(item))
                if not rest:
                    return lambda p, post: bool(p & any_mask)
                return lambda p, post: bool(p & any_mask) or any(test(p, post) for test in rest)
            # And: its words, its "any of these" groups and its "none of these" groups are bit tests.
            all_mask = none_mask = 0
            any_masks: list[int] = []
            others: list[Test] = []
            for item in node.items:
                if isinstance(item, Term):
                    all_mask |= bit(item)
                elif isinstance(item, Or) and all(isinstance(t, Term) for t in item.items):
                    any_masks.append(_terms_mask(item.items, bit))
                elif isinstance(item, Not) and isinstance(item.item, Term):
                    none_mask |= bit(item.item)
                elif isinstance(item, Not) and isinstance(item.item, Or):
                    if all(isinstance(t, Term) for t in item.item.items):
                        none_mask |= _terms_mask(item.item.items, bit)
                    else:
                        others.append(compile_node(item))
                else:
                    others.append(compile_node(item))

            def test(p: int, post: _Post) -> bool:
                if (p & all_mask) != all_mask or p & none_mask:
                    return False
                for mask in any_masks:
                    if not p & mask:
                        return False
                return all(other(p, post) for other in others)

            return test

        test = compile_node(spec.node)
        words: dict[int, str] = {}
        for term, positive in node_terms(spec.node):
            if positive:
                words.setdefault(self._pid(term), term.text)
        return _Scheme(spec.id, title_only, test, tuple((unit.bit(pid), text) for pid, text in words.items()))

    def _unit_hits(self, unit: _Unit, post: _Post) -> list[Hit]:
        present = post.present
        if unit.exclusions and not unit.exclusions.isdisjoint(present):
            return []
        candidates: set[int] = set()
        triggers = unit.triggers
        for pid in present:
            indexes = triggers.get(pid)
            if indexes:
                candidates.update(indexes)
        if not candidates:
            return []
        p_all = unit.mask(present)
        p_title: int | None = None
        hits = []
        for index in sorted(candidates):
            scheme = unit.schemes[index]
            if scheme.title_only:
                if p_title is None:
                    p_title = unit.mask(post.title_present)
                p = p_title
            else:
                p = p_all
            if scheme.test(p, post):
                hits.append(Hit(scheme.id, tuple(text for bit, text in scheme.words if p & bit)))
        return hits

    def match(self, unit_id: int, title: str, text: str) -> list[Hit]:
        """The schemes of unit `unit_id` that the post matches, by scheme id."""
        unit = self._units.get(unit_id)
        if unit is None or not unit.schemes:
            return []
        return self._unit_hits(unit, _Post(self, title, text))

    def match_all(self, title: str, text: str) -> dict[int, list[Hit]]:
        """unit id -> the schemes of that unit that the post matches (only units with a hit), for a post
        collected once for every unit: one normalisation and one scan whatever the number of units."""
        post = _Post(self, title, text)
        unit_ids: set[int] = set()
        for pid in post.present:
            unit_ids.update(self._units_by_pid.get(pid, ()))
        found = {}
        for unit_id in sorted(unit_ids):
            hits = self._unit_hits(self._units[unit_id], post)
            if hits:
                found[unit_id] = hits
        return found


def _terms_mask(terms: Iterable[Node], bit: Callable[[Term], int]) -> int:
    mask = 0
    for term in terms:
        assert isinstance(term, Term)
        mask |= bit(term)
    return mask


# The baseline ---------------------------------------------------------------------------------------


def _usable(spec: SchemeSpec) -> bool:
    return required_terms(spec.node) is not None and all(text_normalize(t.text) for t, _ in node_terms(spec.node))


def _naive_scheme_pattern(spec: SchemeSpec) -> str | None:
    return _naive_pattern(spec.node) if _usable(spec) else None


def _naive_pattern(node: Node) -> str:
    """A pattern that matches at offset 0 of a normalised post (re.DOTALL) exactly when `node` does:
    a lookahead per term, and/or/not as sequence, alternation and negative lookahead."""
    if isinstance(node, Term):
        return f"(?=.*?{re.escape(text_normalize(node.text))})"
    if isinstance(node, Near):
        a, b, n = re.escape(text_normalize(node.left.text)), re.escape(text_normalize(node.right.text)), node.distance
        return f"(?=.*?(?:{a}.{{0,{n}}}{b}|{b}.{{0,{n}}}{a}))"
    if isinstance(node, Not):
        return f"(?!{_naive_pattern(node.item)})"
    if isinstance(node, And):
        return "".join(_naive_pattern(item) for item in node.items)
    return "(?:" + "|".join(_naive_pattern(item) for item in node.items) + ")"


_naive_compiled: dict[int, tuple[object, re.Pattern[str] | None]] = {}


def _naive_regex(key: object, build: Callable[[], str | None]) -> re.Pattern[str] | None:
    """Compiled once per scheme tree (or exclusion list): keyed by identity, so looking up costs nothing
    next to the match even for a thousand schemes a post."""
    cached = _naive_compiled.get(id(key))
    if cached is None or cached[0] is not key:
        if len(_naive_compiled) > 50_000:
            _naive_compiled.clear()
        pattern = build()
        cached = _naive_compiled[id(key)] = (key, re.compile(pattern, re.DOTALL) if pattern is not None else None)
    return cached[1]


def _naive_hits(
    schemes: Iterable[SchemeSpec], exclusions: Sequence[str], title: str, doc: str, unit_id: int | None
) -> list[Hit]:
    def exclusion_pattern() -> str | None:
        words = [re.escape(w) for w in map(text_normalize, exclusions) if w]
        return "|".join(words) if words else None

    excluded = _naive_regex(exclusions, exclusion_pattern) if exclusions else None
    if excluded is not None and excluded.search(doc):
        return []
    hits = []
    for spec in schemes:
        if unit_id is not None and spec.unit_id != unit_id:
            continue
        node = spec.node
        regex = _naive_regex(node, functools.partial(_naive_scheme_pattern, spec))
        scope = title if spec.scope == "title" else doc
        if regex is not None and regex.match(scope):
            words: dict[str, str] = {}
            for term, positive in node_terms(node):
                normal = text_normalize(term.text)
                if positive and normal in scope:
                    words.setdefault(normal, term.text)
            hits.append(Hit(spec.id, tuple(words.values())))
    return sorted(hits, key=lambda hit: hit.scheme_id)


def naive_match(
    schemes: Iterable[SchemeSpec], unit_exclusions: Mapping[int, Sequence[str]], unit_id: int, title: str, text: str
) -> list[Hit]:
    """What Matcher.match answers, computed the slow way: one Python regex per scheme tried on the post."""
    title, text = text_normalize(title), text_normalize(text)
    return _naive_hits(schemes, unit_exclusions.get(unit_id, ()), title, f"{title}\n{text}", unit_id)


def naive_match_all(
    schemes: Sequence[SchemeSpec], unit_exclusions: Mapping[int, Sequence[str]], title: str, text: str
) -> dict[int, list[Hit]]:
    """What Matcher.match_all answers, the slow way: the post normalised once, every scheme's regex tried."""
    title, text = text_normalize(title), text_normalize(text)
    doc = f"{title}\n{text}"
    by_unit: dict[int, list[SchemeSpec]] = {}
    for spec in schemes:
        by_unit.setdefault(spec.unit_id, []).append(spec)
    found = {}
    for unit_id in sorted(by_unit):
        hits = _naive_hits(by_unit[unit_id], unit_exclusions.get(unit_id, ()), title, doc, None)
        if hits:
            found[unit_id] = hits
    return found
