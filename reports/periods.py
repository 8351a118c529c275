"""The periods of monitoring reports, in local time (Asia/Shanghai): a daily report covers the day
before its date, a weekly one Monday to Sunday before it (issued on Monday), a monthly one the month
before it (issued on the 1st)."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from reports.models import Kind


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _is_issue_day(kind: str, day: date) -> bool:
    if kind == Kind.WEEKLY:
        return day.weekday() == 0
    if kind == Kind.MONTHLY:
        return day.day == 1
    return True


def period_for(kind: str, due_at: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the period a scheduled report due at `due_at` covers."""
    day = timezone.localtime(due_at).date()
    end = _midnight(day)
    if kind == Kind.WEEKLY:
        return end - timedelta(days=7), end
    if kind == Kind.MONTHLY:
        previous = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
        return _midnight(previous), _midnight(day.replace(day=1))
    return end - timedelta(days=1), end


def next_due(kind: str, send_time: time, after: datetime) -> datetime:
    """The first issue time strictly after `after`: each day (daily), each Monday (weekly) or each
    1st (monthly) at `send_time`."""
    day = timezone.localtime(after).date()
    for offset in range(0, 63):
        candidate_day = day + timedelta(days=offset)
        if not _is_issue_day(kind, candidate_day):
            continue
        candidate = timezone.make_aware(datetime.combine(candidate_day, send_time), timezone.get_current_timezone())
        if candidate > after:
            return candidate
    raise AssertionError("an issue day falls within 63 days")  # pragma: no cover - calendar arithmetic


def default_period(kind: str, now: datetime) -> tuple[datetime, datetime]:
    """The period an on-demand report of this kind covers by default: the last complete one (a
    special report: the last 24 hours)."""
    if kind == Kind.SPECIAL:
        return now - timedelta(days=1), now
    today = timezone.localtime(now).date()
    if kind == Kind.WEEKLY:
        today -= timedelta(days=today.weekday())
    elif kind == Kind.MONTHLY:
        today = today.replace(day=1)
    return period_for(kind, _midnight(today))
