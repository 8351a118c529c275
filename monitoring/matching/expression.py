"""Keywords of a 监测方案: the simple form (地域词 + 主体词 + 事件词, 排除词) and the advanced expression.

Expression syntax, loosest binding first:

    A | B        either (或者)
    A + B        both (并且); whitespace between two operands means the same: `学校 食堂` = `学校+食堂`
    -A           not (排除); a minus starts an operand: inside a word it is a hyphen (K-12, COVID-19)
    A ~N B       A and B both occur, in either order, with at most N characters between them (1..500);
                 binds tightest of all and joins two terms or phrases only: `-学校 ~5 食堂` excludes posts
                 where the two are close
    ( … )        grouping
    "…"  “…”     a phrase: spaces and operator characters inside are plain text (`"A+B"`, “一中 食堂”)

Full-width operators （ ） ＋ ｜ － ～ ＂ are read as their half-width forms. Commas, 顿号 and semicolons are
refused outside quotes: in an expression they would otherwise become part of a keyword silently.
Terms match as substrings after normalize.text_normalize (no word boundaries, as usual for Chinese).

A refused expression raises ExpressionError with the 0-based character offset of the problem and a
message naming it 1-based (第 8 个字符处缺少右括号), so the form can point at it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from django.utils.translation import gettext as _

from monitoring.matching.normalize import text_normalize
from opinion_ops.errors import DomainError

MAX_LENGTH = 2_000  # characters of an expression
MAX_TERMS = 300  # terms of an expression
MAX_SCHEME_TERMS = 1_000  # terms of a whole scheme: the four word lists and the expression
MAX_DEPTH = 20  # nested parentheses
MAX_DISTANCE = 500  # N of ~N
MAX_WORD = 50  # characters of one keyword

_FULLWIDTH_OPERATORS = str.maketrans("（）＋｜－～＂", '()+|-~"')
_WORD_STOP = frozenset('+|()~"“”,，、;；')
_SEPARATORS = frozenset(",，、;；")
_CHINESE_QUOTES = "“”"
_OPERATORS = {"(": "lparen", ")": "rparen", "+": "and", "|": "or", "-": "not"}


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # as the user wrote it (stripped); matching uses its normalised form


@dataclass(frozen=True, slots=True)
class And:
    items: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: "Node"


@dataclass(frozen=True, slots=True)
class Near:
    left: Term
    right: Term
    distance: int


Node: TypeAlias = Term | And | Or | Not | Near


class ExpressionError(DomainError):
    """A refused expression or word list: `position` is the 0-based offset in the text the user typed
    (0 for a problem of the whole scheme), `field` the form field it belongs to."""

    code = "invalid_expression"
    message: str

    def __init__(self, position: int, message: str, field: str = "expression") -> None:
        super().__init__(message, field=field)
        self.position = position
        self.message = message

    def __repr__(self) -> str:
        return f"ExpressionError(position={self.position}, message={self.message!r}, field={self.field!r})"


def _error(position: int, message: str) -> ExpressionError:
    return ExpressionError(position, message % {"n": position + 1})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # term, and, or, not, near, lparen, rparen, end
    position: int
    text: str = ""
    distance: int = 0


def _term_check(text: str, position: int, count: int) -> None:
    if not text_normalize(text):
        raise _error(position, _("第 %(n)s 个字符处的引号里没有关键词"))
    if len(text) > MAX_WORD:
        raise _error(position, _("第 %(n)s 个字符处的关键词超过 50 个字，请缩短"))
    if count > MAX_TERMS:
        raise _error(position, _("第 %(n)s 个字符处超出上限：一个表达式最多 300 个关键词"))


def _tokens(text: str) -> list[_Token]:
    s = text.translate(_FULLWIDTH_OPERATORS)  # one character for one: offsets stay those of `text`
    tokens: list[_Token] = []
    terms = 0
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c.isspace():
            i += 1
            continue
        simple = _OPERATORS.get(c)
        if simple:
            tokens.append(_Token(simple, i))
            i += 1
        elif c == "~":
            j = i + 1
            while j < n and s[j].isdigit() and s[j].isascii():
                j += 1
            if j == i + 1:
                raise _error(i, _("第 %(n)s 个字符处的“~”后面要紧跟距离（字符数），例如 学校 ~10 食堂"))
            distance = int(s[i + 1 : j]) if j - i <= 8 else MAX_DISTANCE + 1
            if not 1 <= distance <= MAX_DISTANCE:
                raise _error(i, _("第 %(n)s 个字符处的距离须在 1 到 500 个字符之间"))
            tokens.append(_Token("near", i, distance=distance))
            i = j
        elif c == '"' or c in _CHINESE_QUOTES:
            closing = '"' if c == '"' else _CHINESE_QUOTES
            j = i + 1
            while j < n and s[j] not in closing:
                j += 1
            if j == n:
                raise _error(i, _("第 %(n)s 个字符处的引号没有闭合"))
            terms += 1
            phrase = text[i + 1 : j].strip()
            _term_check(phrase, i, terms)
            tokens.append(_Token("term", i, phrase))
            i = j + 1
        elif c in _SEPARATORS:
            raise _error(
                i, _("第 %(n)s 个字符处有逗号、顿号或分号：表达式里“并且”用 + 或空格，“或者”用 |，短语请加引号")
            )
        else:
            j = i
            while j < n and not s[j].isspace() and s[j] not in _WORD_STOP:
                j += 1
            terms += 1
            _term_check(text[i:j], i, terms)
            tokens.append(_Token("term", i, text[i:j]))
            i = j
    tokens.append(_Token("end", n))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.peek().kind == "or":
            self.take()
            items.append(self.parse_and())
        return _combine(Or, items)

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while True:
            kind = self.peek().kind
            if kind == "and":
                self.take()
            elif kind not in ("term", "lparen", "not"):  # whitespace between two operands: and
                break
            items.append(self.parse_unary())
        return _combine(And, items)

    def parse_unary(self) -> Node:
        if self.peek().kind != "not":
            return self.parse_near()
        self.take()
        if self.peek().kind == "not":
            raise _error(self.peek().position, _("第 %(n)s 个字符处有连续的减号"))
        return Not(self.parse_near())

    def parse_near(self) -> Node:
        left = self.parse_primary()
        if self.peek().kind != "near":
            return left
        near = self.take()
        operands_only = _("第 %(n)s 个字符处的“~”两边只能是关键词或引号短语")
        if not isinstance(left, Term) or self.peek().kind != "term":
            raise _error(near.position, operands_only)
        right = Term(self.take().text)
        if self.peek().kind == "near":
            raise _error(self.peek().position, operands_only)
        return Near(left, right, near.distance)

    def parse_primary(self) -> Node:
        token = self.peek()
        if token.kind == "term":
            self.take()
            return Term(token.text)
        if token.kind == "lparen":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _error(token.position, _("第 %(n)s 个字符处超出上限：括号最多嵌套 20 层"))
            self.take()
            node = self.parse_or()
            if self.peek().kind != "rparen":
                raise _error(self.peek().position, _("第 %(n)s 个字符处缺少右括号"))
            self.take()
            self.depth -= 1
            return node
        if token.kind == "rparen" and self.depth == 0:
            raise _error(token.position, _("第 %(n)s 个字符处多了一个右括号"))
        if token.kind == "near":
            raise _error(token.position, _("第 %(n)s 个字符处的“~”前面缺少关键词"))
        raise _error(token.position, _("第 %(n)s 个字符处缺少关键词"))


def _combine(kind: type[And] | type[Or], items: Sequence[Node]) -> Node:
    """And/Or of `items`, nested ones of the same kind flattened; a single item stands alone."""
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def parse(text: str) -> Node:
    """The expression `text` as a tree, or ExpressionError naming where it is wrong."""
    if len(text) > MAX_LENGTH:
        raise _error(MAX_LENGTH, _("第 %(n)s 个字符处超出上限：表达式最多 2000 个字符"))
    if not text.strip():
        raise ExpressionError(0, _("表达式为空"))
    parser = _Parser(_tokens(text))
    node = parser.parse_or()
    token = parser.peek()
    if token.kind == "rparen":
        raise _error(token.position, _("第 %(n)s 个字符处多了一个右括号"))
    assert token.kind == "end", token  # the and-loop takes every other token
    return node


def words_split(text: str) -> list[str]:
    """The words of one list as users type them: separated by spaces, newlines, commas (, ，), 顿号 (、),
    semicolons (; ；) or |; stripped, deduplicated by their normalised form, first spelling and order
    kept. A word over 50 characters is refused with its offset."""
    words: list[str] = []
    seen: set[str] = set()
    for match in re.finditer(r"[^\s,，、;；|｜]+", text):
        word = match[0]
        if len(word) > MAX_WORD:
            raise _error(match.start(), _("第 %(n)s 个字符处的关键词超过 50 个字，请缩短"))
        key = text_normalize(word)
        if key and key not in seen:
            seen.add(key)
            words.append(word)
    return words


def required_terms(node: Node) -> tuple[Term, ...] | None:
    """Terms one of which must occur for `node` to match (None: it can match a post holding none of
    its terms, e.g. `-A` or `A | -B`). The engine evaluates a scheme only when one of them occurs."""
    if isinstance(node, Term):
        return (node,)
    if isinstance(node, Near):
        return (node.left,)
    if isinstance(node, Not):
        return required_terms(node.item.item) if isinstance(node.item, Not) else None
    parts = [required_terms(item) for item in node.items]
    if isinstance(node, And):
        usable = [part for part in parts if part is not None]
        return min(usable, key=len) if usable else None
    if any(part is None for part in parts):
        return None
    return tuple(term for part in parts if part is not None for term in part)


def node_terms(node: Node) -> list[tuple[Term, bool]]:
    """Every term of `node` in reading order, with whether it counts for a match (False under a not)."""
    found: list[tuple[Term, bool]] = []

    def walk(item: Node, positive: bool) -> None:
        if isinstance(item, Term):
            found.append((item, positive))
        elif isinstance(item, Near):
            found.extend(((item.left, positive), (item.right, positive)))
        elif isinstance(item, Not):
            walk(item.item, not positive)
        else:
            for child in item.items:
                walk(child, positive)

    walk(node, True)
    return found


def _words_terms(field: str, words: str | Sequence[str]) -> list[Term]:
    if isinstance(words, str):
        try:
            words = words_split(words)
        except ExpressionError as error:
            error.field = field
            raise
    terms: list[Term] = []
    for word in words:
        word = word.strip()
        if len(word) > MAX_WORD:
            raise ExpressionError(0, _("关键词“%(word)s…”超过 50 个字，请缩短") % {"word": word[:10]}, field)
        if text_normalize(word):
            terms.append(Term(word))
    return terms


def scheme_node(
    *,
    regions: str | Sequence[str],
    subjects: str | Sequence[str],
    events: str | Sequence[str],
    exclusions: str | Sequence[str],
    expression: str = "",
) -> Node:
    """The scheme as one tree: any region and any subject and any event and none of the exclusions
    (an empty list is left out), and the advanced expression if given. Word lists may be given as
    typed (one string, see words_split) or already split. Refused (ExpressionError, `field` set) when
    a part is invalid or when no word must occur for a post to match."""
    parts: list[Node] = []
    for field, words in (("regions", regions), ("subjects", subjects), ("events", events)):
        terms = _words_terms(field, words)
        if terms:
            parts.append(_combine(Or, terms))
    if expression.strip():
        try:
            parts.append(parse(expression))
        except ExpressionError as error:
            error.field = "expression"
            raise
    excluded = _words_terms("exclusions", exclusions)
    if excluded:
        parts.append(Not(_combine(Or, excluded)))
    node = _combine(And, parts) if parts else None
    if node is None or required_terms(node) is None:
        raise ExpressionError(0, _("方案至少需要一个必须出现的关键词"), field="")
    if len(node_terms(node)) > MAX_SCHEME_TERMS:
        raise ExpressionError(0, _("方案的关键词合计不能超过 1000 个"), field="")
    return node


def _quoted(text: str) -> str:
    plain = not any(c.isspace() or c in _WORD_STOP for c in text) and not text.startswith(("-", "－"))
    if plain and not any(c in text for c in "（）＋｜～＂"):
        return text
    return f"“{text}”" if '"' in text else f'"{text}"'


def node_format(node: Node) -> str:
    """`node` written in the expression syntax (parse(node_format(n)) == n for a parsed n)."""

    def fmt(item: Node, needed: int) -> str:
        # Binding strength: 1 or, 2 and, 3 not, 4 a term or ~N. Parentheses when a child binds looser.
        if isinstance(item, Term):
            return _quoted(item.text)
        if isinstance(item, Near):
            return f"{_quoted(item.left.text)} ~{item.distance} {_quoted(item.right.text)}"
        if isinstance(item, Not):
            text, strength = "-" + fmt(item.item, 4), 3
        elif isinstance(item, And):
            text, strength = " + ".join(fmt(child, 3) for child in item.items), 2
        else:
            text, strength = " | ".join(fmt(child, 2) for child in item.items), 1
        return f"({text})" if strength < needed else text

    return fmt(node, 0)
