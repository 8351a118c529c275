"""Two people moving the same incident at the same moment: exactly one wins, the other is told."""

import threading
import time
from typing import Any

from django.db import connection
from django.test import TransactionTestCase

from incidents.models import Incident, TimelineEntry
from incidents.services import incidents as svc
from opinion_ops.errors import DomainError
from opinion_ops.testing import make_unit, make_user


class SimultaneousTransitionTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("row locks need PostgreSQL")
        unit = make_unit("示范区教育局", "district")
        self.ann = make_user("ann", unit, "analysis")
        self.alice = make_user("alice", unit, "leadership", position="head")
        bob = make_user("bob", unit, "monitoring")
        from django.utils import timezone

        self.incident = svc.incident_create(actor=bob, title="并发测试", discovered_at=timezone.now())

    def race(self, *calls: Any) -> list[Any]:
        barrier = threading.Barrier(len(calls))
        results: list[Any] = [None] * len(calls)

        def run(i: int, call: Any) -> None:
            barrier.wait()
            try:
                results[i] = call()
            except DomainError as exc:
                results[i] = exc
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        return results

    def test_it_lets_only_one_of_two_simultaneous_transitions_through(self) -> None:
        pk = self.incident.pk
        for _ in range(5):
            incident = Incident.objects.get(pk=pk)
            if incident.state != "monitoring":
                break
            results = self.race(
                lambda: svc.incident_start_assessment(incident_id=pk, actor=self.ann),
                lambda: svc.incident_start_assessment(incident_id=pk, actor=self.alice),
            )
            winners = [r for r in results if isinstance(r, Incident)]
            losers = [r for r in results if isinstance(r, DomainError)]
            self.assertEqual(len(winners), 1, results)
            self.assertEqual(len(losers), 1, results)
            self.assertEqual(losers[0].status_code, 409)
        self.assertEqual(TimelineEntry.objects.filter(incident_id=pk, kind="transition").count(), 1)

    def test_an_edit_based_on_the_same_version_wins_only_once(self) -> None:
        from unittest import mock

        from incidents.services import timeline

        pk = self.incident.pk
        version = Incident.objects.get(pk=pk).version
        real_record = timeline.timeline_record

        def slow_record(**kwargs: Any) -> Any:
            time.sleep(0.3)  # hold the transaction open: the other writer must wait, not overwrite
            return real_record(**kwargs)

        with mock.patch.object(svc, "timeline_record", slow_record):
            results = self.race(
                lambda: svc.incident_update(incident_id=pk, actor=self.ann, expected_version=version, title="甲的标题"),
                lambda: svc.incident_update(
                    incident_id=pk, actor=self.alice, expected_version=version, title="乙的标题"
                ),
            )
        winners = [r for r in results if isinstance(r, Incident)]
        self.assertEqual(len(winners), 1, results)
        self.assertEqual(Incident.objects.get(pk=pk).title, winners[0].title)
        self.assertEqual(TimelineEntry.objects.filter(incident_id=pk, kind="edited").count(), 1)
