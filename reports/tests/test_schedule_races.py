"""Two real PostgreSQL sessions sweeping the report schedules at once: the second skips the row the
first holds (SKIP LOCKED) instead of waiting, and each period is issued once."""

from datetime import time as clock_time
from typing import Any

from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from incidents.tests.test_clock_races import holding_the_incident
from notifications.models import Notification
from opinion_ops.testing import aware, make_unit, make_user, run_together
from reports import services
from reports.models import MonitoringReport, ReportSchedule


class ScheduleRaceTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("row locks need PostgreSQL")
        unit = make_unit("示范区教育局", "district")
        self.alice = make_user("alice", unit, "leadership", position="head")
        self.olga = make_user("olga", unit, "office")
        services.report_schedule_save(
            actor=self.olga, kind="daily", enabled=True, send_time=clock_time(8, 0), recipients=[self.alice.pk]
        )
        ReportSchedule.objects.update(next_due_at=aware(2026, 11, 27, 8))

    def test_two_sweepers_at_once_issue_the_period_once(self) -> None:
        now = aware(2026, 11, 27, 8, 1)
        with holding_the_incident(services, "period_figures"):
            results: list[Any] = run_together(
                lambda: services.report_schedules_sweep(now=now), lambda: services.report_schedules_sweep(now=now)
            )
        self.assertEqual(sorted(results), [0, 1], results)  # the second skipped the row, did not wait
        self.assertEqual(MonitoringReport.objects.count(), 1)
        self.assertEqual(Notification.objects.filter(recipient=self.alice).count(), 1)
        schedule = ReportSchedule.objects.get()
        self.assertEqual(timezone.localtime(schedule.next_due_at).day, 28)
        self.assertEqual((schedule.failures, schedule.last_error), (0, ""))  # no collision to recover from
