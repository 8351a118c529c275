"""Monitoring (监测): how many posts a second the keyword schemes (监测方案) can take.

    .venv/bin/python bench/monitoring.py [--quick] [--sections matching]

matching (in-process, one core, no database): generates, seeded, 1,000 schemes across 100 units
(地域词 + 主体词 + 事件词 with 排除词 from the vocabulary below; one in five with an advanced
expression: or, not, phrases, proximity; one in ten on the title only; half the units with unit-wide
exclusions) and 20,000 Weibo-like posts of 20-300 characters (5,000 with --quick): one in six in
traditional characters, one in ten with full-width letters and digits, about 5% written to match one
of the schemes. The Matcher is built once (build time printed apart), then every post is normalised
and matched against every scheme of every unit (Matcher.match_all), and against its own unit's
schemes only (Matcher.match). The baseline, one Python regex per scheme after the same
normalisation (engine.naive_match_all / naive_match), runs on a subset of the posts: both must agree
on every post of it, or the script stops. A post of 100,000 characters is timed too.
Goal: >= 5,000 posts/s through match_all and >= 20x the baseline.

Each section returns a dict of figures; the last line holds them all as key=value pairs, e.g. for a
script to compare runs. A section that needs PostgreSQL or Redis (end to end, search) is added to
SECTIONS and sets Django up itself.
"""

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_ops.settings")

GOAL_POSTS_PER_S = 5_000
GOAL_SPEEDUP = 20

CITIES = (
    "北京 上海 天津 重庆 广州 深圳 成都 武汉 长沙 南京 杭州 西安 郑州 济南 青岛 合肥 福州 厦门 昆明 贵阳 南宁 兰州 "
    "太原 石家庄 哈尔滨 长春 沈阳 大连 苏州 无锡 宁波 温州 佛山 东莞 珠海 汕头 湛江 桂林 柳州 遵义 绵阳 宜宾 南充 "
    "襄阳 宜昌 荆州 岳阳 常德 衡阳 株洲 九江 赣州 上饶 洛阳 开封 南阳 新乡 烟台 潍坊 临沂 济宁 徐州 扬州 常州 "
    "南通 盐城 嘉兴 金华 台州 绍兴 芜湖 蚌埠 阜阳 泉州 漳州 莆田 保定 唐山 邯郸 大同 包头 鄂尔多斯 呼和浩特 银川 "
    "西宁 乌鲁木齐 拉萨 海口 三亚 吉林 齐齐哈尔 鞍山 抚顺 丹东 锦州 营口 通辽 赤峰 榆林 宝鸡 咸阳 汉中 天水"
).split()
DISTRICTS = (
    "城关区 新城区 老城区 高新区 经开区 东区 西区 南区 北区 开发区 城东街道 城西街道 滨江区 江北区 江南区 河西区 "
    "河东区 新华区 人民路街道 解放街道 建设镇 和平镇 红旗乡 长安镇 东风镇 光明街道"
).split()
SUBJECTS = (
    "第一中学 第二中学 实验中学 实验小学 外国语学校 职业技术学院 师范学院 理工大学 中心小学 幼儿园 人民医院 "
    "中心医院 中医院 妇幼保健院 第一人民医院 附属医院 卫健委 教育局 城管局 派出所 公安局 市场监管局 人社局 "
    "街道办 居委会 供电公司 自来水公司 公交公司 住建局 环保局 养老院 福利院 疾控中心 车管所 税务局 法院 检察院"
).split()
EVENTS = (
    "食堂 中毒 腹泻 呕吐 收费 乱收费 补课 打人 殴打 体罚 霸凌 猥亵 坠楼 跳楼 死亡 火灾 爆炸 泄漏 污染 塌方 "
    "事故 车祸 欠薪 讨薪 维权 上访 罢工 停课 停水 停电 投诉 举报 腐败 受贿 贪污 造假 过期 变质 异物 老鼠 蟑螂 "
    "医闹 误诊 天价 强拆 暴力执法 冲突 聚集 围堵 问题疫苗 学生受伤 家长质疑 网传 曝光"
).split()
EXCLUSIONS = "演习 演练 广告 招聘 抽奖 电视剧 小说 游戏 综艺 剧情 直播带货 团购 优惠券".split()
UNIT_EXCLUSIONS = "转发抽奖 代理加盟 刷单 兼职日结 彩票推荐".split()
FILLER = (
    "今天天气真不错，出门走走。",
    "有没有人知道这到底是怎么回事？",
    "太离谱了吧！",
    "希望有关部门尽快调查，给大家一个交代。",
    "家长们都很担心孩子的安全。",
    "已经打了12345热线反映。",
    "评论区说的是真的吗？求证。",
    "早上堵车堵了一个小时，迟到了。",
    "周末带娃去公园玩，人好多。",
    "这家店的奶茶还挺好喝的。",
    "刚看完一部电影，推荐给大家。",
    "楼下新开了一家超市，东西不贵。",
    "转发微博",
    "[怒][怒][怒]",
    "😂😂",
    "同意楼上的说法。",
    "视频里的情况大家自己看吧。",
    "据说当时现场有很多人围观。",
    "不信谣不传谣，等官方通报。",
    "http://t.cn/A6abcDeF",
    "#热点追踪#",
    "@新闻早知道 ",
    "最近的物价涨得有点快。",
    "晚上加班到十点，好累。",
    "Wi-Fi 又断了，iPhone 一直在转圈。",
)
TITLES = ("网友爆料", "突发", "求扩散", "关注", "【视频】", "热议", "", "", "", "")


def _unit_vocabulary(rng: random.Random, unit: int) -> dict[str, list[str]]:
    """A unit's own places and bodies: its city and two of its districts; full names of its schools,
    hospitals and offices, and the short names people use online."""
    city = CITIES[unit % len(CITIES)]
    districts = rng.sample(DISTRICTS, 2)
    bodies = rng.sample(SUBJECTS, 6)
    full = [f"{city}{body}" for body in bodies[:3]] + [f"{city}{districts[0]}{bodies[3]}"]
    short = [f"{city[0]}{body[:2]}" for body in bodies[4:]]
    return {"regions": [city, *(f"{city}{d}" for d in districts)], "subjects": full + short + bodies[:2]}


def _advanced(rng: random.Random, vocabulary: dict[str, list[str]]) -> str:
    subject = rng.choice(vocabulary["subjects"])
    a, b, c = rng.sample(EVENTS, 3)
    return rng.choice(
        (
            f"{subject} + ({a}|{b}) + {c} -{rng.choice(EXCLUSIONS)}",
            f'"{subject} {a}" | {subject} ~{rng.randint(5, 30)} {c}',
            f"{subject} ~{rng.randint(5, 40)} {a}",
            f"{subject} (({a} {b}) | “{c}”) -({rng.choice(EXCLUSIONS)} | {rng.choice(EXCLUSIONS)})",
            f"{a} + ({b} | {c}) + {subject}",
        )
    )


def generate_schemes(seed: int = 2026) -> tuple[list[Any], dict[int, list[str]], dict[int, dict[str, list[str]]]]:
    """1,000 schemes of 100 units (ten each), the units' exclusion words and their vocabulary."""
    from monitoring.matching import SchemeSpec, scheme_node

    rng = random.Random(seed)
    schemes, unit_exclusions, vocabularies = [], {}, {}
    for unit in range(1, 101):
        vocabulary = vocabularies[unit] = _unit_vocabulary(rng, unit)
        if unit % 2 == 0:
            unit_exclusions[unit] = rng.sample(UNIT_EXCLUSIONS, rng.randint(1, 3))
        for k in range(10):
            simple = k % 5 != 4
            regions = rng.sample(vocabulary["regions"], rng.randint(1, 3))
            subjects = rng.sample(vocabulary["subjects"], rng.randint(1, 4)) if simple else []
            node = scheme_node(
                regions=regions,
                subjects=subjects,
                events=rng.sample(EVENTS, rng.randint(3, 8)) if simple else [],
                exclusions=rng.sample(EXCLUSIONS, rng.randint(0, 3)),
                expression="" if simple else _advanced(rng, vocabulary),
            )
            scope: Literal["title", "full"] = "title" if rng.random() < 0.1 else "full"
            schemes.append(SchemeSpec(id=unit * 100 + k, unit_id=unit, node=node, scope=scope))
    return schemes, unit_exclusions, vocabularies


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def generate_posts(
    count: int, schemes: list[Any], vocabularies: dict[int, dict[str, list[str]]], seed: int = 7
) -> list[tuple[int, str, str]]:
    """`count` posts (unit, title, text): chatter with stray keywords, 5% written from a scheme's words."""
    import opencc

    from monitoring.matching.expression import node_terms

    rng = random.Random(seed)
    to_traditional = opencc.OpenCC("s2t")
    posts = []
    for _ in range(count):
        unit = rng.randint(1, 100)
        pieces = rng.sample(FILLER, rng.randint(1, 6))
        if rng.random() < 0.05:  # written to match: the words of one scheme of the unit
            scheme = rng.choice([s for s in schemes if s.unit_id == unit])
            words = [term.text for term, positive in node_terms(scheme.node) if positive]
            pieces += rng.sample(words, min(len(words), rng.randint(3, 5)))
        elif rng.random() < 0.4:  # stray keywords: candidates the engine must evaluate and turn down
            vocabulary = vocabularies[rng.randint(1, 100)]
            names = vocabulary["subjects"] + vocabulary["regions"]
            pieces += rng.sample([rng.choice(EVENTS), *rng.sample(names, 2)], 2)
        rng.shuffle(pieces)
        text = "".join(pieces)
        while len(text) < 20:
            text += rng.choice(FILLER)
        text = text[:300]
        title = rng.choice(TITLES) + (text[: rng.randint(8, 20)] if rng.random() < 0.5 else "")
        if rng.random() < 1 / 6:
            title, text = to_traditional.convert(title), to_traditional.convert(text)
        if rng.random() < 0.1:
            text = _full_width(text)
        posts.append((unit, title, text))
    return posts


def _rate(run: Callable[[], object], count: int, repeat: int = 3) -> float:
    """Items per second of the fastest of `repeat` runs: the machine is shared, the slower runs measure
    the neighbours."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


def section_matching(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()  # messages are translated with gettext; nothing here touches a database
    from monitoring.matching import Matcher, text_normalize
    from monitoring.matching.engine import naive_match, naive_match_all

    total = 5_000 if args.quick else 20_000
    subset = 300 if args.quick else 1_000
    started = time.perf_counter()
    schemes, unit_exclusions, vocabularies = generate_schemes()
    posts = generate_posts(total, schemes, vocabularies)
    print(f"generated {len(schemes)} schemes of 100 units and {total} posts in {time.perf_counter() - started:.1f} s")

    text_normalize("預熱")  # the t2s character table is built on first use: not part of any figure
    started = time.perf_counter()
    matcher = Matcher(schemes, unit_exclusions)
    build_ms = (time.perf_counter() - started) * 1000
    patterns = len(matcher._pids)
    print(f"Matcher built in {build_ms:.0f} ms: {patterns} distinct terms, {len(matcher.rejected)} schemes rejected")

    normalise_rate = _rate(lambda: [(text_normalize(t), text_normalize(x)) for _, t, x in posts], total)
    results = [matcher.match_all(t, x) for _, t, x in posts]
    rate = _rate(lambda: [matcher.match_all(t, x) for _, t, x in posts], total)
    matched = sum(1 for found in results if found)
    unit_rate = _rate(lambda: [matcher.match(u, t, x) for u, t, x in posts], total)
    print(
        f"match_all: {rate:,.0f} posts/s, {matched / total:.1%} of posts matched; "
        f"match (own unit): {unit_rate:,.0f} posts/s; normalisation alone: {normalise_rate:,.0f} posts/s "
        "(fastest of 3 runs)"
    )

    sample = posts[:subset]
    naive = [naive_match_all(schemes, unit_exclusions, t, x) for _, t, x in sample]
    naive_rate = _rate(lambda: [naive_match_all(schemes, unit_exclusions, t, x) for _, t, x in sample], subset, 2)
    by_unit: dict[int, list[Any]] = {}
    for scheme in schemes:
        by_unit.setdefault(scheme.unit_id, []).append(scheme)
    naive_unit = [naive_match(by_unit[u], unit_exclusions, u, t, x) for u, t, x in sample]
    naive_unit_rate = _rate(lambda: [naive_match(by_unit[u], unit_exclusions, u, t, x) for u, t, x in sample], subset)
    disagree = sum(1 for i in range(subset) if naive[i] != results[i])
    disagree += sum(1 for i, (u, t, x) in enumerate(sample) if naive_unit[i] != matcher.match(u, t, x))
    print(
        f"baseline (one regex per scheme) on {subset} posts: {naive_rate:,.0f} posts/s, "
        f"own unit {naive_unit_rate:,.0f} posts/s; disagreements: {disagree}"
    )
    if disagree:
        sys.exit("Matcher and the baseline disagree")

    rng = random.Random(3)
    long_text = "".join(rng.choice(FILLER) for _ in range(8_000))[:99_000]
    long_text += f"{vocabularies[1]['regions'][0]}{vocabularies[1]['subjects'][0]}食堂中毒"
    started = time.perf_counter()
    matcher.match_all("", long_text)
    long_ms = (time.perf_counter() - started) * 1000
    print(f"one post of {len(long_text):,} characters: {long_ms:.1f} ms")

    speedup = rate / naive_rate
    met = rate >= GOAL_POSTS_PER_S and speedup >= GOAL_SPEEDUP
    print(
        f"goal >= {GOAL_POSTS_PER_S:,} posts/s and >= {GOAL_SPEEDUP}x the baseline: "
        f"{'met' if met else 'NOT met'} ({rate:,.0f} posts/s, {speedup:.0f}x)"
    )
    return {
        "posts_per_s": round(rate),
        "speedup": round(speedup, 1),
        "unit_posts_per_s": round(unit_rate),
        "unit_speedup": round(unit_rate / naive_unit_rate, 1),
        "baseline_posts_per_s": round(naive_rate),
        "normalise_posts_per_s": round(normalise_rate),
        "build_ms": round(build_ms),
        "schemes": len(schemes),
        "terms": patterns,
        "posts": total,
        "matched_share": round(matched / total, 3),
        "long_post_ms": round(long_ms, 1),
    }


SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {"matching": section_matching}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer posts and a smaller baseline subset (< 60 s)")
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated, of: {', '.join(SECTIONS)} (default: all)"
    )
    args = parser.parse_args()
    names = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    figures: dict[str, Any] = {}
    for name in names:
        print(f"== {name}")
        figures.update(SECTIONS[name](args))
    print(" ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
