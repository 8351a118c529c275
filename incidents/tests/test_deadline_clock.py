"""Reminders, misses and the escalation chain, driven by the sweeper under a controlled clock:
rung by rung, each once, one interval apart (also after an outage); the superior unit only for
incidents reported up to it; only someone above the owner acknowledges; a failing clock is set
aside without holding back the others."""

import itertools
from datetime import datetime, timedelta
from unittest import mock

import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from incidents.escalation import Ladder
from incidents.models import Deadline, DeadlineSignal, TimelineEntry
from incidents.services import incidents as svc
from incidents.services.deadline_clock import deadline_acknowledge, deadlines_sweep
from incidents.services.records import report_record
from notifications.models import Notification
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted
from opinion_ops.testing import BaseTestCase, aware, make_user

START = aware(2025, 3, 3, 9, 0)  # a Monday, Shanghai time
MIN = timedelta(minutes=1)


class ClockTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # The office group (owner of the report clocks) gets a head, so the chain has every rung.
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

    def at(self, when: datetime) -> dict[str, int]:
        self.clock.move_to(when)
        result = deadlines_sweep()
        return {"advanced": result["advanced"], "failed": result["failed"]}

    def titles(self, user: object, deadline: Deadline | None = None) -> list[str]:
        return list(
            Notification.objects.filter(recipient=user, deadline=deadline or self.oral)
            .order_by("id")
            .values_list("title", flat=True)
        )

    def rungs(self, deadline: Deadline | None = None) -> list[tuple[str, str]]:
        """(kind, rung) of every signal of the clock, in the order they were sent."""
        signals = DeadlineSignal.objects.filter(deadline=deadline or self.oral).exclude(kind="reminder")
        return list(signals.order_by("id").values_list("kind", "rung"))

    def escalate_up(self) -> None:
        svc.incident_escalate(incident_id=self.incident.pk, actor=self.alice, note="事态扩大")


class ReminderTests(ClockTestCase):
    def test_it_plans_the_next_action_at_the_first_reminder(self) -> None:
        self.assertEqual(self.oral.next_action_at, START + 20 * MIN)

    def test_it_reminds_the_owner_group_ten_and_two_minutes_before(self) -> None:
        self.at(START + timedelta(minutes=19, seconds=59))
        self.assertEqual(self.titles(self.olga), [])
        self.at(START + 20 * MIN)
        self.assertEqual(len(self.titles(self.olga)), 1)
        self.assertIn("10 分钟后到期", self.titles(self.olga)[0])
        self.assertEqual(self.titles(self.otto), [])  # the group head hears only when it is missed
        self.assertEqual(self.titles(self.alice), [])
        self.at(START + 28 * MIN)
        self.assertIn("2 分钟后到期", self.titles(self.olga)[1])

    def test_a_reminder_is_on_the_timeline_with_who_was_told(self) -> None:
        self.at(START + 20 * MIN)
        entry = TimelineEntry.objects.get(incident=self.incident, kind="reminder")
        self.assertIn("口头报告", entry.summary)
        self.assertIn("Olga", entry.summary)
        self.assertIsNone(entry.actor)

    def test_it_never_sends_a_reminder_twice(self) -> None:
        self.at(START + 20 * MIN)
        Deadline.objects.filter(pk=self.oral.pk).update(next_action_at=START)  # as if a worker died before saving
        self.at(START + 21 * MIN)
        self.assertEqual(len(self.titles(self.olga)), 1)
        self.assertEqual(DeadlineSignal.objects.filter(deadline=self.oral, kind="reminder").count(), 1)

    def test_it_sends_only_the_most_imminent_reminder_after_an_outage(self) -> None:
        self.at(START + 29 * MIN)
        titles = self.titles(self.olga)
        self.assertEqual(len(titles), 1)
        self.assertIn("2 分钟后到期", titles[0])

    def test_it_does_not_remind_about_a_clock_already_met(self) -> None:
        self.clock.move_to(START + 5 * MIN)
        report_record(
            incident_id=self.incident.pk,
            actor=self.olga,
            kind="oral",
            reported_to="alice",
            occurred_at=START + 5 * MIN,
            summary="电话报告",
        )
        self.at(START + 40 * MIN)
        self.assertEqual(self.titles(self.olga), [])
        self.oral.refresh_from_db()
        self.assertEqual(self.oral.status, Deadline.Status.MET)
        self.assertIsNone(self.oral.next_action_at)


class EscalationTests(ClockTestCase):
    def test_it_marks_the_clock_missed_and_tells_the_owner(self) -> None:
        self.at(START + 30 * MIN)
        self.oral.refresh_from_db()
        self.assertEqual(self.oral.status, Deadline.Status.MISSED)
        self.assertEqual(self.oral.escalation_rung, "owner")
        self.assertIn("已逾期", self.titles(self.olga)[-1])
        entry = TimelineEntry.objects.get(incident=self.incident, summary__contains="口头报告”已逾期")
        self.assertIn("Olga", entry.summary)  # who was told, by name
        self.assertEqual(self.oral.next_action_at, START + 45 * MIN)

    def test_it_climbs_each_rung_once_in_order_one_interval_apart_then_stops(self) -> None:
        self.at(START + 30 * MIN)
        self.at(START + 45 * MIN)
        self.assertIn("逾期升级", self.titles(self.otto)[-1])  # the owner group's head
        self.assertEqual(self.titles(self.alice), [])
        self.at(START + 60 * MIN)
        self.assertIn("领导小组", self.titles(self.alice)[-1])
        self.at(START + 75 * MIN)
        self.at(START + 180 * MIN)
        # Not reported up: the superior unit is not part of this incident's chain, and nothing repeats.
        self.assertEqual(self.titles(self.sam), [])
        self.assertEqual(
            self.rungs(), [("missed", "owner"), ("escalation", "group_head"), ("escalation", "leadership")]
        )
        self.assertEqual(len(self.titles(self.alice)), 1)
        self.oral.refresh_from_db()
        self.assertIsNone(self.oral.next_action_at)
        entry = TimelineEntry.objects.filter(incident=self.incident, kind="escalation").last()
        self.assertIn("Alice", entry.summary)

    def test_after_an_outage_it_reaches_every_rung_in_order_one_interval_apart(self) -> None:
        self.escalate_up()
        self.at(START + 29 * MIN)  # a reminder, then the workers stop for 70 minutes
        self.at(START + 100 * MIN)
        self.assertEqual(self.rungs(), [("missed", "owner")])
        self.assertEqual(self.titles(self.sam), [])
        self.at(START + 101 * MIN)
        self.assertEqual(self.rungs(), [("missed", "owner")])  # one interval, not one tick
        for minute, rung in ((115, "group_head"), (130, "leadership"), (145, "superior")):
            self.at(START + minute * MIN)
            self.assertEqual(self.rungs()[-1], ("escalation", rung))
        self.assertEqual(len(self.titles(self.sam)), 1)
        self.assertNotIn("第", self.titles(self.sam)[0])  # no "第 22 次升级"
        self.oral.refresh_from_db()
        self.assertEqual(self.oral.escalation_step, 3)
        signals = DeadlineSignal.objects.filter(deadline=self.oral).exclude(kind="reminder").order_by("id")
        sent = [s.created_at for s in signals]
        self.assertTrue(all(b - a >= timedelta(minutes=15) for a, b in itertools.pairwise(sent)), sent)

    def test_an_incident_logged_hours_late_without_saying_so_climbs_from_now(self) -> None:
        self.clock.move_to(START + 10 * MIN)
        late = self.log_incident(minutes_ago=300, title="五小时前发现")
        oral = Deadline.objects.get(incident=late, name="口头报告")
        self.at(START + 11 * MIN)
        self.assertEqual(self.rungs(oral), [("missed", "owner")])
        self.at(START + 26 * MIN)
        self.assertEqual(self.rungs(oral)[-1], ("escalation", "group_head"))
        self.assertEqual(self.titles(self.alice, oral), [])

    def test_the_superior_hears_only_of_incidents_reported_up_to_it_with_unit_number_and_link(self) -> None:
        self.at(START + 30 * MIN)
        self.at(START + 60 * MIN)  # the group head
        self.at(START + 75 * MIN)  # the leadership group, the last rung while not reported up
        self.at(START + 120 * MIN)
        self.assertEqual(self.titles(self.sam), [])
        self.escalate_up()  # a leader reports it up: the stopped climb goes on to the superior unit
        self.at(START + 121 * MIN)
        note = Notification.objects.get(recipient=self.sam, deadline=self.oral)
        self.assertEqual(self.rungs()[-1], ("escalation", "superior"))
        self.assertIn("示范区教育局", note.title)
        self.assertIn(self.incident.reference, note.title)
        self.assertTrue(note.url.startswith("http"), note.url)
        self.assertIn(f"/incidents/{self.incident.pk}/", note.url)
        self.assertIn("示范区教育局", note.body)

    def test_reporting_up_right_after_a_rung_keeps_the_superior_one_interval_behind_it(self) -> None:
        self.at(START + 30 * MIN)
        self.at(START + 45 * MIN)
        self.at(START + 60 * MIN)  # the leadership group: the last rung while not reported up
        self.clock.move_to(START + 61 * MIN)
        self.escalate_up()
        self.at(START + 62 * MIN)
        self.assertEqual(self.titles(self.sam, self.oral), [])
        self.at(START + 75 * MIN)
        self.assertEqual(self.rungs()[-1], ("escalation", "superior"))

    def test_a_level_whose_tier_is_the_superior_unit_puts_it_on_the_chain(self) -> None:
        svc.incident_start_assessment(incident_id=self.incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=self.incident.pk, actor=self.ann, nature="谣言", scope="全市", trend="rising", risk="high"
        )
        svc.incident_issue_warning(incident_id=self.incident.pk, actor=self.alice, level=self.level1)
        for minute in (30, 45, 60, 75):
            self.at(START + minute * MIN)
        self.assertEqual(self.rungs()[-1], ("escalation", "superior"))
        self.assertEqual(len(self.titles(self.sam)), 1)

    def test_the_chain_skips_people_already_reached_and_follows_the_plan(self) -> None:
        self.escalate_up()
        deadline = Deadline.objects.select_related("incident__organization", "incident__plan").get(pk=self.oral.pk)
        ladder = Ladder(deadline)
        self.assertEqual(
            [(rung.code, sorted(u.username for u in rung.users)) for rung in ladder.rungs],
            [("owner", ["olga"]), ("group_head", ["otto"]), ("leadership", ["alice"]), ("superior", ["sam"])],
        )
        self.plan.escalation_chain = ["owner", "leadership"]
        self.plan.save(update_fields=["escalation_chain"])
        deadline.incident.plan.refresh_from_db()
        self.assertEqual([rung.code for rung in Ladder(deadline).rungs], ["owner", "leadership"])

    def test_a_report_after_the_miss_closes_it_late_and_stops_the_climb(self) -> None:
        self.at(START + 31 * MIN)
        report_record(
            incident_id=self.incident.pk,
            actor=self.olga,
            kind="oral",
            reported_to="alice",
            occurred_at=START + 31 * MIN,
            summary="电话报告",
        )
        self.oral.refresh_from_db()
        self.assertEqual(self.oral.status, Deadline.Status.LATE)
        self.at(START + 60 * MIN)
        self.assertEqual(DeadlineSignal.objects.filter(deadline=self.oral, kind="escalation").count(), 0)

    @override_settings(INCIDENT_DISCOVERED_MAX_AGE_DAYS=365)
    def test_an_incident_from_long_ago_is_refused_and_one_within_bounds_never_overflows(self) -> None:
        with self.assertRaises(DomainError) as ctx:
            svc.incident_create(actor=self.bob, title="旧事", discovered_at=aware(1970, 1, 1))
        self.assertEqual(ctx.exception.field, "discovered_at")
        old = self.log_incident(minutes_ago=364 * 24 * 60, title="去年的事")
        self.at(START + 1 * MIN)
        for minute in range(16, 200, 15):
            self.at(START + minute * MIN)
        steps = list(Deadline.objects.filter(incident=old).values_list("escalation_step", flat=True))
        self.assertTrue(all(step <= 4 for step in steps), steps)


class LateLoggedTests(ClockTestCase):
    def test_a_late_logged_incident_records_past_clocks_missed_without_paging_anyone(self) -> None:
        incident = self.log_incident(minutes_ago=120, title="事后补录", logged_late=True)
        clocks = {d.name: d for d in Deadline.objects.filter(incident=incident)}
        self.assertEqual(clocks["口头报告"].status, Deadline.Status.MISSED)
        self.assertTrue(clocks["口头报告"].late_logged)
        self.assertIsNone(clocks["口头报告"].next_action_at)
        self.assertEqual(clocks["公开回应"].status, Deadline.Status.PENDING)  # due in an hour: still counts
        for minute in (1, 20, 45, 90):
            self.at(START + minute * MIN)
        self.assertEqual(DeadlineSignal.objects.filter(deadline__incident=incident).exclude(kind="reminder").count(), 1)
        self.assertFalse(Notification.objects.filter(deadline=clocks["口头报告"]).exists())
        self.assertTrue(TimelineEntry.objects.filter(incident=incident, summary__contains="后补登记时已过期").exists())
        report_record(
            incident_id=incident.pk,
            actor=self.olga,
            kind="oral",
            reported_to="alice",
            occurred_at=START - 100 * MIN,
            summary="当时已电话报告",
        )
        self.assertEqual(Deadline.objects.get(pk=clocks["口头报告"].pk).status, Deadline.Status.LATE)


class AcknowledgeTests(ClockTestCase):
    def test_the_owner_cannot_silence_the_escalation_of_their_own_clock(self) -> None:
        self.at(START + 30 * MIN)
        with self.assertRaises(NotPermitted):
            deadline_acknowledge(deadline_id=self.oral.pk, actor=self.fresh(self.olga))
        self.assertIsNone(Deadline.objects.get(pk=self.oral.pk).acknowledged_at)

    def test_someone_above_the_owner_acknowledges_and_the_climb_stops(self) -> None:
        self.at(START + 30 * MIN)
        with self.assertRaises(NotPermitted):
            deadline_acknowledge(deadline_id=self.oral.pk, actor=self.charlie)
        deadline = deadline_acknowledge(deadline_id=self.oral.pk, actor=self.fresh(self.otto))
        self.assertEqual(deadline.acknowledged_by, self.otto)
        self.assertIsNone(deadline.next_action_at)
        self.at(START + 90 * MIN)
        self.assertEqual(self.titles(self.alice), [])
        entry = TimelineEntry.objects.get(incident=self.incident, actor=self.otto)
        self.assertIn("停止逐级上报", entry.summary)

    def test_the_superior_acknowledges_only_an_incident_reported_up_to_it(self) -> None:
        self.at(START + 30 * MIN)
        with self.assertRaises(NotPermitted):
            deadline_acknowledge(deadline_id=self.oral.pk, actor=self.fresh(self.sam))
        self.escalate_up()
        deadline_acknowledge(deadline_id=self.oral.pk, actor=self.fresh(self.sam))
        self.assertEqual(Deadline.objects.get(pk=self.oral.pk).acknowledged_by, self.sam)

    def test_it_refuses_a_clock_that_is_not_missed_or_already_acknowledged(self) -> None:
        with self.assertRaises(InvalidTransition):
            deadline_acknowledge(deadline_id=self.oral.pk, actor=self.alice)
        self.at(START + 30 * MIN)
        deadline_acknowledge(deadline_id=self.oral.pk, actor=self.alice)
        with self.assertRaises(InvalidTransition):
            deadline_acknowledge(deadline_id=self.oral.pk, actor=self.otto)

    def test_the_people_reached_hear_who_took_charge(self) -> None:
        self.at(START + 30 * MIN)
        self.at(START + 45 * MIN)
        deadline_acknowledge(deadline_id=self.oral.pk, actor=self.alice)
        self.assertIn("已确认督办", self.titles(self.olga)[-1])
        self.assertIn("已确认督办", self.titles(self.otto)[-1])
        self.assertFalse(any("已确认督办" in t for t in self.titles(self.alice)))


class SweeperTests(ClockTestCase):
    def test_an_idle_tick_reads_no_open_clock(self) -> None:
        for _ in range(5):
            self.log_incident(minutes_ago=0)
        self.clock.move_to(START + 1 * MIN)
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(deadlines_sweep()["advanced"], 0)
        selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
        self.assertEqual(len(selects), 1)
        self.assertIn("next_action_at", selects[0])

    def test_a_clock_that_fails_is_set_aside_logged_once_and_holds_back_no_other(self) -> None:
        other = Deadline.objects.get(incident=self.log_incident(minutes_ago=0), name="口头报告")
        real = __import__("incidents.services.deadline_clock", fromlist=["deadline_advance"]).deadline_advance

        def poisoned(deadline: Deadline, now: datetime, batch: object = None) -> None:
            if deadline.pk == self.oral.pk:
                raise ValueError("integer out of range")
            real(deadline, now, batch)

        with mock.patch("incidents.services.deadline_clock.deadline_advance", side_effect=poisoned):
            with self.assertLogs("incidents.services.deadline_clock", "ERROR") as logs:
                self.assertEqual(self.at(START + 20 * MIN), {"advanced": 1, "failed": 1})
                self.assertEqual(self.at(START + 20 * MIN), {"advanced": 0, "failed": 0})  # not picked first again
                self.at(START + 21 * MIN)  # retried after its backoff, fails again: not logged again
            self.assertEqual(len(logs.records), 1)
        self.assertEqual(DeadlineSignal.objects.filter(deadline=other).count(), 1)
        held = Deadline.objects.get(pk=self.oral.pk)
        self.assertEqual(held.sweep_failures, 2)
        self.assertIn("integer out of range", held.sweep_error)
        self.assertEqual(held.quarantined_at, START + 20 * MIN)
        self.assertEqual(held.next_action_at, START + 23 * MIN)
        self.at(START + 23 * MIN)  # fixed: the next try succeeds and clears the record
        held.refresh_from_db()
        self.assertEqual((held.sweep_failures, held.sweep_error, held.quarantined_at), (0, "", None))
        self.assertEqual(DeadlineSignal.objects.filter(deadline=self.oral).count(), 1)

    def test_a_dismissed_incident_has_no_running_clock(self) -> None:
        svc.incident_start_assessment(incident_id=self.incident.pk, actor=self.ann)
        svc.incident_dismiss(incident_id=self.incident.pk, actor=self.ann, reason="非舆情")
        self.assertFalse(Deadline.objects.filter(incident=self.incident, next_action_at__isnull=False).exists())
        self.at(START + timedelta(hours=5))
        self.assertEqual(DeadlineSignal.objects.filter(deadline__incident=self.incident).count(), 0)

    def test_a_missed_clock_stays_on_record_but_stops_when_the_incident_is_dismissed(self) -> None:
        self.at(START + 30 * MIN)
        svc.incident_start_assessment(incident_id=self.incident.pk, actor=self.ann)
        svc.incident_dismiss(incident_id=self.incident.pk, actor=self.ann, reason="非舆情")
        oral = Deadline.objects.get(pk=self.oral.pk)
        self.assertEqual((oral.status, oral.next_action_at), (Deadline.Status.MISSED, None))
        self.at(START + 90 * MIN)
        self.assertEqual(self.rungs(), [("missed", "owner")])
