"""Numbers and time limits as Chinese plans write them: 30分钟, 三十分钟, 半小时, 一个半小时, 3小时,
三个小时, 24小时内, 1个工作日, 当天, 当日."""

import re
from dataclasses import dataclass

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}

NUMBER = r"[0-9]+(?:\.[0-9]+)?|[零〇一二两三四五六七八九十百千]+"


def chinese_number(text: str) -> float | None:
    """12, 1.5, 十二, 二十四, 两, 一百二十, 三〇 → the number; None for anything else."""
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text):
        return float(text)
    if any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        return None
    if not any(ch in _UNITS for ch in text):  # 三〇 read digit by digit
        value = 0
        for ch in text:
            value = value * 10 + _DIGITS[ch]
        return float(value)
    total, digit = 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
    return float(total + (digit or 0))


_UNIT_MINUTES = {"分钟": 1, "分": 1, "小时": 60, "钟头": 60, "天": 1440, "日": 1440, "工作日": 1440}

# "三个半小时", "半小时", "90分钟", "24小时", "1个工作日"; the number may not follow 年/月/第 (dates, ordinals).
DURATION = re.compile(
    rf"(?<![年月第0-9零〇一二两三四五六七八九十百千.])"
    rf"(?:(?P<num>{NUMBER})\s*个?\s*(?P<half>半)?|(?P<only_half>半)\s*个?)"
    r"\s*(?P<unit>分钟|小时|钟头|个?工作日|天|日)"
    r"(?P<within>\s*(?:以内|之内|内|以前|之前|前))?"
)
SAME_DAY = re.compile(r"当[日天]")


@dataclass(frozen=True)
class Duration:
    minutes: int
    start: int
    end: int
    within: bool  # written as a limit (…内, …前), not as a length of time
    working_days: bool


def duration_at(match: re.Match[str]) -> Duration | None:
    """The minutes a DURATION match stands for (None for a zero or unreadable number)."""
    unit = match.group("unit").lstrip("个")
    if match.group("only_half"):
        value = 0.5
    else:
        number = chinese_number(match.group("num"))
        if number is None:
            return None
        value = number + (0.5 if match.group("half") else 0)
    minutes = round(value * _UNIT_MINUTES[unit])
    if minutes <= 0:
        return None
    return Duration(
        minutes=minutes,
        start=match.start(),
        end=match.end(),
        within=bool(match.group("within")),
        working_days=unit == "工作日",
    )


def durations(text: str) -> list[Duration]:
    return [found for match in DURATION.finditer(text) if (found := duration_at(match)) is not None]
