"""Two workers sweeping drills at once, on two real PostgreSQL sessions: a due drill is injected
once (the second worker skips the row the first holds, and then finds it started), and a cancel
arriving while the sweeper injects waits and is refused instead of cancelling a started drill."""

import time
from datetime import timedelta
from typing import Any
from unittest import mock

from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from drills import services
from drills.models import Drill
from drills.services import drill_cancel, drill_schedule, drills_sweep, scenario_create
from drills.tests.base import POSTS
from incidents.models import Incident
from monitoring.models import Mention
from opinion_ops.errors import InvalidTransition
from opinion_ops.testing import make_unit, make_user, run_together

HOLD = 0.6  # how long the first worker keeps the drill row locked


class DrillSweepRaceTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("row locks need PostgreSQL")
        dispatch = mock.patch("notifications.services.deliveries_dispatch")
        dispatch.start()
        self.addCleanup(dispatch.stop)
        unit = make_unit("示范区教育局", "district")
        self.alice = make_user("alice", unit, "leadership", position="head")
        scenario = scenario_create(actor=self.alice, title="并发演练", platform="weibo", posts=POSTS)
        self.drill = drill_schedule(
            actor=self.alice, scenario_id=scenario.pk, starts_at=timezone.now() + timedelta(seconds=5), speed=60
        )
        self.due = timezone.now() + timedelta(seconds=6)

    def slow_inject(self) -> Any:
        real = services._inject

        def slow(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            time.sleep(HOLD)
            return result

        return mock.patch.object(services, "_inject", side_effect=slow)

    def test_two_workers_inject_a_due_drill_once(self) -> None:
        with self.slow_inject():
            results = run_together(lambda: drills_sweep(now=self.due), lambda: drills_sweep(now=self.due))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        self.assertEqual(sorted(r["advanced"] for r in results), [0, 1])  # the second skipped the locked row
        self.assertEqual(Incident.objects.count(), 1)
        drills_sweep(now=self.due)  # and a later tick does not inject it again
        self.assertEqual(Incident.objects.count(), 1)
        self.assertEqual(Mention.objects.count(), 1)
        self.drill.refresh_from_db()
        self.assertEqual(self.drill.status, Drill.Status.RUNNING)

    def test_a_cancel_during_the_injection_is_refused_and_the_drill_runs(self) -> None:
        with self.slow_inject():
            results = run_together(
                lambda: drills_sweep(now=self.due), lambda: drill_cancel(drill_id=self.drill.pk, actor=self.alice)
            )
        self.assertIsInstance(results[1], InvalidTransition)
        self.drill.refresh_from_db()
        self.assertEqual(self.drill.status, Drill.Status.RUNNING)
        self.assertEqual(Incident.objects.filter(is_drill=True).count(), 1)
