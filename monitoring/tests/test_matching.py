"""The keyword engine of 监测方案: expression syntax, normalisation, one-pass matching (no database)."""

import random
import time
import unicodedata

import opencc
import pytest

from monitoring.matching import ExpressionError, Hit, Matcher, SchemeSpec, naive_match, parse, scheme_node, words_split
from monitoring.matching.engine import NEAR_OCCURRENCES, naive_match_all
from monitoring.matching.expression import And, Near, Node, Not, Or, Term, node_format, required_terms
from monitoring.matching.normalize import text_normalize

T2S = opencc.OpenCC("t2s")
S2T = opencc.OpenCC("s2t")


def a(*items: Node) -> And:
    return And(tuple(items))


def o(*items: Node) -> Or:
    return Or(tuple(items))


def t(text: str) -> Term:
    return Term(text)


# The expression syntax ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("食堂+中毒", a(t("食堂"), t("中毒"))),
        ("食堂 中毒", a(t("食堂"), t("中毒"))),
        ("食堂　中毒", a(t("食堂"), t("中毒"))),
        ("食堂|宿舍", o(t("食堂"), t("宿舍"))),
        ("-演练", Not(t("演练"))),
        ("学校 -演练", a(t("学校"), Not(t("演练")))),
        ("(食堂|宿舍)+中毒", a(o(t("食堂"), t("宿舍")), t("中毒"))),
        ("学校 ~10 打人", Near(t("学校"), t("打人"), 10)),
        ("学校~10打人", Near(t("学校"), t("打人"), 10)),
        ('"一中 食堂" ~5 “中毒”', Near(t("一中 食堂"), t("中毒"), 5)),
        ("（食堂｜宿舍）＋中毒 －演练", a(o(t("食堂"), t("宿舍")), t("中毒"), Not(t("演练")))),
        ("((食堂))", t("食堂")),
    ],
)
def test_each_operator_parses_to_its_node(text: str, node: Node) -> None:
    assert parse(text) == node


def test_minus_binds_tightest_then_and_then_or() -> None:
    assert parse("-A+B|C") == o(a(Not(t("A")), t("B")), t("C"))
    assert parse("A|B C") == o(t("A"), a(t("B"), t("C")))
    assert parse("A + B | C + D") == o(a(t("A"), t("B")), a(t("C"), t("D")))
    assert parse("-(A|B) C") == a(Not(o(t("A"), t("B"))), t("C"))
    assert parse("A + (B + C)") == a(t("A"), t("B"), t("C"))


def test_proximity_joins_two_terms_before_the_minus_applies() -> None:
    assert parse("-学校 ~5 食堂") == Not(Near(t("学校"), t("食堂"), 5))
    assert parse("A B ~3 C") == a(t("A"), Near(t("B"), t("C"), 3))


def test_a_minus_inside_a_word_is_a_hyphen() -> None:
    assert parse("K-12 -补课") == a(t("K-12"), Not(t("补课")))
    assert parse("COVID-19|新冠") == o(t("COVID-19"), t("新冠"))


def test_quoted_phrases_keep_operator_characters_and_spaces() -> None:
    assert parse('"A+B|C (x) -y ~3"') == t("A+B|C (x) -y ~3")
    assert parse("“一中 食堂”|“校车”") == o(t("一中 食堂"), t("校车"))
    assert parse('"他说“好”"') == t("他说“好”")
    assert parse('“a"b”') == t('a"b')
    assert parse('"食堂"中毒') == a(t("食堂"), t("中毒"))
    assert parse('" 食堂 "') == t("食堂")


@pytest.mark.parametrize(
    ("text", "position", "problem"),
    [
        ("(食堂+中毒", 6, "缺少右括号"),
        ("(食堂+(中毒|腹泻)", 11, "缺少右括号"),
        ("食堂)", 2, "多了一个右括号"),
        (")食堂", 0, "多了一个右括号"),
        ("食堂+", 3, "缺少关键词"),
        ("+食堂", 0, "缺少关键词"),
        ("食堂||中毒", 3, "缺少关键词"),
        ("食堂 -", 4, "缺少关键词"),
        ("()", 1, "缺少关键词"),
        ('食堂 "中毒', 3, "引号没有闭合"),
        ("食堂 “中毒", 3, "引号没有闭合"),
        ('食堂 "  "', 3, "引号里没有关键词"),
        ("学校 ~ 打人", 3, "距离"),
        ("学校 ~0 打人", 3, "1 到 500"),
        ("学校 ~501 打人", 3, "1 到 500"),
        ("学校 ~99999999999 打人", 3, "1 到 500"),
        ("(学校+一中) ~5 打人", 8, "只能是关键词"),
        ("学校 ~5 -打人", 3, "只能是关键词"),
        ("学校 ~5 打人 ~3 受伤", 9, "只能是关键词"),
        ("~5 打人", 0, "前面缺少关键词"),
        ("--演练", 1, "连续的减号"),
        ("食堂，中毒", 2, "逗号"),
        ("食堂、中毒", 2, "逗号"),
    ],
)
def test_it_refuses_an_invalid_expression_naming_the_position(text: str, position: int, problem: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse(text)
    assert raised.value.position == position
    assert raised.value.message.startswith(f"第 {position + 1} 个字符处")
    assert problem in raised.value.message
    assert raised.value.field == "expression"


def test_an_empty_expression_is_refused() -> None:
    for text in ("", "   "):
        with pytest.raises(ExpressionError) as raised:
            parse(text)
        assert raised.value.position == 0


def test_it_caps_length_terms_depth_distance_and_word_length() -> None:
    parse("|".join(["食堂"] * 300))
    with pytest.raises(ExpressionError) as raised:
        parse("|".join(["食堂"] * 301))
    assert raised.value.position == 300 * 3  # the 301st term
    assert "300" in raised.value.message

    parse("甲" * 40 + " " * 1960)  # 2,000 characters
    with pytest.raises(ExpressionError) as raised:
        parse("甲" * 40 + " " * 1961)
    assert raised.value.position == 2000
    assert "2000" in raised.value.message

    parse("(" * 20 + "食堂" + ")" * 20)
    with pytest.raises(ExpressionError) as raised:
        parse("(" * 21 + "食堂" + ")" * 21)
    assert raised.value.position == 20
    assert "20 层" in raised.value.message

    assert parse("A ~1 B") == Near(t("A"), t("B"), 1)
    assert parse("A ~500 B") == Near(t("A"), t("B"), 500)

    parse("字" * 50)
    with pytest.raises(ExpressionError) as raised:
        parse("食堂 " + "字" * 51)
    assert raised.value.position == 3
    assert "50" in raised.value.message


def _random_node(rng: random.Random, depth: int = 0) -> Node:
    words = ["食堂", "中毒", "A+B", "一中 食堂", "-演练", 'say"hi', "K-12", "（括号）", "IPHONE"]
    choice = rng.random() if depth < 3 else 0.0
    if choice < 0.4:
        return t(rng.choice(words))
    if choice < 0.5:
        return Near(t(rng.choice(words)), t(rng.choice(words)), rng.randint(1, 500))
    if choice < 0.65:
        return Not(_random_node(rng, depth + 1))
    kind = And if choice < 0.85 else Or
    items: list[Node] = []
    while len(items) < rng.randint(2, 4):
        item = _random_node(rng, depth + 1)
        if not isinstance(item, kind):
            items.append(item)
    return kind(tuple(items))


def test_a_tree_written_out_reads_back_the_same() -> None:
    rng = random.Random(11)
    for _ in range(500):
        node = _random_node(rng)
        assert parse(node_format(node)) == node, node_format(node)


def test_words_are_split_as_users_type_them() -> None:
    text = " 一中，实验小学、人民医院;卫健委；教育局|城管局\n派出所  一中 一中 "
    assert words_split(text) == ["一中", "实验小学", "人民医院", "卫健委", "教育局", "城管局", "派出所"]
    assert words_split("學校 学校 ＡＢＣ abc") == ["學校", "ＡＢＣ"]  # the same word once, first spelling kept
    assert words_split(" ,， ") == []
    with pytest.raises(ExpressionError) as raised:
        words_split("一中 " + "字" * 51)
    assert raised.value.position == 3


def test_the_simple_form_is_any_region_and_subject_and_event_and_no_exclusion() -> None:
    node = scheme_node(regions=["某市", "某区"], subjects=["一中"], events="食堂 中毒", exclusions=["演练"])
    assert node == a(o(t("某市"), t("某区")), t("一中"), o(t("食堂"), t("中毒")), Not(t("演练")))
    assert scheme_node(regions=[], subjects=["一中"], events=[], exclusions=[]) == t("一中")
    combined = scheme_node(regions=["某市"], subjects=[], events=[], exclusions=["广告"], expression="食堂|宿舍")
    assert combined == a(t("某市"), o(t("食堂"), t("宿舍")), Not(t("广告")))


@pytest.mark.parametrize(
    ("lists", "expression"),
    [
        ({}, ""),
        ({}, "-演练"),
        ({"exclusions": ["演练"]}, ""),
        ({}, "食堂 | -演练"),
        ({"exclusions": ["广告"]}, "-(食堂 | 宿舍)"),
    ],
)
def test_a_scheme_that_needs_no_word_to_match_is_refused(lists: dict[str, list[str]], expression: str) -> None:
    words: dict[str, list[str]] = {"regions": [], "subjects": [], "events": [], "exclusions": []} | lists
    with pytest.raises(ExpressionError) as raised:
        scheme_node(**words, expression=expression)
    assert raised.value.message == "方案至少需要一个必须出现的关键词"
    assert raised.value.field == ""


def test_a_double_negation_still_needs_its_word() -> None:
    assert required_terms(parse("-(-食堂)")) == (t("食堂"),)
    assert required_terms(parse("-食堂")) is None


def test_a_scheme_error_names_its_field() -> None:
    with pytest.raises(ExpressionError) as raised:
        scheme_node(regions=["某市"], subjects=[], events=[], exclusions=[], expression="(食堂")
    assert (raised.value.field, raised.value.position) == ("expression", 3)
    with pytest.raises(ExpressionError) as raised:
        scheme_node(regions="某市 " + "字" * 51, subjects=[], events=[], exclusions=[])
    assert (raised.value.field, raised.value.position) == ("regions", 3)


# Normalisation ------------------------------------------------------------------------------------


def test_it_folds_width_case_script_and_spaces() -> None:
    assert text_normalize("  ＡＢＣ　iPhone……\n\n網傳學校 ") == "abc iphone...... 网传学校"
    assert text_normalize("") == ""
    assert text_normalize("反覆沈默，瞭解") == "反复沉默,了解"  # changed only inside a t2s phrase


def test_the_shortcuts_give_what_the_full_conversion_gives() -> None:
    """Skipping NFKC's slow path and OpenCC when they would change nothing must never change a result."""

    def reference(text: str) -> str:
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        return " ".join(T2S.convert(folded).split())

    alphabet = [
        *"学校食堂中毒網傳學習沈默反覆瞭解藉口甦醒坏覆盖ＡＢｃ１２，！　…Aa1 \n",
        "\u0301",  # a combining accent after a full-width letter composes once NFKC has run
        "ｶ",
        "ﾞ",
        "㎒",
        "ǰ",
        "ß",
        "𠀋",  # CJK extension B
        "😀",
        "\uf900",  # a compatibility ideograph
    ]
    rng = random.Random(5)
    for _ in range(3_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert text_normalize(text) == reference(text), repr(text)


# Matching -----------------------------------------------------------------------------------------


def spec(scheme_id: int, expression: str, unit_id: int = 1, scope: str = "full") -> SchemeSpec:
    return SchemeSpec(scheme_id, unit_id, parse(expression), scope)  # type: ignore[arg-type]


def ids(hits: list[Hit]) -> list[int]:
    return [hit.scheme_id for hit in hits]


def test_full_width_and_half_width_meet() -> None:
    matcher = Matcher([spec(1, "ABC食堂"), spec(2, "ｉＰｈｏｎｅ１５")])
    assert ids(matcher.match(1, "", "网传ＡＢＣ食堂出事")) == [1]
    assert ids(matcher.match(1, "", "iPhone15 发布")) == [2]
    assert ids(matcher.match(1, "", "ABD食堂")) == []


def test_traditional_and_simplified_meet_both_ways() -> None:
    matcher = Matcher([spec(1, "学校+食堂"), spec(2, "醫院 + 衛生")])
    assert ids(matcher.match(1, "網傳某學校", "食堂飯菜有異物")) == [1]
    assert ids(matcher.match(1, "", "某医院卫生状况堪忧")) == [2]
    assert ids(matcher.match(1, "", "某医院的问题")) == []


def test_case_does_not_matter() -> None:
    matcher = Matcher([spec(1, "iPhone")])
    assert ids(matcher.match(1, "", "IPHONE 爆炸")) == [1]
    assert ids(matcher.match(1, "", "iphone 爆炸")) == [1]


def test_a_title_scheme_reads_the_title_only() -> None:
    matcher = Matcher([spec(1, "食堂 中毒 -广告", scope="title"), spec(2, "食堂 中毒")])
    assert ids(matcher.match(1, "某校食堂", "多人中毒")) == [2]
    assert ids(matcher.match(1, "某校食堂多人中毒", "")) == [1, 2]
    assert ids(matcher.match(1, "某校食堂多人中毒", "广告位招租")) == [1, 2]  # its exclusion: the title too
    assert ids(matcher.match(1, "某校食堂多人中毒 广告", "")) == [2]


def test_exclusions_of_the_scheme_and_of_the_unit() -> None:
    node = scheme_node(regions=["某市"], subjects=["一中"], events=["食堂"], exclusions=["演练", "演习"])
    matcher = Matcher(
        [SchemeSpec(1, 1, node, "full"), spec(2, "食堂", unit_id=1), spec(3, "食堂", unit_id=2)],
        {1: ["转发抽奖"]},
    )
    assert ids(matcher.match(1, "某市一中", "食堂")) == [1, 2]
    assert ids(matcher.match(1, "某市一中", "食堂应急演习")) == [2]
    assert matcher.match(1, "某市一中", "食堂 转发抽奖") == []
    assert ids(matcher.match(2, "某市一中", "食堂 转发抽奖")) == [3]  # another unit's exclusion does not apply
    assert ids(matcher.match(1, "某市一中", "食堂 轉發抽獎")) == []  # normalised like everything else


def test_proximity_in_either_order_up_to_the_distance() -> None:
    matcher = Matcher([spec(1, "学校 ~5 打人"), spec(2, "学校 ~5 打人", scope="title")])
    assert ids(matcher.match(1, "", "学校12345打人")) == [1]
    assert ids(matcher.match(1, "", "打人12345学校")) == [1]
    assert ids(matcher.match(1, "", "学校123456打人")) == []
    assert ids(matcher.match(1, "", "打人123456学校")) == []
    assert ids(matcher.match(1, "", "学校打人")) == [1]
    assert ids(matcher.match(1, "學校打人", "")) == [1, 2]
    assert ids(matcher.match(1, "学校", "打人")) == [1]  # the text follows the title on a new line
    assert ids(matcher.match(1, "学校12345", "打人")) == []
    assert ids(matcher.match(1, "学校123456打人", "学校")) == [1]  # the title scheme sees no close pair
    assert ids(matcher.match(1, "", "学校很远很远很远 打人…学校")) == [1]  # the nearest pair counts


def test_proximity_of_a_word_with_itself_needs_two_occurrences() -> None:
    matcher = Matcher([spec(1, "中毒 ~3 中毒")])
    assert ids(matcher.match(1, "", "中毒了吗")) == []
    assert ids(matcher.match(1, "", "中毒了吗中毒")) == [1]


def test_a_long_post_stays_fast_and_proximity_still_reads_its_start() -> None:
    matcher = Matcher([spec(1, "学校 ~5 打人"), spec(2, "食堂 ~5 中毒")])
    text = "学校打人" + "学校" * 20_000 + "很长的内容" * 10_000 + "中毒"
    started = time.perf_counter()
    assert ids(matcher.match(1, "", text)) == [1]
    assert time.perf_counter() - started < 1.0
    assert 20_000 > NEAR_OCCURRENCES  # the cap was reached, and the pair near the start still counted


def test_it_reports_the_words_found_as_the_scheme_spells_them() -> None:
    node = scheme_node(regions=["某市", "某区"], subjects=["ＡＢＣ中学", "一中"], events=["食堂"], exclusions=["演练"])
    matcher = Matcher([SchemeSpec(7, 1, node, "full"), spec(3, "(食堂|宿舍) -(打人 | 骂人) | 學校 ~4 食堂")])
    hits = matcher.match(1, "某市abc中学", "某市食堂 某区")
    assert hits == [Hit(3, ("食堂",)), Hit(7, ("某市", "某区", "ＡＢＣ中学", "食堂"))]
    assert matcher.match(1, "", "学校食堂打人") == [Hit(3, ("食堂", "學校"))]


def test_units_do_not_mix() -> None:
    matcher = Matcher([spec(1, "食堂", unit_id=1), spec(2, "中毒", unit_id=2), spec(3, "食堂", unit_id=2)])
    assert ids(matcher.match(1, "", "食堂中毒")) == [1]
    assert ids(matcher.match(2, "", "食堂中毒")) == [2, 3]
    assert matcher.match(3, "", "食堂中毒") == []
    assert {unit: ids(hits) for unit, hits in matcher.match_all("", "食堂中毒").items()} == {1: [1], 2: [2, 3]}


def test_a_scheme_that_cannot_be_evaluated_is_set_aside_not_fatal() -> None:
    matcher = Matcher([spec(1, "-演练"), spec(2, "食堂"), SchemeSpec(3, 1, Term("  "), "full")])
    assert matcher.rejected == (1, 3)
    assert ids(matcher.match(1, "", "食堂")) == [2]
    assert Matcher([]).match(1, "", "食堂") == []
    assert Matcher([]).match_all("", "食堂") == {}


VOCABULARY = ["学校", "食堂", "中毒", "一中", "打人", "医院", "收费", "某市", "演练", "ipad", "k-12", "校车", "霸凌"]


def _random_scheme_node(rng: random.Random, depth: int = 0) -> Node:
    word = rng.choice(VOCABULARY)
    choice = rng.random() if depth < 3 else 0.0
    if choice < 0.35:
        return t(word.upper() if rng.random() < 0.2 else word)
    if choice < 0.45:
        return Near(t(word), t(rng.choice(VOCABULARY)), rng.randint(1, 12))
    if choice < 0.55:
        return Not(_random_scheme_node(rng, depth + 1))
    kind = And if choice < 0.8 else Or
    return kind(tuple(_random_scheme_node(rng, depth + 1) for _ in range(rng.randint(2, 4))))


def _random_post(rng: random.Random) -> tuple[str, str]:
    fillers = ["，", "今天", "网传", "的", " ", "……", "据说", "123", "ＡＢ", "！"]
    pieces = [rng.choice(VOCABULARY if rng.random() < 0.4 else fillers) for _ in range(rng.randint(2, 30))]
    text = "".join(pieces)
    if rng.random() < 0.2:
        text = S2T.convert(text)
    if rng.random() < 0.15:
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    cut = rng.randint(0, min(len(text), 15))
    return text[:cut], text[cut:]


def test_the_engine_agrees_with_one_regex_per_scheme() -> None:
    rng = random.Random(2026)
    schemes: list[SchemeSpec] = []
    while len(schemes) < 300:
        node = _random_scheme_node(rng)
        if required_terms(node) is not None:
            scope = "title" if rng.random() < 0.2 else "full"
            schemes.append(SchemeSpec(len(schemes) + 1, rng.randint(1, 10), node, scope))  # type: ignore[arg-type]
    exclusions = {2: ["演练"], 5: ["ipad", "霸凌"]}
    matcher = Matcher(schemes, exclusions)
    assert matcher.rejected == ()
    matched = near_matched = 0
    by_id = {s.id: s for s in schemes}
    for _ in range(300):
        title, text = _random_post(rng)
        found = matcher.match_all(title, text)
        assert found == naive_match_all(schemes, exclusions, title, text), (title, text)
        for unit_id in range(1, 11):
            hits = matcher.match(unit_id, title, text)
            assert hits == naive_match(schemes, exclusions, unit_id, title, text), (unit_id, title, text)
            assert hits == found.get(unit_id, [])
            matched += bool(hits)
        near_matched += any("~" in node_format(by_id[h.scheme_id].node) for hits in found.values() for h in hits)
    assert 300 < matched < 2_700  # of 3,000 (post, unit) pairs: the set exercises both answers
    assert near_matched > 10
