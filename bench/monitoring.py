"""Monitoring (监测): how many posts a second the keyword schemes (监测方案) can take, and what the whole
pipeline does with them on PostgreSQL and Redis with the real processes.

    .venv/bin/python bench/monitoring.py [--quick] [--sections matching,ingest,feeds,load,search,analysis]

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

The other sections share one bench database, DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/opinion_ops_bench_mon; its name must contain "bench": it is
recreated from a migrated template, as bench/deadlines.py does) and REDIS_URL (default
redis://127.0.0.1:6379/14, flushed): the same 1,000 schemes in 100 units, each unit with a member
of its 舆情监测组 holding an API token of scope ingest, plus bench/deadlines.py's unit (people reached
by a local webhook stand-in) with 400 probe schemes of threshold 1. The Procfile's processes run
as subprocesses, stopped by process id when the script ends, whatever happens: gunicorn (2 workers)
on 127.0.0.1, `worker -Q celery` and `monitor -Q feeds,matching` (threads, 4 each) and beat, with
the feed sweep every second (FEED_SWEEP_SECONDS=1) and OUTBOUND_ALLOWED_NETWORKS=127.0.0.1/32. One
warm-up batch goes through first (each process loads jieba and builds its matcher once).

ingest: 200 batches of 200 generated posts (15 with --quick), each of one unit, pushed through
POST /api/v1/posts/ingest/ by 4 clients as fast as the server answers; then until the monitor
worker has matched them all.
feeds: 50 RSS feeds of 200 items (5 with --quick) served by monitoring/tests/feed_server.py fall
due at once: from then to every post stored (and matched).
load: bench/deadlines.py's burst of reminders and misses (1,000 over 60 s; 100 over 3 s with
--quick), its lateness measured at the webhook stand-in, first with no ingest, then while 1,000
posts/s are pushed through the API (paced, 5 batches a second). In both runs a probe post goes in
every second (twice a second with --quick), one per request, each matching its own probe scheme:
its alert latency is from the post's captured_at to its alert raised with the notification written.
Goals: alert p99 <= 5 s under the load; reminder lateness p99 with the load <= 1.5x without it.
search: 1,000,000 posts (100,000 with --quick) COPYed in with search_text (jieba's search mode,
cut once per distinct piece a post is made of), 40% in one city-sized unit, the GIN index built
again and ANALYZE; then 20 queries (1-3 words, common and rare, a phrase, an exclusion, a word in no
post) in that unit and in a small one, three times each, through monitoring.search.posts_search
(first page, newest first). Goal: p95 <= 200 ms.

Each section returns a dict of figures and prints what its main figures mean; the last line holds
them all as key=value pairs (the headline ones last), e.g. for a script to compare runs. The machine
is shared: the figures of the processes depend on what else runs on it.
"""

import argparse
import contextlib
import functools
import math
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import per_second, say  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_ops.settings")
# The end-to-end and search sections recreate this database (its name must contain "bench") and
# flush this Redis db; the matching section touches neither.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opinion_ops_bench_mon")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("DEBUG", "false")  # no query log in this process or the ones it starts

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


def scheme_rows(seed: int = 2026) -> tuple[list[dict[str, Any]], dict[int, list[str]], dict[int, dict[str, list[str]]]]:
    """1,000 schemes of 100 units (ten each) as a unit would type them (word lists, an expression),
    the units' exclusion words and their vocabulary."""
    rng = random.Random(seed)
    rows, unit_exclusions, vocabularies = [], {}, {}
    for unit in range(1, 101):
        vocabulary = vocabularies[unit] = _unit_vocabulary(rng, unit)
        if unit % 2 == 0:
            unit_exclusions[unit] = rng.sample(UNIT_EXCLUSIONS, rng.randint(1, 3))
        for k in range(10):
            simple = k % 5 != 4
            regions = rng.sample(vocabulary["regions"], rng.randint(1, 3))
            subjects = rng.sample(vocabulary["subjects"], rng.randint(1, 4)) if simple else []
            events = rng.sample(EVENTS, rng.randint(3, 8)) if simple else []
            exclusions = rng.sample(EXCLUSIONS, rng.randint(0, 3))
            expression = "" if simple else _advanced(rng, vocabulary)
            scope: Literal["title", "full"] = "title" if rng.random() < 0.1 else "full"
            rows.append(
                {
                    "id": unit * 100 + k,
                    "unit": unit,
                    "regions": regions,
                    "subjects": subjects,
                    "events": events,
                    "exclusions": exclusions,
                    "expression": expression,
                    "scope": scope,
                }
            )
    return rows, unit_exclusions, vocabularies


def generate_schemes(seed: int = 2026) -> tuple[list[Any], dict[int, list[str]], dict[int, dict[str, list[str]]]]:
    """The schemes of scheme_rows as the engine reads them, the units' exclusion words and vocabulary."""
    from monitoring.matching import SchemeSpec, scheme_node

    rows, unit_exclusions, vocabularies = scheme_rows(seed)
    schemes = [
        SchemeSpec(
            id=row["id"],
            unit_id=row["unit"],
            node=scheme_node(
                regions=row["regions"],
                subjects=row["subjects"],
                events=row["events"],
                exclusions=row["exclusions"],
                expression=row["expression"],
            ),
            scope=row["scope"],
        )
        for row in rows
    ]
    return schemes, unit_exclusions, vocabularies


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@functools.cache
def _to_traditional() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def generate_posts(
    count: int,
    schemes: list[Any],
    vocabularies: dict[int, dict[str, list[str]]],
    seed: int = 7,
    units: Sequence[int] | None = None,
) -> list[tuple[int, str, str]]:
    """`count` posts (unit, title, text): chatter with stray keywords, 5% written from a scheme's words;
    of any of the 100 units, or of the given ones."""
    from monitoring.matching.expression import node_terms

    rng = random.Random(seed)
    to_traditional = _to_traditional()
    posts = []
    for _ in range(count):
        unit = rng.randint(1, 100) if units is None else rng.choice(units)
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

    normalise_rate = per_second(lambda: [(text_normalize(t), text_normalize(x)) for _, t, x in posts], total)
    results = [matcher.match_all(t, x) for _, t, x in posts]
    rate = per_second(lambda: [matcher.match_all(t, x) for _, t, x in posts], total)
    matched = sum(1 for found in results if found)
    unit_rate = per_second(lambda: [matcher.match(u, t, x) for u, t, x in posts], total)
    print(
        f"match_all: {rate:,.0f} posts/s, {matched / total:.1%} of posts matched; "
        f"match (own unit): {unit_rate:,.0f} posts/s; normalisation alone: {normalise_rate:,.0f} posts/s "
        "(fastest of 3 runs)"
    )

    sample = posts[:subset]
    naive = [naive_match_all(schemes, unit_exclusions, t, x) for _, t, x in sample]
    naive_rate = per_second(lambda: [naive_match_all(schemes, unit_exclusions, t, x) for _, t, x in sample], subset, 2)
    by_unit: dict[int, list[Any]] = {}
    for scheme in schemes:
        by_unit.setdefault(scheme.unit_id, []).append(scheme)
    naive_unit = [naive_match(by_unit[u], unit_exclusions, u, t, x) for u, t, x in sample]
    naive_unit_rate = per_second(
        lambda: [naive_match(by_unit[u], unit_exclusions, u, t, x) for u, t, x in sample], subset
    )
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
    say("posts_per_s", round(rate), "posts a second through Matcher.match_all over 1,000 schemes, in-process")
    say("speedup", round(speedup, 1), "match_all over one Python regex per scheme on the same posts")
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


# --- end to end: PostgreSQL, Redis and the Procfile's processes (bench/monitoring_e2e.py)

BATCH = 200
LOAD_POSTS_PER_S = 1_000
GOAL_ALERT_P99_S = 5.0
GOAL_CLOCK_RATIO = 1.5
GOAL_SEARCH_P95_MS = 200


def _world(args: argparse.Namespace, *, processes: bool = False) -> Any:
    """The bench database, made once per run by the first section that needs it; with `processes`,
    web, worker, monitor and beat are started as soon as it is migrated, to boot meanwhile (stopped
    when main() ends, whatever happens)."""
    if getattr(args, "world", None) is None:
        from bench.monitoring_e2e import processes_start, world_prepare

        started = time.perf_counter()
        rows, unit_exclusions, _vocabularies = scheme_rows()
        args.world = world_prepare(
            rows,
            unit_exclusions,
            triggers=400,
            migrated=(lambda world: processes_start(world, args.stack)) if processes else (lambda world: None),
        )
        print(
            f"bench database {os.environ['DATABASE_URL'].rsplit('/', 1)[-1]}: 100 units, {len(rows)} schemes, "
            f"{len(args.world.triggers)} probe schemes (threshold 1) in {time.perf_counter() - started:.1f} s; "
            f"logs in {args.world.tmp}",
            flush=True,
        )
    return args.world


def _running(args: argparse.Namespace) -> Any:
    """The world with web, worker, monitor and beat running and warmed up."""
    from bench.monitoring_e2e import processes_start, processes_wait

    world = _world(args, processes=True)
    if not getattr(args, "running", False):
        started = time.perf_counter()
        if not world.web:  # the database was made by a section that needed no processes
            processes_start(world, args.stack)
        processes_wait(world)
        _warm_up(world)
        args.running = True
        print(
            f"gunicorn (2 workers) at {world.web}, worker -Q celery, monitor -Q feeds,matching (threads x4 each) "
            f"and beat ready and warmed up {time.perf_counter() - started:.1f} s later",
            flush=True,
        )
    return world


def _warm_up(world: Any) -> None:
    """Two small batches through web and monitor before anything is measured: each process loads
    jieba's dictionary and builds its matcher on first use (seconds, once per process)."""
    from datetime import UTC, datetime

    from bench.monitoring_e2e import ingest_push, posts_wait_matched

    since = datetime.now(UTC)
    ingest_push(world, _api_batches(world, 2, seed=999, prefix="warm-up", size=20), threads=2)
    posts_wait_matched(since, timeout=30)


def _api_batches(world: Any, count: int, seed: int, prefix: str, every: float = 0.0, size: int = BATCH) -> list[Any]:
    """`count` batches of `size` generated posts, each of one unit (the units in turn), `every` s apart."""
    from bench.monitoring_e2e import Batch, post_payload

    schemes, _exclusions, vocabularies = generate_schemes()
    batches = []
    for b in range(count):
        unit = b % 100 + 1
        posts = generate_posts(size, schemes, vocabularies, seed=seed + b, units=(unit,))
        payload = [post_payload(title, text, f"{prefix}-{b}-{i}") for i, (_u, title, text) in enumerate(posts)]
        batches.append(Batch(world.units[unit], payload, at=b * every))
    return batches


def _whole(value: float) -> int | float:
    """Rounded to a whole number; NaN (nothing measured) stays NaN."""
    return value if math.isnan(value) else round(value)


def _failed(sent: list[Any]) -> str:
    bad = [s for s in sent if s.status not in (200, 201)]
    return f"; {len(bad)} requests failed, first: {bad[0].status} {bad[0].error}" if bad else ""


def section_ingest(args: argparse.Namespace) -> dict[str, Any]:
    from datetime import UTC, datetime

    from bench.deadlines import percentile
    from bench.monitoring_e2e import ingest_push, match_tasks, posts_wait_matched

    world = _running(args)
    log_offset = world.logs["monitor"].stat().st_size
    count = 15 if args.quick else 200
    batches = _api_batches(world, count, seed=1_000, prefix="api")
    since = datetime.now(UTC)
    started = time.time()
    sent = ingest_push(world, batches, threads=4)
    ended = max(s.ended for s in sent)
    posts = sum(len(s.batch.posts) for s in sent if s.status in (200, 201))
    created = sum(s.created for s in sent)
    rate = posts / (ended - started)
    waiting, last = posts_wait_matched(since, timeout=30 if args.quick else 240)
    pipeline = created / (last.timestamp() - started) if last and not waiting else float("nan")
    request_ms = [(s.ended - s.started) * 1000 for s in sent]
    tasks = match_tasks(world, log_offset)
    task_ms_per_post = 1000 * sum(t for t, _n in tasks) / max(1, sum(n for _t, n in tasks))
    print(
        f"pushed {len(sent)} batches of {BATCH} from 4 clients: {posts:,} posts answered ({created:,} new, "
        f"{sum(s.duplicates for s in sent)} duplicates, {sum(s.rejected for s in sent)} rejected) in "
        f"{ended - started:.1f} s{_failed(sent)}; all matched {'' if not waiting else f'NOT ({waiting} left) '}"
        f"after {(last.timestamp() - started) if last else float('nan'):.1f} s",
        flush=True,
    )
    say(
        "ingest_api_per_s",
        _whole(rate),
        "posts a second through POST /api/v1/posts/ingest/ (batches of "
        f"{BATCH}, 4 clients, gunicorn with 2 workers, token scope ingest), first request to last answer",
    )
    say(
        "ingest_matched_per_s",
        _whole(pipeline),
        "the same posts segmented, matched and alerted by the monitor worker: first request to the last post matched",
    )
    say("ingest_request_p99_ms", _whole(percentile(request_ms, 99)), "one batch request, 99th percentile")
    say(
        "match_task_ms_per_post",
        round(task_ms_per_post, 2),
        f"a matching task's own time per post ({len(tasks)} tasks as the monitor logged them, 4 threads in one "
        "process sharing its GIL: segmenting for search, matching, writing hits and alerts)",
    )
    return {
        "ingest_api_per_s": _whole(rate),
        "ingest_matched_per_s": _whole(pipeline),
        "ingest_request_p50_ms": _whole(percentile(request_ms, 50)),
        "ingest_request_p99_ms": _whole(percentile(request_ms, 99)),
        "ingest_unmatched": waiting,
        "match_task_ms_per_post": round(task_ms_per_post, 2),
    }


def section_feeds(args: argparse.Namespace) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    from django.db.models import Count, Max, Q

    from bench.monitoring_e2e import rss_document
    from monitoring.models import Mention, Source
    from monitoring.tests.feed_server import feed_server

    world = _running(args)
    feeds = 5 if args.quick else 50
    schemes, _exclusions, vocabularies = generate_schemes()
    with feed_server() as server:
        rows = []
        for f in range(feeds):
            unit = f % 100 + 1
            items = [
                (title, text, f"https://news.example.cn/feed{f}/{i}.html")
                for i, (_u, title, text) in enumerate(
                    generate_posts(BATCH, schemes, vocabularies, seed=50_000 + f, units=(unit,))
                )
            ]
            url = server.add(f"feed-{f}.xml", rss_document(f"压测订阅{f}", items))
            rows.append(
                Source(
                    organization_id=world.units[unit], kind="feed", name=f"压测订阅{f}", url=url, interval_minutes=600
                )
            )
        sources = Source.objects.bulk_create(rows)
        ids = [s.pk for s in sources]
        due = datetime.now(UTC) + timedelta(seconds=0.5)
        Source.objects.filter(pk__in=ids).update(next_fetch_at=due)
        polled = Source.objects.filter(pk__in=ids).filter(Q(last_fetch_at__gte=due))
        deadline = time.monotonic() + (40 if args.quick else 180)
        while polled.count() < feeds and time.monotonic() < deadline:
            time.sleep(0.1)
        stored_at = datetime.now(UTC)  # observed: a post's captured_at is when its batch began
        posts = Mention.objects.filter(source_id__in=ids)
        figures = posts.aggregate(n=Count("id"), matched=Count("id", filter=Q(matched_at__isnull=False)))
        while figures["matched"] < figures["n"] and time.monotonic() < deadline:
            time.sleep(0.25)
            figures = posts.aggregate(n=Count("id"), matched=Count("id", filter=Q(matched_at__isnull=False)))
        last_matched = posts.aggregate(last=Max("matched_at"))["last"]
        failed = list(Source.objects.filter(pk__in=ids, failures__gt=0).values_list("last_error", flat=True)[:1])
    seconds = (stored_at - due).total_seconds()
    rate = figures["n"] / seconds
    matched_rate = figures["n"] / (last_matched - due).total_seconds() if last_matched else float("nan")
    print(
        f"{feeds} feeds of {BATCH} items on 127.0.0.1 (feed sweep every 1 s): {polled.count()} polled, "
        f"{figures['n']:,} posts stored {seconds:.1f} s after they fell due, {figures['matched']:,} matched "
        f"{(last_matched - due).total_seconds() if last_matched else float('nan'):.1f} s after"
        + (f"; a feed failed: {failed[0]}" if failed else ""),
        flush=True,
    )
    say(
        "feed_posts_per_s",
        _whole(rate),
        "posts a second from the feeds falling due to every post stored "
        "(sweeper claims, monitor fetches and ingests; includes up to one 1 s sweep tick)",
    )
    say("feed_matched_per_s", _whole(matched_rate), "the same, to every post matched")
    return {"feeds": feeds, "feed_posts_per_s": _whole(rate), "feed_matched_per_s": _whole(matched_rate)}


def section_load(args: argparse.Namespace) -> dict[str, Any]:
    """Deadline reminders (bench/deadlines.py's burst, measured at its webhook stand-in) without
    ingest, then with LOAD_POSTS_PER_S posts a second pushed through the API; alert probes (one post
    a request, each matching its own scheme of threshold 1) in both."""
    from datetime import UTC, datetime

    from bench.deadlines import percentile
    from bench.monitoring_e2e import alert_latencies, clock_burst, ingest_push_apart, posts_wait_matched, probe_batches

    world = _running(args)
    clocks = 100 if args.quick else 1_000
    lead, window = (1.0, 3.0) if args.quick else (5.0, 60.0)
    every = 0.5 if args.quick else 1.0
    span = lead + window
    pushed: list[Any] = []

    def push(batches: list[Any]) -> Callable[[], None]:
        return lambda: pushed.extend(ingest_push_apart(world, batches, threads=6, paced=True))

    quiet_probes, quiet_numbers = probe_batches(world, int(span / every), every)
    quiet = clock_burst(world, "quiet", clocks, lead, window, push(quiet_probes))
    quiet_alerts, quiet_missing = alert_latencies(world, quiet_numbers, timeout=15)

    load = _api_batches(
        world, int(span * LOAD_POSTS_PER_S / BATCH), seed=100_000, prefix="load", every=BATCH / LOAD_POSTS_PER_S
    )
    load_probes, load_numbers = probe_batches(world, int(span / every), every, offset=every / 3)
    pushed.clear()
    since = datetime.now(UTC)
    started = time.time()
    loaded = clock_burst(world, "ingest", clocks, lead, window, push(load + load_probes))
    sent_posts = sum(len(s.batch.posts) for s in pushed if s.status in (200, 201))
    ended = max(s.ended for s in pushed)
    achieved = sent_posts / (ended - started)
    alerts, missing = alert_latencies(world, load_numbers, timeout=30 if args.quick else 120)
    waiting, last = posts_wait_matched(since, timeout=30 if args.quick else 300)

    quiet_p99, loaded_p99 = percentile(quiet, 99), percentile(loaded, 99)
    ratio = loaded_p99 / quiet_p99 if quiet_p99 > 0 else float("nan")
    print(
        f"{clocks} reminders/misses over {window:.0f} s, twice: without ingest (only the probes) "
        f"p50 {percentile(quiet, 50):.2f} s p99 {quiet_p99:.2f} s, {clocks - len(quiet)} never came; with "
        f"{achieved:,.0f} posts/s pushed (goal ~{LOAD_POSTS_PER_S:,}{_failed(pushed)}) "
        f"p50 {percentile(loaded, 50):.2f} s p99 {loaded_p99:.2f} s, {clocks - len(loaded)} never came",
        flush=True,
    )
    print(
        f"alert probes: quiet {len(quiet_alerts)} raised p50 {percentile(quiet_alerts, 50):.2f} s p99 "
        f"{percentile(quiet_alerts, 99):.2f} s ({quiet_missing} missing); under ingest {len(alerts)} raised p50 "
        f"{percentile(alerts, 50):.2f} s p99 {percentile(alerts, 99):.2f} s ({missing} missing); matching backlog "
        f"{'drained' if not waiting else f'NOT drained ({waiting} left)'} "
        f"{(last.timestamp() - ended) if last else float('nan'):.1f} s after the last push",
        flush=True,
    )
    alert_p99 = percentile(alerts, 99) if not missing else float("inf")
    say(
        "alert_p50_s / alert_p99_s",
        f"{percentile(alerts, 50):.2f} / {alert_p99:.2f}",
        "a probe post's "
        "captured_at to its alert raised with the notification written, under the ingest load "
        f"(goal p99 <= {GOAL_ALERT_P99_S:.0f} s: {'met' if alert_p99 <= GOAL_ALERT_P99_S else 'NOT met'})",
    )
    say(
        "clock_p99_ratio",
        f"{ratio:.2f}",
        "reminder lateness p99 at the webhook stand-in with the ingest "
        f"load over without it (goal <= {GOAL_CLOCK_RATIO}: {'met' if ratio <= GOAL_CLOCK_RATIO else 'NOT met'})",
    )
    return {
        "clock_p99_quiet_s": round(quiet_p99, 2),
        "clock_p99_ingest_s": round(loaded_p99, 2),
        "clocks_never_came": 2 * clocks - len(quiet) - len(loaded),
        "load_posts_per_s": _whole(achieved),
        "alert_quiet_p99_s": round(percentile(quiet_alerts, 99), 2),
        "alerts_missing": quiet_missing + missing,
        "load_unmatched": waiting,
        "alert_p50_s": round(percentile(alerts, 50), 2),
        "alert_p99_s": round(alert_p99, 2),
        "clock_p99_ratio": round(ratio, 2),
    }


def _search_queries(vocabulary: dict[str, list[str]]) -> list[str]:
    """Queries people type: one to three words, common and rare, a phrase, an exclusion, one absent."""
    city, district = vocabulary["regions"][0], vocabulary["regions"][1]
    subjects = vocabulary["subjects"]
    return [
        "食堂",
        "投诉",
        "停电",
        "家长",
        "食堂 中毒",
        "乱收费 举报",
        f"{city} 火灾",
        f"{district} 停水",
        subjects[0],
        f"{subjects[1]} 食堂",
        f"{subjects[4]} 补课 家长",
        f"{city} {subjects[2]} 猥亵",
        "暴力执法",
        "问题疫苗 学生受伤",
        "核电站",
        '"食堂中毒"',
        "食堂 -演练",
        "iPhone",
        "12345热线",
        "官方通报",
    ]


def _search_pieces(vocabularies: dict[int, dict[str, list[str]]], number_of: dict[int, int]) -> Callable[..., Any]:
    def pieces_of(rng: random.Random, unit: int) -> tuple[list[str], str]:
        vocabulary = vocabularies[number_of[unit]]
        pieces = rng.sample(FILLER, rng.randint(1, 5))
        if rng.random() < 0.5:
            pieces.append(rng.choice(EVENTS))
        if rng.random() < 0.4:
            pieces.append(rng.choice(vocabulary["subjects"] + vocabulary["regions"]))
        if rng.random() < 0.1:
            pieces.append(rng.choice(EXCLUSIONS))
        rng.shuffle(pieces)
        return pieces, rng.choice(TITLES)

    return pieces_of


def section_search(args: argparse.Namespace) -> dict[str, Any]:
    from bench.deadlines import percentile
    from bench.monitoring_e2e import search_corpus_copy, search_rows
    from monitoring.ingest import source_of_kind
    from monitoring.models import Mention, Source
    from monitoring.search import posts_search, search_query_parse

    world = _world(args)
    count = 100_000 if args.quick else 1_000_000
    _rows, _exclusions, vocabularies = scheme_rows()
    number_of = {pk: number for number, pk in world.units.items()}
    units = [world.units[n] for n in sorted(world.units)]
    sources = {pk: source_of_kind(pk, Source.Kind.IMPORT).pk for pk in units}
    started = time.perf_counter()
    search_corpus_copy(search_rows(count, units, sources, _search_pieces(vocabularies, number_of)))
    total = Mention.objects.count()
    print(
        f"{count:,} posts COPYed with search_text (jieba search mode per piece), GIN index built and ANALYZE in "
        f"{time.perf_counter() - started:.1f} s; {total:,} posts in the table, 40% of them in one unit",
        flush=True,
    )
    search_query_parse("预热")  # jieba loads its dictionary on first use: not part of any query
    timed: list[tuple[float, str, int, int]] = []
    for _repeat in range(3):
        for pk in (units[0], units[7]):  # the city-sized unit, and one of the others
            for q in _search_queries(vocabularies[number_of[pk]]):
                began = time.perf_counter()
                found = posts_search(organization_id=pk, q=q)
                timed.append(((time.perf_counter() - began) * 1000, q, pk, len(found)))
    times = [ms for ms, *_rest in timed]
    p95 = percentile(times, 95)
    slowest = sorted(timed, reverse=True)[:3]
    print(
        f"{len(timed)} searches (20 queries x 2 units x 3): p50 {percentile(times, 50):.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(times):.1f} ms; slowest: "
        + ", ".join(
            f"{q!r} in {'the big unit' if pk == units[0] else 'a small unit'} {ms:.0f} ms ({n} found)"
            for ms, q, pk, n in slowest
        ),
        flush=True,
    )
    say(
        "search_p95_ms",
        round(p95, 1),
        "monitoring.search.posts_search (first page of 50, newest first) over "
        f"{total:,} posts, 95th percentile (goal <= {GOAL_SEARCH_P95_MS} ms: "
        f"{'met' if p95 <= GOAL_SEARCH_P95_MS else 'NOT met'})",
    )
    return {"search_posts": total, "search_p50_ms": round(percentile(times, 50), 1), "search_p95_ms": round(p95, 1)}


def section_analysis(args: argparse.Namespace) -> dict[str, Any]:
    """研判支持 (issue 12's figures): bench/analysis.py's sections — the whole pipeline (normalise, match
    1,000 schemes, cluster, score) next to matching alone, clustering recall and precision on copies
    whose truth is known, the scorer's accuracy default and trained — run here in the same process."""
    import importlib.util

    import django

    django.setup()  # settings and gettext; bench/analysis.py's sections touch no database
    spec = importlib.util.spec_from_file_location("bench_analysis", Path(__file__).with_name("analysis.py"))
    assert spec is not None and spec.loader is not None
    bench_analysis = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_analysis)
    figures: dict[str, Any] = {}
    for name, section in bench_analysis.SECTIONS.items():
        print(f"-- {name}", flush=True)
        figures.update(section(args))
    return figures


SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "matching": section_matching,
    "ingest": section_ingest,
    "feeds": section_feeds,
    "load": section_load,
    "search": section_search,
    "analysis": section_analysis,
}
SUMMARY = (
    "posts_per_s",
    "speedup",
    "alert_p50_s",
    "alert_p99_s",
    "ingest_api_per_s",
    "clock_p99_ratio",
    "search_p95_ms",
    "pipeline_posts_per_s",
    "cluster_recall",
    "cluster_precision",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and shorter windows (< 60 s)")
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated, of: {', '.join(SECTIONS)} (default: all)"
    )
    args = parser.parse_args()
    names = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    # SIGTERM unwinds like an error: the processes started below run in sessions of their own and
    # would outlive this script otherwise.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with contextlib.ExitStack() as stack:  # every process a section starts is stopped here, by its id
        args.stack = stack
        for name in names:
            print(f"== {name}", flush=True)
            began = time.perf_counter()
            figures.update(SECTIONS[name](args))
            print(f"   ({name}: {time.perf_counter() - began:.1f} s)", flush=True)
    print(f"(run took {time.perf_counter() - started:.0f} s)")
    extra = [key for key in figures if key not in SUMMARY]
    print(" ".join(f"{key}={figures[key]}" for key in [*extra, *(k for k in SUMMARY if k in figures)]))


if __name__ == "__main__":
    main()
