"""The rules that read a plan: what each seed plan yields is pinned, and each way Chinese plans
write a group, a position, a level or a time limit is read the same."""

import pytest

from plan_import.extract import extract, extraction_refusal
from plan_import.findings import CATEGORY, CHAIN, CLOCK, DRILL, GROUP, INCIDENT_TYPE, LEVEL, POSITION
from plan_import.numbers import chinese_number, durations
from plan_import.samples import SAMPLES, sample_text
from plan_import.tests.seeds import seed_plans, seed_truth


def clocks(text: str) -> list[tuple[str, int | None, bool]]:
    return [(f.values["kind"], f.values["minutes"], f.values["same_day"]) for f in extract(text).of_kind(CLOCK)]


def names(text: str, kind: str) -> list[str]:
    return [f.values["name"] for f in extract(text).of_kind(kind)]


SEEDS = list(zip(seed_plans(), seed_truth(), strict=True))


@pytest.mark.parametrize(("plan", "truth"), SEEDS, ids=[f"{i}-{t['title']}" for i, (_p, t) in enumerate(SEEDS)])
def test_it_recovers_every_stated_clock_group_and_level_of_each_seed_plan_and_invents_none(plan, truth):
    _title, text = plan
    extraction = extract(text)
    assert (extraction_refusal(extraction) is not None) == bool(truth.get("refused"))
    assert sorted(names(text, GROUP)) == sorted(truth["groups"])
    assert sorted(names(text, LEVEL)) == sorted(truth["levels"])
    found = [f"{kind}:{'same_day' if same_day else minutes}" for kind, minutes, same_day in clocks(text)]
    assert sorted(found) == sorted(truth["clocks"])


def test_it_reads_the_school_plan_the_way_its_office_wrote_it():
    text = dict(seed_plans())["东岗小学网络舆情应急预案"]
    extraction = extract(text)
    positions = {(f.values["title"], f.values["holder"]) for f in extraction.of_kind(POSITION)}
    assert ("组长", "魏宏舜") in positions and ("副组长", "蔡继英谢延平") in positions
    categories = {f.values["code"] for f in extraction.of_kind(CATEGORY)}
    assert categories == {"inquiry", "hype", "fabrication", "constructive"}
    same_day = next(f for f in extraction.of_kind(CLOCK) if f.values["same_day"])
    assert same_day.values["category"] == "inquiry"  # 当日回复 belongs to 询问、置疑、诉求类
    assert extraction.of_kind(CHAIN)[0].values["rungs"][-1] == "superior"  # 上报上级主管部门
    sentence = text[same_day.start : same_day.end]
    assert "当日回复处理意见" in sentence


@pytest.mark.parametrize(
    ("written", "minutes"),
    [
        ("30分钟", 30),
        ("三十分钟", 30),
        ("半小时", 30),
        ("半个小时", 30),
        ("一个半小时", 90),
        ("3小时", 180),
        ("三个小时", 180),
        ("两小时", 120),
        ("24小时", 1440),
        ("1个工作日", 1440),
        ("１小时", 60),
    ],
)
def test_it_reads_a_time_limit_however_the_plan_writes_the_number(written, minutes):
    text = f"二、应急响应\n舆情监测组发现舆情后，{written}内口头报告领导小组办公室。"
    assert clocks(text.translate({0xFF11: 0x31})) == [("oral_report", minutes, False)]


def test_it_reads_same_day_replies_and_tells_the_actions_apart():
    text = (
        "四、应急响应\n(一)发现舆情后，1小时内电话报告领导小组，2小时内报送书面报告。\n"
        "(二)宣传组应在发现后三小时内发布权威信息。\n(三)群众诉求当天答复处理意见。"
    )
    assert clocks(text) == [
        ("oral_report", 60, False),
        ("written_report", 120, False),
        ("public_response", 180, False),
        ("reply", None, True),
    ]


def test_it_takes_no_clock_from_a_duty_roster_a_date_or_a_frequency():
    text = (
        "三、保障\n1、实行24小时值班制度。\n2、本预案自2026年1月1日起施行。\n3、每日报送舆情日报。\n"
        "4、第一时间启动应急预案。"
    )
    assert clocks(text) == []


def test_it_reads_groups_in_the_numbering_and_punctuation_units_really_use():
    text = (
        "二、组织机构\n（一）成立网络舆情应急处置领导小组\n组长：_____\n副组长：XXX、XXX\n成员：_____\n"
        "（二）领导小组下设办公室，负责日常工作。\n"
        "① 舆情监测组：负责日常监测。\n② 舆情研判组：负责分析研判。\n③ 信息发布组：负责发布权威信息。\n"
        "④ 法律援助组：负责法律审核。"
    )
    extraction = extract(text)
    groups = {f.values["name"]: f.values["role"] for f in extraction.of_kind(GROUP)}
    assert groups == {
        "网络舆情应急处置领导小组": "leadership",
        "领导小组办公室": "office",
        "舆情监测组": "monitoring",
        "舆情研判组": "analysis",
        "信息发布组": "publicity",
        "法律援助组": "legal",
    }
    blanks = [f.values["holder"] for f in extraction.of_kind(POSITION)]
    assert blanks == ["", "", ""]  # template blanks are not names


def test_it_reads_levels_as_plans_name_them_most_severe_first():
    colours = (
        "三、预警分级\n将预警分为四级：\n1、红色预警：特别严重。\n2、橙色预警：严重。\n"
        "3、黄色预警：较重。\n4、蓝色预警：一般。"
    )
    levels = extract(colours).of_kind(LEVEL)
    assert [(f.values["rank"], f.values["name"]) for f in levels] == [
        (1, "红色预警"),
        (2, "橙色预警"),
        (3, "黄色预警"),
        (4, "蓝色预警"),
    ]
    assert levels[0].values["color"] == "#cf1322"
    tiers = "四、应急响应\n分级响应：(1)一般事件：由相关部门负责处置；(2)重大事件：由上级部门负责处置。"
    assert {f.values["name"]: (f.values["rank"], f.values["tier"]) for f in extract(tiers).of_kind(LEVEL)} == {
        "重大": (1, "superior"),
        "一般": (2, "department"),
    }


def test_it_lists_what_it_could_not_map_and_keeps_the_scope_as_the_summary():
    text = dict(seed_plans())["网络舆情的应急预案"]
    extraction = extract(text)
    assert "预案内容" in [u.title for u in extraction.unmapped]
    assert extract(sample_text("agency")).summary.startswith("一、总则")


def test_it_refuses_text_that_states_no_part_of_a_plan():
    assert extraction_refusal(extract("本周食堂菜单：周一米饭、周二面条。欢迎师生提出意见。" * 5)) is not None


@pytest.mark.parametrize("key", [key for key, _label in SAMPLES])
def test_each_shipped_template_yields_a_complete_plan(key):
    extraction = extract(sample_text(key))
    kinds = {f.kind for f in extraction.findings}
    assert {GROUP, LEVEL, CLOCK, CHAIN} <= kinds
    assert {"oral_report", "written_report", "public_response", "reply"} == {
        f.values["kind"] for f in extraction.of_kind(CLOCK)
    }
    for finding in extraction.findings:  # every item points at the sentence it came from
        assert 0 <= finding.start < finding.end <= len(extraction.text)
    if key != "company":
        assert extraction.of_kind(DRILL) and extraction.of_kind(CATEGORY)


def test_it_reads_incident_types_from_the_scope():
    assert names(sample_text("agency"), INCIDENT_TYPE)[:2] == ["网络谣言、虚假信息传播", "网络暴力、网络诽谤"]


def test_chinese_numbers():
    assert [chinese_number(s) for s in ("十二", "二十四", "一百二十", "两", "三〇", "1.5", "x")] == [
        12,
        24,
        120,
        2,
        30,
        1.5,
        None,
    ]
    assert [d.minutes for d in durations("2026年3月5日前，三个半小时内")] == [210]


def test_the_whole_seed_collection_reads_as_one_file_without_error():
    from plan_import.reader import plan_text_check
    from plan_import.tests.seeds import SEED_FILE

    extraction = extract(plan_text_check(SEED_FILE.read_text(encoding="utf-8")))
    assert extraction_refusal(extraction) is None
    assert len(extraction.of_kind(CLOCK)) == 4  # 三小时内, 30 分钟, 90 分钟, 当日: each plan's clock once
