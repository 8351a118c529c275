"""演练评估: a drill scored against the plan, from the drill incident's own record.

Times are given three ways: real time (what the clock on the wall showed), drill time (real time ×
the drill's clock speed: at ×60 a real minute is a drill hour) and the plan's minutes, which drill
time is measured against. Each clock counts once: met on time scores, met late, missed or waived
does not; a clock withdrawn or closed as not applicable is not scored. Each step of the plan
(研判, level, 预警, reports, approved statement, 办结) scores once when done; the level scores when it
is the scenario's expected level (by rank, so a new plan version with renamed levels still reads
it). The overall score is the share of scored items met, out of 100.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from drills.models import Drill
from incidents.models import Assessment, Deadline, Report, StatementVersion, WarningNotice
from incidents.services.deadline_clock import clock_speed
from incidents.states import State


@dataclass
class ClockScore:
    name: str
    status: str
    status_label: str
    plan_minutes: float  # the plan's time from discovery to the due moment
    due_at: datetime
    met_at: datetime | None
    drill_minutes_taken: float | None  # discovery to completion, in drill minutes
    real_seconds_taken: float | None
    margin_drill_minutes: float | None  # > 0 early, < 0 late (drill minutes)
    scored: bool
    passed: bool
    verdict: str


@dataclass
class StepScore:
    key: str
    name: str
    done: bool
    scored: bool
    passed: bool
    at: datetime | None
    drill_minutes: float | None
    detail: str


@dataclass
class DrillReport:
    drill: Drill
    speed: int
    final: bool  # the drill incident is closed: the score no longer changes
    clocks: list[ClockScore] = field(default_factory=list)
    steps: list[StepScore] = field(default_factory=list)
    score: int | None = None
    passed: int = 0
    scored: int = 0

    @property
    def grade(self) -> str:
        if self.score is None:
            return "—"
        if self.score >= 90:
            return _("优秀")
        if self.score >= 75:
            return _("良好")
        if self.score >= 60:
            return _("合格")
        return _("不合格")


def _drill_minutes(start: datetime, at: datetime | None, speed: int) -> float | None:
    if at is None:
        return None
    return round((at - start).total_seconds() * speed / 60, 1)


def _minutes_words(minutes: float) -> str:
    value = abs(minutes)
    shown = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    return _("%(m)s 分钟") % {"m": shown}


def _clock(deadline: Deadline, start: datetime, speed: int, now: datetime) -> ClockScore:
    plan_minutes = round((deadline.due_at - start).total_seconds() * speed / 60, 1)
    taken = _drill_minutes(start, deadline.met_at, speed)
    real = round((deadline.met_at - start).total_seconds(), 1) if deadline.met_at else None
    margin = round(plan_minutes - taken, 1) if taken is not None else None
    status = deadline.status
    scored, passed = True, False
    if status == Deadline.Status.MET:
        passed = True
        verdict = _("按时完成，提前 %(m)s") % {"m": _minutes_words(margin or 0)}
    elif status == Deadline.Status.LATE:
        verdict = _("逾期 %(m)s后完成") % {"m": _minutes_words(margin or 0)}
    elif status == Deadline.Status.MISSED:
        over = _drill_minutes(deadline.due_at, now, speed) or 0
        verdict = _("逾期未完成（已超过 %(m)s）") % {"m": _minutes_words(over)}
    elif status == Deadline.Status.WAIVED:
        verdict = _("由领导豁免，未按时完成：%(reason)s") % {"reason": deadline.decision_reason or "—"}
    elif status == Deadline.Status.PENDING:
        scored = False
        left = _drill_minutes(now, deadline.due_at, speed) or 0
        verdict = _("计时中，还剩 %(m)s") % {"m": _minutes_words(left)}
    else:
        scored = False
        verdict = _("不再适用，不计分")
    return ClockScore(
        name=deadline.name,
        status=status,
        status_label=str(deadline.get_status_display()),  # type: ignore[attr-defined]
        plan_minutes=plan_minutes,
        due_at=deadline.due_at,
        met_at=deadline.met_at,
        drill_minutes_taken=taken,
        real_seconds_taken=real,
        margin_drill_minutes=margin,
        scored=scored,
        passed=passed,
        verdict=verdict,
    )


def _step(key: str, name: str, at: datetime | None, start: datetime, speed: int, detail: str = "") -> StepScore:
    done = at is not None
    return StepScore(
        key=key,
        name=name,
        done=done,
        scored=True,
        passed=done,
        at=at,
        drill_minutes=_drill_minutes(start, at, speed),
        detail=detail or (_("已完成") if done else _("未完成")),
    )


def _level_step(drill: Drill, notice: WarningNotice | None, start: datetime, speed: int) -> StepScore:
    snapshot = drill.scenario_snapshot or {}
    expected_rank = snapshot.get("expected_level_rank")
    expected_name = snapshot.get("expected_level_name") or "—"
    chosen = notice.level if notice is not None else None
    at = notice.issued_at if notice is not None else None
    if expected_rank is None:
        detail = _("演练脚本未设定预期级别，不计分；选定：%(chosen)s") % {"chosen": chosen.name if chosen else "—"}
        return StepScore(
            "level", _("研判定级"), chosen is not None, False, False, at, _drill_minutes(start, at, speed), detail
        )
    if chosen is None:
        detail = _("未定级（预期：%(expected)s）") % {"expected": expected_name}
        return StepScore("level", _("研判定级"), False, True, False, None, None, detail)
    if chosen.rank == expected_rank:
        detail = _("选定 %(chosen)s，与预期一致") % {"chosen": chosen.name}
        passed = True
    else:
        direction = _("高于") if chosen.rank < expected_rank else _("低于")
        detail = _("选定 %(chosen)s，%(direction)s预期（%(expected)s）%(n)s 级") % {
            "chosen": chosen.name,
            "direction": direction,
            "expected": expected_name,
            "n": abs(chosen.rank - expected_rank),
        }
        passed = False
    return StepScore("level", _("研判定级"), True, True, passed, at, _drill_minutes(start, at, speed), detail)


def drill_report(drill: Drill, *, now: datetime | None = None) -> DrillReport:
    """Score the drill from its incident's record: final once the incident is closed, a running
    score before (clocks still counting are not scored yet). A drill not started has no report."""
    now = now or timezone.now()
    incident = drill.incident
    report = DrillReport(drill=drill, speed=drill.speed, final=False)
    if incident is None:
        return report
    speed = clock_speed(incident)
    report.speed = speed
    report.final = not incident.is_open
    start = incident.discovered_at
    for deadline in Deadline.objects.filter(incident_id=incident.pk).order_by("due_at", "id"):
        report.clocks.append(_clock(deadline, start, speed, now))

    first_assessment = (
        Assessment.objects.filter(incident_id=incident.pk)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    notice = (
        WarningNotice.objects.filter(incident_id=incident.pk, kind=WarningNotice.Kind.ISSUED)
        .select_related("level")
        .order_by("issued_at", "id")
        .first()
    )
    reports: dict[str, datetime] = {}
    for kind, at in (
        Report.objects.filter(incident_id=incident.pk).order_by("occurred_at").values_list("kind", "occurred_at")
    ):
        reports.setdefault(kind, at)
    approved_at = (
        StatementVersion.objects.filter(statement__incident_id=incident.pk, decision=StatementVersion.Decision.APPROVED)
        .order_by("decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    closed_at = incident.closed_at if incident.state == State.ARCHIVED else None
    closing = ""
    if incident.state == State.DISMISSED:
        closing = _("经研判排除，未按预案办结")
    report.steps = [
        _step("assessment", _("研判"), first_assessment, start, speed),
        _level_step(drill, notice, start, speed),
        _step("warning", _("发布预警"), incident.warning_issued_at, start, speed),
        _step("oral_report", _("口头报告"), reports.get(Report.Kind.ORAL), start, speed),
        _step("written_report", _("书面报告"), reports.get(Report.Kind.WRITTEN), start, speed),
        _step("statement", _("回应稿审定"), approved_at, start, speed),
        _step("closed", _("办结归档"), closed_at, start, speed, closing),
    ]
    items: list[Any] = [*report.clocks, *report.steps]
    report.scored = sum(1 for item in items if item.scored)
    report.passed = sum(1 for item in items if item.scored and item.passed)
    report.score = round(100 * report.passed / report.scored) if report.scored else None
    return report
