"""Two real PostgreSQL sessions meeting on the same incident and its clocks: every writer takes the
incident's lock first, so re-planning, waivers, reports and the sweeper never deadlock, never
overwrite one another, and the sweeper skips an incident that is being changed instead of waiting."""

import time
from datetime import timedelta
from typing import Any
from unittest import mock

from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from incidents.models import Deadline, DeadlineSignal, Incident
from incidents.services import incidents as svc
from incidents.services.deadline_clock import deadlines_sweep
from incidents.services.deadlines import deadline_waive
from incidents.services.records import report_record
from opinion_ops.testing import make_unit, make_user, run_together

HOLD = 0.6  # how long the first writer keeps its transaction open


def holding_the_incident(module: Any, name: str) -> Any:
    """Patch `module.name` so that it pauses first: called after the incident is locked, it keeps the
    transaction (and the lock) open while the other session arrives."""
    real = getattr(module, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(HOLD)
        return real(*args, **kwargs)

    return mock.patch.object(module, name, side_effect=slow)


class ClockRaceTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("row locks need PostgreSQL")
        unit = make_unit("示范区教育局", "district")
        self.alice = make_user("alice", unit, "leadership", position="head")
        self.bob = make_user("bob", unit, "monitoring")
        self.olga = make_user("olga", unit, "office")
        self.incident = svc.incident_create(
            actor=self.bob, title="并发测试", discovered_at=timezone.now() - timedelta(minutes=5)
        )
        self.oral = Deadline.objects.get(incident=self.incident, name="口头报告")

    def assertNoErrors(self, results: list[Any]) -> None:
        errors = [r for r in results if isinstance(r, Exception)]
        self.assertEqual(errors, [], results)

    def test_replanning_and_a_waiver_at_once_both_succeed_and_the_waiver_is_kept(self) -> None:
        new_discovery = timezone.now() - timedelta(minutes=10)
        with holding_the_incident(svc, "incident_touch"):
            results = run_together(
                lambda: svc.incident_update(
                    incident_id=self.incident.pk, actor=self.bob, discovered_at=new_discovery, reason="核实首帖时间"
                ),
                lambda: deadline_waive(deadline_id=self.oral.pk, actor=self.alice, reason="已当面报告"),
            )
        self.assertNoErrors(results)
        oral = Deadline.objects.get(pk=self.oral.pk)
        self.assertEqual((oral.status, oral.decision_reason), (Deadline.Status.WAIVED, "已当面报告"))
        self.assertIsNone(oral.next_action_at)
        written = Deadline.objects.get(incident=self.incident, name="书面报告")
        self.assertEqual(written.due_at, new_discovery + timedelta(minutes=90))  # the re-plan went through too

    def test_the_sweeper_skips_an_incident_being_replanned_and_handles_the_rest(self) -> None:
        other = svc.incident_create(
            actor=self.bob, title="另一起", discovered_at=timezone.now() - timedelta(minutes=31)
        )
        Deadline.objects.filter(incident=self.incident, name="口头报告").update(
            due_at=timezone.now() - timedelta(seconds=5), next_action_at=timezone.now() - timedelta(seconds=5)
        )
        with holding_the_incident(svc, "incident_touch"):
            results = run_together(
                lambda: svc.incident_update(incident_id=self.incident.pk, actor=self.bob, title="并发测试（更正）"),
                deadlines_sweep,
            )
        self.assertNoErrors(results)
        self.assertEqual(results[1]["failed"], 0)
        self.assertEqual(Deadline.objects.get(incident=other, name="口头报告").status, Deadline.Status.MISSED)
        self.assertEqual(Deadline.objects.get(pk=self.oral.pk).status, Deadline.Status.PENDING)  # skipped, not waited
        self.assertEqual(Incident.objects.get(pk=self.incident.pk).title, "并发测试（更正）")
        deadlines_sweep()  # the next tick takes it
        self.assertEqual(Deadline.objects.get(pk=self.oral.pk).status, Deadline.Status.MISSED)

    def test_a_report_and_the_sweeper_at_the_moment_of_the_deadline_agree(self) -> None:
        due = timezone.now()
        Deadline.objects.filter(pk=self.oral.pk).update(due_at=due, next_action_at=due)
        from incidents.services import records

        with holding_the_incident(records, "deadlines_meet"):
            results = run_together(
                lambda: report_record(
                    incident_id=self.incident.pk,
                    actor=self.olga,
                    kind="oral",
                    reported_to="alice",
                    occurred_at=due - timedelta(minutes=1),
                    summary="电话报告",
                ),
                deadlines_sweep,
            )
        self.assertNoErrors(results)
        oral = Deadline.objects.get(pk=self.oral.pk)
        self.assertEqual(oral.status, Deadline.Status.MET)  # the sweeper skipped it while the report was being made
        self.assertFalse(DeadlineSignal.objects.filter(deadline=oral, kind="missed").exists())
        self.assertIsNone(oral.next_action_at)
