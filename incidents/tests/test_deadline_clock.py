"""Reminders, misses and the escalation chain, driven by the sweeper under a controlled clock."""

from datetime import datetime, timedelta
from unittest import mock

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.errors import InvalidTransition, NotPermitted
from incidents.models import Deadline, DeadlineSignal, TimelineEntry
from incidents.services.deadline_clock import deadline_acknowledge, deadlines_sweep, escalation_chain
from incidents.services.records import report_record
from notifications.models import Notification
from opinion_ops.testing import BaseTestCase, aware, make_user

START = aware(2025, 3, 3, 9, 0)  # a Monday, Shanghai time


class ClockTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # The office group (owner of the report clocks) gets a head, so the chain has all four levels.
        cls.otto = make_user("otto", cls.unit, "office", position="head")

    def setUp(self) -> None:
        dispatch = mock.patch("notifications.services.deliveries_dispatch")
        dispatch.start()
        self.addCleanup(dispatch.stop)
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        self.addCleanup(self.traveller.stop)
        self.incident = self.log_incident(minutes_ago=0)
        self.oral = Deadline.objects.get(incident=self.incident, name="口头报告")

    def at(self, when: datetime) -> None:
        self.clock.move_to(when)
        deadlines_sweep()

    def titles(self, user: object) -> list[str]:
        return list(
            Notification.objects.filter(recipient=user, deadline=self.oral)
            .order_by("id")
            .values_list("title", flat=True)
        )


class ReminderTests(ClockTestCase):
    def test_it_plans_the_next_action_at_the_first_reminder(self) -> None:
        self.assertEqual(self.oral.next_action_at, START + timedelta(minutes=20))

    def test_it_reminds_the_owner_group_ten_and_two_minutes_before(self) -> None:
        self.at(START + timedelta(minutes=19, seconds=59))
        self.assertEqual(self.titles(self.olga), [])
        self.at(START + timedelta(minutes=20))
        self.assertEqual(len(self.titles(self.olga)), 1)
        self.assertIn("10 分钟后到期", self.titles(self.olga)[0])
        self.assertEqual(self.titles(self.otto), [])  # the group head hears only when it is missed
        self.assertEqual(self.titles(self.alice), [])
        self.at(START + timedelta(minutes=28))
        self.assertIn("2 分钟后到期", self.titles(self.olga)[1])

    def test_it_never_sends_a_reminder_twice(self) -> None:
        self.at(START + timedelta(minutes=20))
        Deadline.objects.filter(pk=self.oral.pk).update(next_action_at=START)  # as if a worker died before saving
        self.at(START + timedelta(minutes=21))
        self.assertEqual(len(self.titles(self.olga)), 1)
        self.assertEqual(DeadlineSignal.objects.filter(deadline=self.oral, kind="reminder").count(), 1)

    def test_it_sends_only_the_most_imminent_reminder_after_an_outage(self) -> None:
        self.at(START + timedelta(minutes=29))
        titles = self.titles(self.olga)
        self.assertEqual(len(titles), 1)
        self.assertIn("2 分钟后到期", titles[0])

    def test_it_does_not_remind_about_a_clock_already_met(self) -> None:
        self.clock.move_to(START + timedelta(minutes=5))
        report_record(
            incident_id=self.incident.pk,
            actor=self.olga,
            kind="oral",
            reported_to="alice",
            occurred_at=START + timedelta(minutes=5),
            summary="电话报告",
        )
        self.at(START + timedelta(minutes=40))
        self.assertEqual(self.titles(self.olga), [])
        self.oral.refresh_from_db()
        self.assertEqual(self.oral.status, Deadline.Status.MET)
        self.assertIsNone(self.oral.next_action_at)


class EscalationTests(ClockTestCase):
    def test_it_marks_the_clock_missed_and_tells_the_owner(self) -> None:
        self.at(START + timedelta(minutes=30))
        self.oral.refresh_from_db()
        self.assertEqual(self.oral.status, Deadline.Status.MISSED)
        self.assertIn("已逾期", self.titles(self.olga)[-1])
        self.assertTrue(
            TimelineEntry.objects.filter(incident=self.incident, summary__contains="口头报告”已逾期").exists()
        )
        self.assertEqual(self.oral.next_action_at, START + timedelta(minutes=45))

    def test_it_escalates_up_the_chain_then_repeats_until_acknowledged(self) -> None:
        self.at(START + timedelta(minutes=30))
        self.at(START + timedelta(minutes=45))
        self.assertIn("逾期升级", self.titles(self.otto)[-1])  # owner group's head
        self.assertEqual(self.titles(self.alice), [])
        self.at(START + timedelta(minutes=60))
        self.assertIn("逾期升级", self.titles(self.alice)[-1])  # leadership group
        self.assertEqual(self.titles(self.sam), [])
        self.at(START + timedelta(minutes=75))
        self.assertEqual(len(self.titles(self.sam)), 1)  # the superior unit
        self.at(START + timedelta(minutes=90))
        self.assertEqual(len(self.titles(self.sam)), 2)  # repeats at the top of the chain
        self.assertEqual(self.titles(self.charlie), [])
        deadline_acknowledge(deadline_id=self.oral.pk, actor=self.sam)
        self.at(START + timedelta(minutes=180))
        self.assertEqual(len(self.titles(self.sam)), 2)
        entry = TimelineEntry.objects.filter(incident=self.incident, actor=self.sam).get()
        self.assertIn("停止升级", entry.summary)

    def test_it_jumps_to_the_current_step_after_an_outage(self) -> None:
        self.at(START + timedelta(minutes=30))
        self.at(START + timedelta(minutes=80))
        self.oral.refresh_from_db()
        self.assertEqual(self.oral.escalation_step, 3)
        self.assertEqual(DeadlineSignal.objects.filter(deadline=self.oral, kind="escalation").count(), 1)

    def test_the_chain_skips_people_already_reached(self) -> None:
        chain = escalation_chain(Deadline.objects.select_related("incident__organization").get(pk=self.oral.pk))
        self.assertEqual(
            [sorted(u.username for u in level.users) for level in chain],
            [["olga"], ["otto"], ["alice"], ["sam"]],
        )

    def test_a_report_after_the_miss_meets_it_late_and_stops_escalation(self) -> None:
        self.at(START + timedelta(minutes=31))
        report_record(
            incident_id=self.incident.pk,
            actor=self.olga,
            kind="oral",
            reported_to="alice",
            occurred_at=START + timedelta(minutes=31),
            summary="电话报告",
        )
        self.oral.refresh_from_db()
        self.assertEqual(self.oral.status, Deadline.Status.LATE)
        self.at(START + timedelta(minutes=60))
        self.assertEqual(DeadlineSignal.objects.filter(deadline=self.oral, kind="escalation").count(), 0)


class AcknowledgeTests(ClockTestCase):
    def test_only_people_of_the_unit_or_its_superiors_acknowledge(self) -> None:
        self.at(START + timedelta(minutes=30))
        with self.assertRaises(NotPermitted):
            deadline_acknowledge(deadline_id=self.oral.pk, actor=self.charlie)
        deadline = deadline_acknowledge(deadline_id=self.oral.pk, actor=self.fresh(self.otto))
        self.assertEqual(deadline.acknowledged_by, self.otto)
        self.assertIsNone(deadline.next_action_at)

    def test_it_refuses_to_acknowledge_a_clock_that_is_not_missed_or_already_acknowledged(self) -> None:
        with self.assertRaises(InvalidTransition):
            deadline_acknowledge(deadline_id=self.oral.pk, actor=self.alice)
        self.at(START + timedelta(minutes=30))
        deadline_acknowledge(deadline_id=self.oral.pk, actor=self.alice)
        with self.assertRaises(InvalidTransition):
            deadline_acknowledge(deadline_id=self.oral.pk, actor=self.otto)


class SweeperCostTests(ClockTestCase):
    def test_an_idle_tick_reads_no_open_clock(self) -> None:
        for _ in range(5):
            self.log_incident(minutes_ago=0)
        self.clock.move_to(START + timedelta(minutes=1))
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(deadlines_sweep(), 0)
        selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
        self.assertEqual(len(selects), 1)
        self.assertIn("next_action_at", selects[0])

    def test_a_clock_that_fails_does_not_hold_back_the_others(self) -> None:
        other = Deadline.objects.get(incident=self.log_incident(minutes_ago=0), name="口头报告")
        real = __import__("incidents.services.deadline_clock", fromlist=["deadline_advance"]).deadline_advance

        def flaky(deadline: Deadline, now: datetime, batch: object = None) -> None:
            if deadline.pk == self.oral.pk:
                raise RuntimeError("boom")
            real(deadline, now, batch)

        with mock.patch("incidents.services.deadline_clock.deadline_advance", side_effect=flaky):
            self.at(START + timedelta(minutes=20))
        self.assertEqual(DeadlineSignal.objects.filter(deadline=other).count(), 1)
        self.assertEqual(DeadlineSignal.objects.filter(deadline=self.oral).count(), 0)
        self.at(START + timedelta(minutes=21))  # retried on the next tick
        self.assertEqual(DeadlineSignal.objects.filter(deadline=self.oral).count(), 1)

    def test_a_dismissed_incident_has_no_running_clock(self) -> None:
        from incidents.services.incidents import incident_dismiss, incident_start_assessment

        incident_start_assessment(incident_id=self.incident.pk, actor=self.ann)
        incident_dismiss(incident_id=self.incident.pk, actor=self.ann, reason="非舆情")
        self.assertFalse(Deadline.objects.filter(incident=self.incident, next_action_at__isnull=False).exists())
        self.at(START + timedelta(hours=5))
        self.assertEqual(DeadlineSignal.objects.filter(deadline__incident=self.incident).count(), 0)
