"""Two matching workers at the same moment (two real PostgreSQL sessions) whose batches fire the
same scheme's rule: one alert is raised, the other batch's posts join it, and people are told once."""

import time
from typing import Any
from unittest import mock

from django.db import connection
from django.test import TransactionTestCase

from monitoring import alerts
from monitoring.alerts import posts_match
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import Alert, KeywordScheme, SchemeMatch, Source
from notifications.models import Notification
from opinion_ops.testing import make_unit, make_user, run_together

HOLD = 0.6


class AlertRaceTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("row locks need PostgreSQL")
        self.unit = make_unit("示范区教育局", "district")
        self.bob = make_user("bob", self.unit, "monitoring")
        self.source = source_of_kind(self.unit.pk, Source.Kind.API)
        self.scheme = KeywordScheme.objects.create(
            organization=self.unit, name="食堂安全", regions="示范区", subjects="一中", events="食堂"
        )
        alerts.matcher_forget()

    def test_two_workers_raise_one_alert_and_both_batches_join_it(self) -> None:
        first, second = (
            posts_ingest(source_id=self.source.pk, posts=[PostIn(text=f"示范区一中食堂 {n}")], match=False).created
            for n in (1, 2)
        )
        real = alerts._rule_reasons
        calls: list[int] = []

        def slow_first(*args: Any) -> Any:
            calls.append(1)
            if len(calls) == 1:  # the first worker has read no active alert and decides slowly
                time.sleep(HOLD)
            return real(*args)

        with mock.patch.object(alerts, "_rule_reasons", side_effect=slow_first):
            results = run_together(lambda: posts_match(first), lambda: posts_match(second))
        self.assertEqual(sorted(r["alerts_raised"] for r in results), [0, 1], results)
        alert = Alert.objects.get(scheme=self.scheme)
        self.assertEqual(alert.post_count, 2)
        self.assertEqual(SchemeMatch.objects.filter(alert=alert).count(), 2)
        self.assertEqual(Notification.objects.filter(kind="alert.raised", recipient=self.bob).count(), 1)
