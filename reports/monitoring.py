"""A monitoring report (舆情日报、周报、月报、专报) as an official document (reports.official), from
the figures kept with it: 总体情况 with the trend chart, 分布情况, 主要舆情, 时限执行, 下级单位情况 for a
superior's report, and the 研判意见 its author wrote."""

from datetime import time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from reports.charts import distribution_chart, trend_chart
from reports.models import Kind, MonitoringReport
from reports.official import OfficialDocument, Section, chinese_date, numbered


def _day(at: Any) -> str:
    local = timezone.localtime(at)
    return _("%(m)s月%(d)s日") % {"m": local.month, "d": local.day}


def period_label(report: MonitoringReport) -> str:
    """11月26日 / 11月16日至11月22日 / 2026年10月 / 11月26日 08:00至11月27日 08:00."""
    start, end = timezone.localtime(report.period_start), timezone.localtime(report.period_end)
    last_day = timezone.localtime(report.period_end - timedelta(microseconds=1))
    whole_days = start.time() == end.time() == time.min
    if report.kind == Kind.MONTHLY and whole_days and start.day == 1 and last_day.month == start.month:
        return _("%(y)s年%(m)s月") % {"y": start.year, "m": start.month}
    if whole_days and start.date() == last_day.date():
        return _day(start)
    if whole_days:
        return _("%(a)s至%(b)s") % {"a": _day(start), "b": _day(last_day)}
    return _("%(a)s %(ah)s至%(b)s %(bh)s") % {
        "a": _day(start),
        "ah": start.strftime("%H:%M"),
        "b": _day(end),
        "bh": end.strftime("%H:%M"),
    }


def report_title(organization_name: str, kind: str, label: str) -> str:
    return _("%(unit)s%(kind)s（%(period)s）") % {"unit": organization_name, "kind": Kind(kind).label, "period": label}


def _listing(rows: list[list[Any]]) -> str:
    return "，".join(_("%(name)s %(n)s 起") % {"name": name, "n": n} for name, n in rows)


def _overview(report: MonitoringReport, figures: dict[str, Any], label: str, charts: bool) -> Section:
    who = _("本单位及下级单位上报") if report.includes_subordinates else _("本单位")
    text = _("%(period)s，%(who)s新登记舆情 %(new)s 起，办结 %(closed)s 起；截至报告时仍在办理 %(open)s 起。") % {
        "period": label,
        "who": who,
        "new": figures["new"],
        "closed": figures["closed"],
        "open": figures["open_at_issue"],
    }
    paragraphs = [text]
    if figures["by_level"]:
        paragraphs.append(_("新登记舆情按预警级别：%(rows)s。") % {"rows": _listing(figures["by_level"])})
    paragraphs.append(
        _("监测平台采集相关信息 %(posts)s 条，触发监测预警 %(alerts)s 次。")
        % {"posts": figures["posts"], "alerts": figures["alerts"]}
    )
    chart = trend_chart(figures["trend"]) if charts else None
    return Section("", paragraphs, figures=[chart] if chart else [])


def _distribution(figures: dict[str, Any], charts: bool) -> Section:
    if not figures["new"]:
        return Section("")
    table = [[_("分类"), _("项目"), _("起数")]]
    for dimension, rows in (
        (_("预警级别"), figures["by_level"]),
        (_("处置类别"), figures["by_category"]),
        (_("发布平台"), figures["by_platform"]),
        (_("当前状态"), figures["by_state"]),
    ):
        table += [[str(dimension), str(name), str(n)] for name, n in rows]
    chart = distribution_chart(figures["by_platform"], figures["posts_by_platform"]) if charts else None
    return Section("", table=table, figures=[chart] if chart else [])


def _main(report: MonitoringReport, figures: dict[str, Any]) -> Section:
    rows = figures["main_incidents"]
    if not rows:
        return Section("")
    header = [_("编号"), _("标题"), _("级别"), _("状态"), _("发现时间")]
    if report.includes_subordinates:
        header.insert(1, _("单位"))
    table = [header]
    for row in rows:
        values = [row["reference"] or "—", row["title"], row["level"], row["state"], row["discovered_at"]]
        if report.includes_subordinates:
            values.insert(1, row["unit"])
        table.append(values)
    return Section("", table=table)


def _clocks(figures: dict[str, Any]) -> Section:
    clocks = figures["clocks"]
    if not clocks["due"]:
        return Section("")
    text = (
        _("本期到期处置时限 %(due)s 项：按时完成 %(met)s 项，逾期后完成 %(late)s 项，逾期未完成 %(missed)s 项。")
        % clocks
    )
    if clocks["on_time_rate"] is not None:
        text += _("按时完成率 %(rate)s%%。") % {"rate": clocks["on_time_rate"]}
    items = [
        _("%(ref)s %(title)s：%(clock)s（%(due)s 到期）%(outcome)s。")
        % {
            "ref": row["reference"],
            "title": row["title"],
            "clock": row["clock"],
            "due": row["due_at"],
            "outcome": row["outcome"],
        }
        for row in clocks["late_or_missed"]
    ]
    return Section("", [text], items)


def _units(figures: dict[str, Any]) -> Section:
    if not figures["per_unit"]:
        return Section("")
    table = [[_("单位"), _("新登记"), _("办结"), _("在办")], *[[str(v) for v in row] for row in figures["per_unit"]]]
    return Section("", [_("下级单位的数字为其上报本单位的舆情。")], table=table)


def monitoring_report_document(report: MonitoringReport, *, charts: bool = True) -> OfficialDocument:
    """The report's document; `charts=False` leaves the charts out (the page draws its own)."""
    figures = report.figures
    label = period_label(report)
    unit = report.organization.name
    sections = numbered(
        [
            (_("总体情况"), _overview(report, figures, label, charts)),
            (_("分布情况"), _distribution(figures, charts)),
            (_("主要舆情"), _main(report, figures)),
            (_("时限执行情况"), _clocks(figures)),
            (_("下级单位情况"), _units(figures)),
            (_("研判意见"), Section("", [line.strip() for line in report.commentary.splitlines() if line.strip()])),
        ]
    )
    stem = _("%(kind)s-%(year)s年第%(n)s期") % {
        "kind": report.get_kind_display(),
        "year": report.year,
        "n": report.number,
    }
    return OfficialDocument(
        issuer=report.get_kind_display(),
        number=_("%(year)s年第%(n)s期") % {"year": report.year, "n": report.number},
        title=report.title,
        addressee="",
        sections=sections,
        date=chinese_date(report.created_at),
        signature=unit,
        filename_stem=stem,
    )
