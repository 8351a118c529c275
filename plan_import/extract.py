"""The rules that read a plan's text: working groups and their positions, warning levels, clocks,
handling categories, incident types, the reporting chain and the drill frequency, each with the
sentence it came from.

Deterministic and offline: regular expressions over the clauses of the text (split at sentence
ends and at the numbering these plans use: 一、 (一) 1、 1. (1) ① 第一条), read in the order the
document gives them. A rule proposes only what a sentence states; what the text leaves open
(a level's response tier, a clock's owner) is left for the administrator, never guessed."""

import itertools
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from plan_import.findings import (
    CATEGORY,
    CHAIN,
    CLOCK,
    DRILL,
    GROUP,
    INCIDENT_TYPE,
    LEVEL,
    POSITION,
    Extraction,
    Finding,
    Unmapped,
)
from plan_import.numbers import SAME_DAY, chinese_number, durations

# --- the text as clauses

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_MARK = (
    r"(?:第[一二三四五六七八九十百]+[章节条]|[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）]"
    r"|[(（][0-9]{1,2}[)）]|[0-9]{1,2}(?:\.[0-9]{1,2})+\s|[0-9]{1,2}[、.．](?![0-9])|[①-⑳])"
)
MARK = re.compile(_MARK)
_LEVEL1 = re.compile(r"第[一二三四五六七八九十百]+章|[一二三四五六七八九十]+[、.．]")
_LEVEL2 = re.compile(r"[(（][一二三四五六七八九十]+[)）]|[0-9]{1,2}\.[0-9]{1,2}\s")
_ENDS = "。；;！？!?\n"
_CJK = r"\u4e00-\u9fff"


@dataclass(frozen=True)
class Clause:
    start: int
    body: int  # after the numbering mark, if any
    end: int
    mark: str


def _clauses(text: str) -> list[Clause]:
    cuts = {0, len(text)}
    line_start = 0
    for index, char in enumerate(text):
        if char == "\n":
            line, line_start = text[line_start:index], index + 1
            soft_wrap = (
                len(line) >= 20
                and line[-1] not in "。；;:：！？!?"
                and re.match(f"[{_CJK}]", text[index + 1 : index + 2])
                and not MARK.match(text, index + 1)
            )
            if soft_wrap:  # a sentence a Word file broke across two lines
                continue
        if char in _ENDS:
            cuts.add(index + 1)
    for match in MARK.finditer(text):
        previous = text[match.start() - 1] if match.start() else "\n"
        # a mark opens a clause unless it sits inside a word ("第一时间", "1.5小时" are not marks)
        if match.group().startswith("第") and not re.match(r"第[一二三四五六七八九十百]+[章条]", match.group()):
            continue
        if re.match(r"[一二三四五六七八九十]", match.group()) and re.match(f"[{_CJK}]", previous):
            if previous not in "。；;：:":
                continue
        cuts.add(match.start())
    clauses = []
    ordered = sorted(cuts)
    for start, end in itertools.pairwise(ordered):
        segment = text[start:end]
        if not segment.strip():
            continue
        lead = len(segment) - len(segment.lstrip())
        mark = MARK.match(text, start + lead)
        body = mark.end() if mark else start + lead
        while body < end and text[body] == " ":
            body += 1
        clauses.append(Clause(start + lead, body, end, mark.group() if mark else ""))
    return clauses


@dataclass(frozen=True)
class Section:
    level: int
    title: str
    start: int
    end: int


_TITLE_STOP = re.compile(
    r"[:：,，。;；(（]|为(?!主)|根据|随着|本预案|成立|设立|通过|建立|加强|坚持|明确|按照|发现|在|应急处置结束"
)


def _title(text: str, clause: Clause) -> str:
    body = text[clause.body : clause.end].strip()
    stop = _TITLE_STOP.search(body, 2)
    title = body[: stop.start()] if stop else body
    return title[:14].strip(" 。")


def _sections(text: str, clauses: list[Clause]) -> list[Section]:
    heads = []
    for clause in clauses:
        if _LEVEL1.fullmatch(clause.mark.strip()):
            heads.append((1, clause))
        elif _LEVEL2.fullmatch(clause.mark.strip() + (" " if clause.mark.endswith(" ") else "")):
            heads.append((2, clause))
        elif clause.mark.startswith(("(", "（")) and re.match(r"[(（][一二三四五六七八九十]", clause.mark):
            heads.append((2, clause))
    sections = []
    for index, (level, clause) in enumerate(heads):
        end = len(text)
        for later_level, later in heads[index + 1 :]:
            if later_level <= level:
                end = later.start
                break
        sections.append(Section(level, _title(text, clause), clause.start, end))
    return sections


def _inside(sections: list[Section], position: int, pattern: str) -> bool:
    return any(s.start <= position < s.end and re.search(pattern, s.title) for s in sections)


# --- groups and positions

_GROUP_SUFFIX = re.compile(
    r"(?:领导小组办公室|领导小组|工作小组|小组|工作组|组(?![织成建长员合建团])|办公室|指挥部|监测中心|专家团队|团队|队伍)"
)
_GROUP_BOUNDARY = re.compile(
    r".*(?:成立|设立|建立|组建|下设|设置|的|由|向|报告|上报|及时|立即|和|与|及|将|经|请|按照|根据|同时|负责|"
    r"会同|联系|[^" + _CJK + r"])"
)
_ESTABLISH = re.compile(r"(?:成立|设立|建立|组建|下设|设置|设)$")
_ROLE_BY_NAME = [
    (r"办公室", "office"),
    (r"领导小组|指挥部|领导机构", "leadership"),
    (r"监测", "monitoring"),
    (r"研判|分析|评估", "analysis"),
    (r"法律|法务", "legal"),
    (r"保障|后勤|专家|技术", "support"),
    (r"宣传|发布|引导|报道|新闻", "publicity"),
    (r"处置|应对|处理|协调|工作组|工作小组|队伍", "handling"),
]
_ROLE_BY_DUTIES = [
    (r"处置|应对|实施", "handling"),
    (r"监测", "monitoring"),
    (r"研判|分析", "analysis"),
    (r"发布|宣传|引导", "publicity"),
    (r"法律", "legal"),
    (r"保障|技术支持", "support"),
]


def _role(name: str, duties: str) -> str:
    for pattern, role in _ROLE_BY_NAME:
        if re.search(pattern, name):
            return role
    for pattern, role in _ROLE_BY_DUTIES:
        if re.search(pattern, duties):
            return role
    return ""


def _group_name_before(text: str, clause: Clause, suffix: re.Match[str]) -> tuple[str, bool]:
    """The group name that ends at `suffix`, and whether the clause establishes it (成立…/设立…)."""
    window_start = max(clause.body, suffix.start() - 20)
    before = text[window_start : suffix.start()]
    cut = _GROUP_BOUNDARY.match(before)
    name_start = window_start + (cut.end() if cut else 0)
    if re.search(r"[^" + _CJK + r"]", text[name_start : suffix.start()]):
        name_start = suffix.start()
    inner = list(_GROUP_SUFFIX.finditer(text, name_start, suffix.start()))
    if inner:  # "成立X指挥部X指挥部负责": the name is the last one
        name_start = inner[-1].end()
    name = text[name_start : suffix.end()]
    if name.startswith("本"):
        name = name[1:]
    establish = bool(_ESTABLISH.search(text[clause.body : name_start]))
    if name in {"办公室"} or (name == "小组" and establish):
        prefix = re.search(r"(领导小组|指挥部)下设$", text[clause.body : name_start])
        name = (prefix.group(1) if prefix else "") + name
    return name, establish


_GROUP_DUTY = re.compile(r"^\s*(?:[:：,，]\s*)?(?:[^,，。；;]{0,10}[,，]\s*)?(?:主要|全面|具体)?(?:职责[:：]?|负责|是)")


def _mark_depth(mark: str) -> int:
    """How deep a numbering mark sits: 一、 0, (一) 1, 1. / 1.1 / 第一条 2, (1) 3, ① 4; no mark 9."""
    mark = mark.strip()
    if not mark:
        return 9
    if re.fullmatch(r"第.+章|[一二三四五六七八九十]+[、.．]", mark):
        return 0
    if re.fullmatch(r"[(（][一二三四五六七八九十]+[)）]|第.+节", mark):
        return 1
    if re.fullmatch(r"[(（][0-9]+[)）]", mark):
        return 3
    if re.fullmatch(r"[①-⑳]", mark):
        return 4
    return 2


def _items_after(text: str, clauses: list[Clause], index: int) -> tuple[str, int]:
    """The numbered items under the heading clause at `index` (a "领导小组职责" list), joined, and
    where they end."""
    depth = _mark_depth(clauses[index].mark)
    items: list[str] = []
    end = clauses[index].end
    for later in clauses[index + 1 :]:
        later_depth = _mark_depth(later.mark)
        if later_depth <= depth or (later_depth == 9 and not items):
            break
        if later_depth == 9:
            items[-1] += text[later.body : later.end].strip()
        else:
            items.append(text[later.body : later.end].strip())
        end = later.end
        if len(items) >= 8:
            break
    return "；".join(item.rstrip("。；;") for item in items), end


def _same_group(name: str, other: str) -> bool:
    return name == other or name.endswith(other) or other.endswith(name)


def _groups(text: str, clauses: list[Clause], sections: list[Section]) -> list[Finding]:
    found: list[Finding] = []
    for index, clause in enumerate(clauses):
        if _inside(sections, clause.start, r"原则|^(?!.*(?:组织|机构)).*保障(?:措施)?$"):
            continue  # "成立专门领导小组加强组织协调", "加强应急队伍建设": principles and resources, not groups
        for suffix in _GROUP_SUFFIX.finditer(text, clause.body, clause.end):
            name, establish = _group_name_before(text, clause, suffix)
            if len(name) < 3 or name.startswith("各") or name in {"工作组", "工作小组", "小组", "团队", "队伍"}:
                continue
            if name.endswith("中心") and not re.search("舆情|监测", name):
                continue
            at_start = suffix.start() - (len(name) - len(suffix.group())) <= clause.body + 1
            after = text[suffix.end() : clause.end]
            duty = _GROUP_DUTY.match(after)
            heading = re.match(r"\s*(?:的)?(?:主要)?(?:工作)?职责\s*[:：]?\s*$", after)
            if not (establish or at_start or duty):
                continue
            if heading:
                duties, end = _items_after(text, clauses, index)
            elif duty:
                duties, end = after[duty.end() :], clause.end
            elif at_start and not re.match(r"\s*(?:组成|下设|成立|设立|建立|组建)", after):
                duties, end = after, clause.end
            else:
                duties, end = "", clause.end
            duties = re.sub(r"\s*\n\s*", "", re.sub(r"^[,，:：\s]+", "", duties)).strip().rstrip("。；;")
            if duties.startswith(("组长", "副组长", "成员", "主任")):
                duties = ""
            role = _role(name, duties)
            if not role:
                continue
            existing = next(
                (g for g in found if g.values["role"] == role and _same_group(g.values["name"], name)), None
            )
            if existing is not None:
                if duties and not existing.values["duties"]:
                    existing.values["duties"] = duties[:500]
                if establish and len(name) > len(existing.values["name"]):  # "(一)应急指挥部成立X应急指挥部"
                    existing.values["name"] = name[:100]
                continue
            found.append(Finding(GROUP, {"name": name[:100], "role": role, "duties": duties[:500]}, clause.start, end))
    return found


_POSITION_TITLES = r"副总指挥|总指挥|副指挥长|指挥长|副组长|组长|副主任|主任|成员"
_POSITION = re.compile(
    rf"(?P<title>{_POSITION_TITLES})\s*[:：]\s*(?P<holder>.*?)(?=(?:{_POSITION_TITLES})\s*[:：]|[;；。\n]|$)"
)
_POSITION_INLINE = re.compile(
    r"以(?P<head>[^,，。;；]{2,20}?)为组长[,，、]?(?:(?P<members>[^,，。;；以]{2,20}?)为成员)?"
)
_PLACEHOLDER = re.compile(r"^[\s_＿XxＸｘ×某…\.]*$")


def _position_code(title: str) -> str:
    if title.startswith("副"):
        return "deputy"
    if title == "成员":
        return "member"
    return "head"


def _holder(raw: str) -> str:
    holder = raw.strip().rstrip("，,、")
    holder = re.sub(r"^由", "", holder)
    holder = re.sub(r"(?:担任|组成|兼任)$", "", holder).strip()
    holder = re.sub(r"[_＿]{2,}", "", holder)
    if _PLACEHOLDER.match(holder) or re.fullmatch(r"(?:XXX[、,，]?)+", holder, flags=re.I):
        return ""
    holder = re.sub(r"^(?:XXX|某某)[（(]([^)）]*)[)）]$", r"\1", holder, flags=re.I)
    return holder[:100]


def _positions(text: str, clauses: list[Clause], groups: list[Finding]) -> list[Finding]:
    findings = []

    def group_before(position: int) -> str:
        named = [g for g in groups if g.start <= position]
        return named[-1].values["name"] if named else ""

    for clause in clauses:
        segment = text[clause.start : clause.end]
        for match in _POSITION.finditer(segment):
            group = group_before(clause.start + match.start())
            if not group:
                continue
            findings.append(
                Finding(
                    POSITION,
                    {
                        "group": group,
                        "title": match.group("title"),
                        "position": _position_code(match.group("title")),
                        "holder": _holder(match.group("holder")),
                    },
                    clause.start,
                    clause.end,
                )
            )
        for match in _POSITION_INLINE.finditer(segment):
            later = [g for g in groups if g.start >= clause.start]
            group = later[0].values["name"] if later and later[0].start < clause.end else group_before(clause.start)
            if not group:
                continue
            for title, key in (("组长", "head"), ("成员", "members")):
                if match.group(key):
                    findings.append(
                        Finding(
                            POSITION,
                            {
                                "group": group,
                                "title": title,
                                "position": _position_code(title),
                                "holder": _holder(match.group(key)),
                            },
                            clause.start,
                            clause.end,
                        )
                    )
    return findings


# --- warning levels

_LEVEL_WORD = (
    r"(?P<name>特别重大|重大|较大|一般|[一二三四1-4Ⅰ-Ⅳ]级|[ⅠⅡⅢⅣ]级|红色|橙色|黄色|蓝色)"
    r"(?P<suffix>级别|级|预警|响应|事件|舆情|等级)*"
)
_LEVEL_ITEM = re.compile(rf"^{_LEVEL_WORD}\s*[:：（(]")
_LEVEL_LIST = re.compile(r"分为(?P<count>[一二三四五六七八九2-9])(?:个)?(?:等级|级别|级|类)")
_SEVERITY = {
    "特别重大": 1,
    "重大": 2,
    "较大": 3,
    "一般": 4,
    "红色": 1,
    "橙色": 2,
    "黄色": 3,
    "蓝色": 4,
}
_COLOURS = {"红色": "#cf1322", "橙色": "#d46b08", "黄色": "#d4b106", "蓝色": "#1677ff"}
_ROMAN = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4}


def _severity(word: str) -> int:
    if word in _SEVERITY:
        return _SEVERITY[word]
    head = word[0]
    if head in _ROMAN:
        return _ROMAN[head]
    number = chinese_number(head)
    return int(number) if number else 9


def _tier(criteria: str) -> str:
    if re.search(r"上级", criteria):
        return "superior"
    if re.search(r"领导小组|指挥部", criteria):
        return "leadership"
    if re.search(r"(?:相关|责任|业务)部门|科室|处室", criteria):
        return "department"
    return ""


def _level_name(word: str, suffix: str) -> str:
    if word in ("特别重大", "重大", "较大", "一般"):
        return word + ("级" if "级" in suffix else "")
    if word.endswith("色"):
        return word + "预警"
    return word


def _levels(text: str, clauses: list[Clause], sections: list[Section]) -> list[Finding]:
    levels: dict[str, Finding] = {}
    context = r"级|预警|响应|分类|等级"
    for clause in clauses:
        body = text[clause.body : clause.end]
        item = _LEVEL_ITEM.match(body)
        near = text[max(0, clause.start - 300) : clause.start]
        if item and (_inside(sections, clause.start, context) or re.search(r"分为|分级|等级|级别", near)):
            criteria = re.sub(r"^[:：\s]+", "", body[item.end() - 1 :]).strip().rstrip("。；;")
            if body[item.end() - 1] in "（(":
                criteria = body[item.end() - 1 :].strip().rstrip("。；;")
            name = _level_name(item.group("name"), item.group("suffix") or "")
            if name not in levels:
                levels[name] = Finding(
                    LEVEL,
                    {
                        "rank": _severity(item.group("name")),
                        "name": name,
                        "color": _COLOURS.get(item.group("name"), ""),
                        "criteria": criteria[:1000],
                        "tier": _tier(criteria),
                    },
                    clause.start,
                    clause.end,
                )
            continue
        listed = _LEVEL_LIST.search(body)
        if listed:
            rest = body[listed.end() :]
            names = re.findall(r"(特别重大|重大|较大|一般|红色|橙色|黄色|蓝色)(级|预警)?", rest)
            for word, suffix in names:
                name = _level_name(word, suffix)
                levels.setdefault(
                    name,
                    Finding(
                        LEVEL,
                        {
                            "rank": _SEVERITY[word],
                            "name": name,
                            "color": _COLOURS.get(word, ""),
                            "criteria": "",
                            "tier": "",
                        },
                        clause.start,
                        clause.end,
                    ),
                )
    found = sorted(levels.values(), key=lambda f: f.values["rank"])
    found += _levels_stated_not_described(text, clauses, found)
    for rank, finding in enumerate(found, start=1):  # ranks as the product counts them: 1, 2, 3 …
        finding.values["rank"] = rank
    return sorted(found, key=lambda f: f.start)


def _levels_stated_not_described(text: str, clauses: list[Clause], found: list[Finding]) -> list[Finding]:
    """ "分为三级" with only 一级 and 二级 described: the plan states a 三级 it leaves without criteria."""
    numbered = [f for f in found if re.fullmatch(r"[一二三四]级", f.values["name"])]
    if not numbered:
        return []
    for clause in clauses:
        listed = _LEVEL_LIST.search(text, clause.start, clause.end)
        if not listed:
            continue
        count = int(chinese_number(listed.group("count")) or 0)
        names = {f.values["name"] for f in numbered}
        missing = []
        for rank in range(1, min(count, 4) + 1):
            name = "一二三四"[rank - 1] + "级"
            if name not in names:
                values = {"rank": rank, "name": name, "color": "", "criteria": "", "tier": ""}
                note = _("原文称分为%(count)s级，未写明该级的判定标准。") % {"count": listed.group("count")}
                missing.append(Finding(LEVEL, values, clause.start, clause.end, note=note))
        return missing
    return []


# --- clocks

_ACTIONS = [
    (r"口头(?:汇报|报告)|电话(?:汇报|报告)", "oral_report"),
    (r"书面(?:汇报|报告|材料)", "written_report"),
    (r"回复|答复|反馈", "reply"),
    (r"回应|发布|公开|跟帖|告知|声明|通报|发声|澄清", "public_response"),
    (r"汇报|报告|上报|报送|报", "other"),
    (r"办结|处置完毕|处理完毕|核实|查明", "other"),
]
_KIND_NAMES = {
    "oral_report": "口头报告",
    "written_report": "书面报告",
    "public_response": "公开回应",
    "reply": "答复诉求",
}
_NOT_A_LIMIT = re.compile(r"^\s*(?:值班|监测|不间断|运行|在线|开机|畅通|全天候)")
_ANCHORS = [
    (r"预警(?:发布|下达)后|发布预警后", "warning"),
    (r"(?:接报|登记|受理|收到)(?:后|之后|时|起)", "logged"),
]


def _anchor(before: str) -> str:
    for pattern, anchor in _ANCHORS:
        if re.search(pattern, before):
            return anchor
    return "discovered"


def _clock_action(after: str) -> tuple[str, str] | None:
    """What must be done by the limit: the most specific action named right after it."""
    window = after[:24]
    for pattern, kind in _ACTIONS:
        match = re.search(pattern, window)
        if match:
            return kind, match.group()
    return None


def _clock_name(kind: str, phrase: str, same_day: bool) -> str:
    if kind in ("oral_report", "written_report") and phrase.endswith("汇报"):
        return phrase
    if kind == "reply" and same_day:
        return "当日" + ("答复" if "答复" in phrase else "回复")
    if kind in _KIND_NAMES:
        return _KIND_NAMES[kind]
    return phrase if len(phrase) > 1 else "上报"


def _clocks(text: str, clauses: list[Clause], categories: list[Finding]) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[tuple[str, int | None, bool]] = set()
    for clause in clauses:
        segment = text[clause.start : clause.end]
        limits: list[tuple[int, int, int | None, bool]] = [
            (d.start, d.end, d.minutes, d.within) for d in durations(segment)
        ]
        limits += [(m.start(), m.end(), None, True) for m in SAME_DAY.finditer(segment)]
        limits.sort(key=lambda limit: limit[0])
        for index, (start, end, minutes, within) in enumerate(limits):
            if minutes is not None and (not within and not re.match(r"\s*(?:之?内|前)", segment[end:])):
                if not re.search(r"(?:在|于|限|须|要)\s*$", segment[max(0, start - 3) : start]):
                    continue
            if _NOT_A_LIMIT.match(segment[end:]) or re.search(r"每\s*$", segment[max(0, start - 2) : start]):
                continue
            stop = limits[index + 1][0] if index + 1 < len(limits) else len(segment)
            action = _clock_action(segment[end:stop])
            if action is None:
                continue
            kind, phrase = action
            same_day = minutes is None
            if same_day and kind not in ("reply", "other", "oral_report", "written_report"):
                continue
            key = (kind, minutes, same_day)
            if key in seen:
                continue
            seen.add(key)
            category = next(
                (c.values["code"] for c in categories if c.start <= clause.start < c.end and c.values["code"]), ""
            )
            findings.append(
                Finding(
                    CLOCK,
                    {
                        "name": _clock_name(kind, phrase, same_day),
                        "kind": kind,
                        "minutes": minutes,
                        "same_day": same_day,
                        "anchor": _anchor(text[max(clause.start - 40, 0) : clause.start + start]),
                        "category": category,
                    },
                    clause.start,
                    clause.end,
                    note=_("原文以工作日计，此处按 24 小时计。") if minutes and "工作日" in segment[start:end] else "",
                )
            )
    names: dict[str, int] = {}
    for finding in findings:  # a plan may state the same action twice with different limits
        name = finding.values["name"]
        names[name] = names.get(name, 0) + 1
        if names[name] > 1 and finding.values["minutes"]:
            finding.values["name"] = f"{name}（{finding.values['minutes']} 分钟）"
    return findings


# --- handling categories and incident types

_CATEGORY = re.compile(
    r"属(?:于)?(?:(?P<long>[^。;；:：]{2,40}?类)(?:的|者)|(?P<name>[^,，。;；:：]{2,30}?类))[,，:：]?"
)
_CATEGORY_CODES = [
    (r"询问|置疑|质疑|诉求|咨询|投诉", "inquiry"),
    (r"炒作|恶意传播", "hype"),
    (r"捏造|歪曲|诽谤|攻击|违法|谣言", "fabrication"),
    (r"积极意义|建议|建设性|意见", "constructive"),
]


def _categories(text: str, clauses: list[Clause]) -> list[Finding]:
    findings = []
    names = set()
    for index, clause in enumerate(clauses):
        body = text[clause.body : clause.end]
        match = _CATEGORY.match(body)
        if not match:
            continue
        name = match.group("long") or match.group("name")
        if name in names:
            continue
        names.add(name)
        # the measures run to the next numbered item: the clauses up to the next mark
        end = clause.end
        for later in clauses[index + 1 :]:
            if later.mark:
                break
            end = later.end
        measures = text[clause.body + match.end() : end].strip().rstrip("。；;")
        code = next((code for pattern, code in _CATEGORY_CODES if re.search(pattern, name)), "other")
        findings.append(
            Finding(
                CATEGORY,
                {"code": code, "name": name[:60], "measures": re.sub(r"\s*\n\s*", "", measures)[:2000]},
                clause.start,
                end,
            )
        )
    return findings


_TYPES_INTRO = re.compile(r"包括但不限于(?:以下(?:情况|几类|类型|方面))?[:：]?")


def _incident_types(text: str) -> list[Finding]:
    findings = []
    for intro in _TYPES_INTRO.finditer(text):
        end = text.find("。", intro.end())
        end = len(text) if end < 0 else end
        line_end = text.find("\n", intro.end())
        if 0 <= line_end < end:
            end = line_end
        listing = text[intro.end() : end]
        items = [item for item in re.split(_MARK, listing) if item.strip()]
        if len(items) < 2:
            items = re.split(r"[;；]", listing)
        if len(items) < 2:
            items = listing.split("、")
        for item in items:
            name = item.strip().strip(";；,，、").strip()
            name = re.sub(r"等$", "", name)
            if 2 <= len(name) <= 60 and not name.startswith("其他"):
                offset = text.find(name, intro.end())
                findings.append(Finding(INCIDENT_TYPE, {"name": name}, offset, offset + len(name)))
        break  # the scope clause comes first; a later 包括但不限于 lists something else
    return findings


# --- the reporting chain and drills

_UP = re.compile(
    r"(?:向|报|报告|报送|上报|汇报)[^。；;]{0,12}上级(?:主管)?(?:部门|单位|机关)?|上级(?:主管)?部门[^。；;]{0,6}(?:报告|报送|汇报)"
)
_TO_LEADERS = re.compile(r"(?:报告|上报|汇报|报)[^。；;,，]{0,20}(?:领导小组|指挥部)")
_TO_OFFICE = re.compile(r"(?:报告|上报|汇报|报)[^。；;,，]{0,12}办公室")


def _chain(text: str, clauses: list[Clause], groups: list[Finding]) -> list[Finding]:
    up = leaders = office = None
    for clause in clauses:
        segment = text[clause.start : clause.end]
        if up is None and _UP.search(segment):
            up = clause
        if leaders is None and _TO_LEADERS.search(segment):
            leaders = clause
        if office is None and _TO_OFFICE.search(segment):
            office = clause
    if up is None and leaders is None:
        return []
    rungs = ["owner", "group_head"]
    if office is not None or any(g.values["role"] == "office" for g in groups):
        rungs.append("office")
    rungs.append("leadership")
    if up is not None:
        rungs.append("superior")
    source = up or leaders
    assert source is not None
    return [Finding(CHAIN, {"rungs": rungs}, source.start, source.end)]


_DRILL = re.compile(
    r"每(?P<n>[0-9一二两三四五六]?)(?:个)?(?P<unit>半年|年度|年|季度|个月|月)"
    r"[^。；;]{0,12}?(?:(?P<times>[0-9一二两三四]+)次)?[^。；;]{0,12}?演练"
)


def _drills(text: str, clauses: list[Clause]) -> list[Finding]:
    for clause in clauses:
        segment = text[clause.start : clause.end]
        match = _DRILL.search(segment)
        if not match:
            continue
        count = chinese_number(match.group("n")) if match.group("n") else 1
        unit = {"半年": 6, "年度": 12, "年": 12, "季度": 3, "个月": 1, "月": 1}[match.group("unit")]
        months = int((count or 1) * unit)
        times = chinese_number(match.group("times")) if match.group("times") else 1
        if times and times > 1:
            months = max(1, int(months / times))
        return [Finding(DRILL, {"months": months}, clause.start, clause.end)]
    return []


# --- the whole plan

_SUMMARY_TITLES = r"目的|适用范围|工作原则|编制依据|总则|原则"


def _summary(text: str, sections: list[Section]) -> str:
    chosen: list[Section] = []
    for section in sorted(sections, key=lambda s: (s.level, s.start)):
        if not re.search(_SUMMARY_TITLES, section.title):
            continue
        if any(c.start <= section.start < c.end for c in chosen):
            continue
        chosen.append(section)
    parts = [text[s.start : s.end].strip() for s in sorted(chosen, key=lambda s: s.start)]
    return "\n".join(parts)[:5000]


def _title_line(text: str) -> str:
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if len(line) <= 40 and "预案" in line and not re.search(r"[。；;]", line):
            return line
        return ""
    return ""


def extract(text: str) -> Extraction:
    """Every item the plan's text states, in document order within each kind."""
    normal = text.translate(_FULL_WIDTH)
    clauses = _clauses(normal)
    sections = _sections(normal, clauses)
    groups = _groups(normal, clauses, sections)
    categories = _categories(normal, clauses)
    findings = (
        groups
        + _positions(normal, clauses, groups)
        + _levels(normal, clauses, sections)
        + _clocks(normal, clauses, categories)
        + categories
        + _incident_types(normal)
        + _chain(normal, clauses, groups)
        + _drills(normal, clauses)
    )
    summary_sections = [s for s in sections if re.search(_SUMMARY_TITLES, s.title)]
    unmapped = []
    top = [s for s in sections if s.level == 1] or sections
    for section in top:
        if any(s.start == section.start for s in summary_sections):
            continue
        if not any(section.start <= f.start < section.end for f in findings):
            unmapped.append(Unmapped(section.title, section.start, min(section.end, section.start + 2000)))
    return Extraction(
        text=text,
        title=_title_line(text),
        summary=_summary(text, sections),
        findings=findings,
        unmapped=unmapped,
    )


def extraction_refusal(extraction: Extraction) -> str | None:
    """Why a text is not a plan the importer can use, or None: it must state at least one working
    group, warning level, clock or handling category."""
    if any(extraction.of_kind(kind) for kind in (GROUP, LEVEL, CLOCK, CATEGORY)):
        return None
    return _("没有识别出任何预案要素（工作组、预警级别、时限、处置类别）：这似乎不是一份网络舆情应急预案。")
