"""Monitoring reports (舆情日报、周报、月报、专报): the figures of a seeded period, the schedule ticked by
a controlled clock (issued once per period, caught up after an outage, retried after a failure),
the documents, bad input, and who may read and issue them."""

import io
from datetime import timedelta
from typing import Any
from unittest import mock

import time_machine
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from docx import Document

from incidents.models import Deadline, Incident
from incidents.services import incidents as svc
from incidents.services.deadline_clock import deadlines_sweep
from monitoring.models import Alert, KeywordScheme, Mention
from notifications.models import Notification
from opinion_ops.errors import DomainError, NotPermitted
from opinion_ops.testing import BaseTestCase, aware, sign_in
from reports.models import Kind, MonitoringReport, ReportSchedule
from reports.monitoring import monitoring_report_document
from reports.services import monitoring_report_issue, report_schedule_save, report_schedules_sweep
from reports.tests.test_export import POPPLER, poppler

DAY = aware(2026, 11, 26, 9, 0)  # a Thursday


def _post(unit: Any, at: Any, text: str, platform: str = "weibo") -> Mention:
    return Mention.objects.create(
        organization=unit, platform=platform, text=text, captured_at=at, content_hash=f"h-{text}-{at.isoformat()}"
    )


class SeededDay(BaseTestCase):
    """On 26 November: three incidents of the unit (one level 1, one escalated to the superior), a
    drill, one incident of another unit, the day before and the day after one each; 4 posts and an
    alert of the unit."""

    def seed(self) -> dict[str, Incident]:
        made = {}
        with time_machine.travel(DAY, tick=False):
            made["serious"] = self.log_incident(title="食堂饭菜变质", platform="weibo")
            svc.incident_start_assessment(incident_id=made["serious"].pk, actor=self.ann)
            svc.assessment_record(
                incident_id=made["serious"].pk, actor=self.ann, nature="属实", scope="全市", trend="rising", risk="high"
            )
            svc.incident_issue_warning(incident_id=made["serious"].pk, actor=self.alice, level=self.level1)
            made["escalated"] = self.log_incident(title="校车超载", platform="douyin")
            svc.incident_escalate(incident_id=made["escalated"].pk, actor=self.alice, note="请指导")
            made["plain"] = self.log_incident(title="家长群转发通知", platform="weibo")
            made["drill"] = self.log_incident(title="演练：网传学生打架", is_drill=True)
            made["other"] = self.log_incident(user=self.charlie, title="邻区舆情")
            for n in range(4):
                _post(self.unit, DAY + timedelta(hours=n), f"帖子{n}")
            _post(self.other_unit, DAY, "邻区帖子")
            scheme = KeywordScheme.objects.create(organization=self.unit, name="食堂", subjects="食堂")
            Alert.objects.create(
                organization=self.unit,
                scheme=scheme,
                severity="high",
                reason="≥1 条",
                first_matched_at=DAY,
                last_matched_at=DAY,
            )
        with time_machine.travel(DAY - timedelta(days=1), tick=False):
            made["yesterday"] = self.log_incident(title="前一天的舆情")
        with time_machine.travel(DAY + timedelta(days=1, hours=2), tick=False):
            made["tomorrow"] = self.log_incident(title="后一天的舆情", minutes_ago=1)
        # The clocks of the 26th are missed by the sweeper running late that evening.
        deadlines_sweep(now=aware(2026, 11, 26, 23, 0))
        return made


class FiguresTests(SeededDay):
    def test_a_daily_report_counts_the_days_incidents_posts_alerts_and_clocks_and_leaves_drills_out(self) -> None:
        made = self.seed()
        with time_machine.travel(aware(2026, 11, 27, 9, 0), tick=False):
            report = monitoring_report_issue(
                actor=self.bob, kind=Kind.DAILY, start=aware(2026, 11, 26), end=aware(2026, 11, 27)
            )
        figures = report.figures
        self.assertEqual(figures["new"], 3)  # not the drill, not the other unit, not the days around
        self.assertEqual(dict((name, n) for name, n in figures["by_level"]), {self.level1.name: 1, "未定级": 2})
        self.assertEqual(dict(figures["by_platform"]), {"微博": 2, "抖音": 1})
        self.assertEqual(figures["posts"], 4)
        self.assertEqual(figures["alerts"], 1)
        self.assertEqual(sum(figures["trend"]["posts"]), 4)
        self.assertEqual(len(figures["trend"]["labels"]), 24)  # one day: drawn by the hour
        titles = [row["title"] for row in figures["main_incidents"]]
        self.assertEqual(titles[0], "食堂饭菜变质")  # the most serious level first
        self.assertNotIn("演练：网传学生打架", titles)
        due = Deadline.objects.filter(
            incident__in=[made["serious"], made["escalated"], made["plain"]],
            due_at__gte=aware(2026, 11, 26),
            due_at__lt=aware(2026, 11, 27),
        )
        self.assertEqual(figures["clocks"]["due"], due.count())
        self.assertGreater(figures["clocks"]["missed"], 0)
        self.assertEqual(figures["clocks"]["missed"], due.filter(status=Deadline.Status.MISSED).count())
        self.assertIn("已逾期", figures["clocks"]["late_or_missed"][0]["outcome"])
        self.assertEqual(report.title, "示范区教育局舆情日报（11月26日）")
        self.assertEqual((report.year, report.number), (2026, 1))

    def test_a_superior_report_covers_what_its_subordinates_escalated_and_nothing_else(self) -> None:
        self.seed()
        with time_machine.travel(aware(2026, 11, 27, 9, 0), tick=False):
            report = monitoring_report_issue(
                actor=self.sam,
                kind=Kind.DAILY,
                start=aware(2026, 11, 26),
                end=aware(2026, 11, 27),
                includes_subordinates=True,
            )
        figures = report.figures
        # Escalated: 校车超载 by hand, 食堂饭菜变质 by its level (一级: answered at the superior's tier).
        self.assertIsNone(Incident.objects.get(title="家长群转发通知").escalated_at)
        self.assertEqual(figures["new"], 2)
        self.assertEqual({row["title"] for row in figures["main_incidents"]}, {"校车超载", "食堂饭菜变质"})
        units = {row[0]: row[1:] for row in figures["per_unit"]}
        self.assertEqual(units["示范区教育局"], [2, 0, 2])
        self.assertEqual(units["邻区教育局"], [0, 0, 0])
        self.assertEqual(figures["posts"], 0)  # the subordinates' posts are theirs
        body = "\n".join(p.text for p in Document(io.BytesIO(self.docx(report))).paragraphs)
        self.assertIn("下级单位情况", body)

    def docx(self, report: MonitoringReport) -> bytes:
        from reports.docx_export import official_docx

        return official_docx(monitoring_report_document(report))


class DocumentTests(SeededDay):
    def issued(self) -> MonitoringReport:
        self.seed()
        with time_machine.travel(aware(2026, 11, 27, 9, 0), tick=False):
            return monitoring_report_issue(
                actor=self.bob,
                kind=Kind.DAILY,
                start=aware(2026, 11, 26),
                end=aware(2026, 11, 27),
                commentary="食堂舆情仍在发酵，建议明日上午召开情况通报会。",
            )

    def test_the_word_document_holds_the_sections_tables_and_charts(self) -> None:
        from reports.docx_export import official_docx

        report = self.issued()
        document = Document(io.BytesIO(official_docx(monitoring_report_document(report))))
        text = [p.text for p in document.paragraphs]
        self.assertEqual(text[0], "舆情日报")
        self.assertIn("2026年第1期", text)
        self.assertIn("示范区教育局舆情日报（11月26日）", text)
        headings = [line for line in text if line[:2] in {"一、", "二、", "三、", "四、", "五、"}]
        self.assertEqual(headings, ["一、总体情况", "二、分布情况", "三、主要舆情", "四、时限执行情况", "五、研判意见"])
        self.assertTrue(any("新登记舆情 3 起" in line for line in text))
        self.assertIn("食堂舆情仍在发酵，建议明日上午召开情况通报会。", text)
        self.assertEqual(len(document.inline_shapes), 2)  # the trend and the platforms
        cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
        self.assertTrue({"编号", "食堂饭菜变质", "抖音"} <= cells)

    def test_the_pdf_embeds_its_cjk_font_and_numbers_every_page(self) -> None:
        if not POPPLER:
            self.skipTest("poppler-utils missing")
        import tempfile
        from pathlib import Path

        from reports.pdf_export import official_pdf

        report = self.issued()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "report.pdf"
            path.write_bytes(official_pdf(monitoring_report_document(report)))
            fonts = poppler("pdffonts", str(path))
            text = poppler("pdftotext", "-layout", str(path), "-")
        self.assertIn("CJK", fonts)
        self.assertNotIn(" no ", fonts.split("\n", 2)[2])  # every font embedded
        self.assertIn("舆情日报", text)
        self.assertIn("时限执行情况", text)
        pages = text.split("\f")[:-1]
        self.assertGreater(len(pages), 1)
        for number, page in enumerate(pages, start=1):
            self.assertRegex(page, rf"—\s*{number}\s*—", f"page {number} has its number")

    def test_the_page_shows_the_report_and_downloads_both_formats(self) -> None:
        report = self.issued()
        sign_in(self.client, "ann")
        page = self.client.get(reverse("reports:monitoring_detail", args=[report.pk]))
        self.assertContains(page, "示范区教育局舆情日报（11月26日）")
        self.assertContains(page, 'data-chart="chart-incidents-data"')
        word = self.client.get(reverse("reports:monitoring_docx", args=[report.pk]))
        self.assertEqual(word.status_code, 200)
        self.assertIn("attachment", word["Content-Disposition"])
        listing = self.client.get(reverse("reports:monitoring_list"))
        self.assertContains(listing, "2026年第1期")

    def test_another_unit_gets_a_404_and_a_member_without_a_role_is_refused(self) -> None:
        report = self.issued()
        sign_in(self.client, "charlie")
        for name in ("monitoring_detail", "monitoring_docx", "monitoring_pdf"):
            self.assertEqual(self.client.get(reverse(f"reports:{name}", args=[report.pk])).status_code, 404, name)
        sign_in(self.client, "nina")
        self.assertEqual(self.client.get(reverse("reports:monitoring_list")).status_code, 403)
        sign_in(self.client, "uma")  # the unit's administrator, in no group: may issue, so may read
        self.assertEqual(self.client.get(reverse("reports:monitoring_detail", args=[report.pk])).status_code, 200)
        with self.assertRaises(NotPermitted):
            monitoring_report_issue(actor=self.nina, kind=Kind.DAILY, start=DAY, end=DAY + timedelta(hours=1))


class BadInputTests(BaseTestCase):
    def issue(self, **kwargs: Any) -> MonitoringReport:
        values: dict[str, Any] = {"actor": self.bob, "kind": Kind.DAILY, "start": DAY, "end": DAY + timedelta(days=1)}
        values.update(kwargs)
        return monitoring_report_issue(**values)

    def assertRefused(self, field: str, **kwargs: Any) -> None:
        with self.assertRaises(DomainError) as caught:
            self.issue(**kwargs)
        self.assertEqual(caught.exception.field, field)

    def test_each_bad_value_is_refused_naming_its_field_and_nothing_is_saved(self) -> None:
        with time_machine.travel(aware(2026, 11, 28), tick=False):
            self.assertRefused("end", end=DAY - timedelta(hours=1))
            self.assertRefused("end", end=DAY)
            self.assertRefused("start", start=aware(2026, 12, 1), end=aware(2026, 12, 2))
            self.assertRefused("end", start=DAY - timedelta(days=400))
            self.assertRefused("title", kind=Kind.SPECIAL)
            self.assertRefused("kind", kind="yearly")
            self.assertRefused("recipients", recipients=[self.charlie.pk])
            self.assertRefused("groups", groups=[self.other_unit.response_groups.first().pk])
            self.assertRefused("includes_subordinates", includes_subordinates=True)
        self.assertFalse(MonitoringReport.objects.exists())

    def test_the_form_shows_the_error_next_to_the_field_and_keeps_what_was_typed(self) -> None:
        sign_in(self.client, "bob")
        with time_machine.travel(aware(2026, 11, 28), tick=True):
            response = self.client.post(
                reverse("reports:monitoring_new"),
                {"kind": "special", "start": "2026-11-26T09:00", "end": "2026-11-25T09:00", "commentary": "已核实"},
            )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "统计截止时间须晚于起始时间。", status_code=400)
        self.assertContains(response, "已核实", status_code=400)
        self.assertFalse(MonitoringReport.objects.exists())

    def test_a_special_report_is_issued_from_the_page_and_sent_to_the_people_chosen(self) -> None:
        sign_in(self.client, "ann")
        with time_machine.travel(aware(2026, 11, 28, 10), tick=True):
            response = self.client.post(
                reverse("reports:monitoring_new"),
                {
                    "kind": "special",
                    "start": "2026-11-27T00:00",
                    "end": "2026-11-28T10:00",
                    "title": "关于食堂舆情的专报",
                    "recipients": [self.alice.pk],
                },
            )
        report = MonitoringReport.objects.get()
        self.assertRedirects(response, reverse("reports:monitoring_detail", args=[report.pk]))
        notice = Notification.objects.get(recipient=self.alice)
        self.assertIn("【舆情专报】关于食堂舆情的专报", notice.title)


class ScheduleTests(BaseTestCase):
    def schedule(self, kind: str = Kind.DAILY, **kwargs: Any) -> ReportSchedule:
        values: dict[str, Any] = {
            "actor": self.olga,
            "kind": kind,
            "enabled": True,
            "send_time": timezone.datetime.strptime("08:00", "%H:%M").time(),
            "recipients": [self.alice.pk],
        }
        values.update(kwargs)
        return report_schedule_save(**values)

    def test_a_daily_report_is_issued_once_at_its_time_for_the_day_before_and_sent(self) -> None:
        with time_machine.travel(aware(2026, 11, 26, 12), tick=False):
            schedule = self.schedule()
        self.assertEqual(schedule.next_due_at, aware(2026, 11, 27, 8))
        self.assertEqual(report_schedules_sweep(now=aware(2026, 11, 27, 7, 59)), 0)
        with time_machine.travel(aware(2026, 11, 27, 8, 1), tick=False):
            self.assertEqual(report_schedules_sweep(), 1)
            self.assertEqual(report_schedules_sweep(), 0)  # once per period, however often it ticks
        report = MonitoringReport.objects.get()
        self.assertEqual((report.period_start, report.period_end), (aware(2026, 11, 26), aware(2026, 11, 27)))
        self.assertIsNone(report.created_by)
        self.assertEqual(Notification.objects.filter(recipient=self.alice, kind="monitoring_report.issued").count(), 1)
        schedule.refresh_from_db()
        self.assertEqual(schedule.next_due_at, aware(2026, 11, 28, 8))

    def test_weekly_and_monthly_reports_cover_the_week_and_month_before(self) -> None:
        with time_machine.travel(aware(2026, 11, 26, 12), tick=False):
            weekly = self.schedule(Kind.WEEKLY)
            monthly = self.schedule(Kind.MONTHLY)
        self.assertEqual(weekly.next_due_at, aware(2026, 11, 30, 8))  # Monday
        self.assertEqual(monthly.next_due_at, aware(2026, 12, 1, 8))
        with time_machine.travel(aware(2026, 12, 1, 9), tick=False):
            self.assertEqual(report_schedules_sweep(), 2)
        week = MonitoringReport.objects.get(kind=Kind.WEEKLY)
        self.assertEqual((week.period_start, week.period_end), (aware(2026, 11, 23), aware(2026, 11, 30)))
        self.assertEqual(week.title, "示范区教育局舆情周报（11月23日至11月29日）")
        month = MonitoringReport.objects.get(kind=Kind.MONTHLY)
        self.assertEqual((month.period_start, month.period_end), (aware(2026, 11, 1), aware(2026, 12, 1)))
        self.assertEqual(month.title, "示范区教育局舆情月报（2026年11月）")

    def test_after_an_outage_each_missed_day_is_issued_in_turn(self) -> None:
        with time_machine.travel(aware(2026, 11, 20, 12), tick=False):
            self.schedule()
        with time_machine.travel(aware(2026, 11, 24, 9), tick=False):
            issued = sum(report_schedules_sweep() for _ in range(6))
        self.assertEqual(issued, 4)  # the 20th, 21st, 22nd and 23rd
        starts = sorted(MonitoringReport.objects.values_list("period_start", flat=True))
        self.assertEqual(starts, [aware(2026, 11, day) for day in (20, 21, 22, 23)])
        self.assertEqual(sorted(MonitoringReport.objects.values_list("number", flat=True)), [1, 2, 3, 4])

    def test_a_failure_is_recorded_and_the_same_period_retried(self) -> None:
        with time_machine.travel(aware(2026, 11, 26, 12), tick=False):
            self.schedule()
        with mock.patch("reports.services.period_figures", side_effect=RuntimeError("database gone")):
            self.assertEqual(report_schedules_sweep(now=aware(2026, 11, 27, 8, 1)), 0)
        schedule = ReportSchedule.objects.get()
        self.assertEqual(schedule.failures, 1)
        self.assertIn("database gone", schedule.last_error)
        self.assertEqual(schedule.next_due_at, aware(2026, 11, 27, 8))
        self.assertEqual(report_schedules_sweep(now=aware(2026, 11, 27, 8, 2)), 0)  # backing off
        with time_machine.travel(aware(2026, 11, 27, 8, 5), tick=False):
            self.assertEqual(report_schedules_sweep(), 1)
        report = MonitoringReport.objects.get()
        self.assertEqual(report.period_start, aware(2026, 11, 26))
        schedule.refresh_from_db()
        self.assertEqual((schedule.failures, schedule.last_error), (0, ""))

    def test_a_schedule_needs_someone_to_send_to_and_only_members_may_set_it(self) -> None:
        with self.assertRaises(DomainError) as caught:
            self.schedule(recipients=[])
        self.assertEqual(caught.exception.field, "recipients")
        with self.assertRaises(DomainError) as caught:
            self.schedule(kind=Kind.SPECIAL)
        self.assertEqual(caught.exception.field, "kind")
        with self.assertRaises(NotPermitted):
            self.schedule(actor=self.nina)
        self.assertFalse(ReportSchedule.objects.exists())

    def test_the_schedule_page_saves_and_shows_the_next_time(self) -> None:
        sign_in(self.client, "olga")
        with time_machine.travel(aware(2026, 11, 26, 12), tick=True):
            response = self.client.post(
                reverse("reports:schedules"),
                {
                    "kind": "weekly",
                    "weekly-kind": "weekly",
                    "weekly-enabled": "on",
                    "weekly-send_time": "09:30",
                    "weekly-recipients": [self.alice.pk],
                },
                follow=True,
            )
        self.assertContains(response, "下次报送时间：2026-11-30 09:30")
        schedule = ReportSchedule.objects.get(organization=self.unit, kind="weekly")
        self.assertEqual(list(schedule.subscribers.all()), [self.alice])


class CommandTests(BaseTestCase):
    def test_it_issues_and_writes_a_report_and_refuses_a_bad_period_writing_nothing(self) -> None:
        import tempfile
        from pathlib import Path

        from django.core.management import call_command
        from django.core.management.base import CommandError

        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "daily.docx"
            with time_machine.travel(aware(2026, 11, 27, 9), tick=False):
                call_command(
                    "monitoring_report", "--unit", "district", "--start", "2026-11-26", "--end", "2026-11-27",
                    "--format", "docx", "--out", str(out), stdout=io.StringIO(),
                )  # fmt: skip
            self.assertIn("示范区教育局舆情日报（11月26日）", [p.text for p in Document(str(out)).paragraphs])
            bad = Path(folder) / "bad.pdf"
            with self.assertRaisesMessage(CommandError, "--end: 统计截止时间须晚于起始时间。"):
                call_command(
                    "monitoring_report", "--unit", "district", "--start", "2026-11-26", "--end", "2026-11-25",
                    "--format", "pdf", "--out", str(bad),
                )  # fmt: skip
            self.assertEqual(sorted(p.name for p in Path(folder).iterdir()), ["daily.docx"])
        self.assertEqual(MonitoringReport.objects.count(), 1)


class DemoTests(TestCase):
    def test_the_demo_loads_a_daily_schedule_and_a_special_report_once(self) -> None:
        from django.core.management import call_command

        call_command("load_demo", "--password", "demo-pass-2026", stdout=io.StringIO())
        out = io.StringIO()
        call_command("load_demo_reports", stdout=out)
        call_command("load_demo_reports", stdout=io.StringIO())
        schedule = ReportSchedule.objects.get(organization__code="demo-district")
        self.assertEqual(schedule.kind, Kind.DAILY)
        self.assertEqual(sorted(schedule.subscribers.values_list("username", flat=True)), ["leader", "office"])
        report = MonitoringReport.objects.get(organization__code="demo-district")
        self.assertEqual(report.kind, Kind.SPECIAL)
        self.assertGreaterEqual(report.figures["new"], 3)  # the demo incidents of the last day
        self.assertIn("舆情日报每天 08:00 报送", out.getvalue())
