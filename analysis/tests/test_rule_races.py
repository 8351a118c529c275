"""Two workers at the same moment (two real PostgreSQL sessions): the growth rule of a scheme fires
once (its rules row is locked while checked), and a rebound of an incident is told once."""

import time
from datetime import timedelta
from typing import Any
from unittest import mock

from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from analysis import rebound, rules
from analysis.models import ReboundNotice, SchemeRiskRules
from analysis.services import posts_analyse
from analysis.tests.base import CANTEEN, FEES
from incidents import events
from incidents.models import Incident, State
from incidents.services.incidents import incident_create
from monitoring.alerts import posts_match
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import Alert, KeywordScheme, Mention, Source
from notifications.models import Notification
from opinion_ops.testing import make_unit, make_user, run_together

HOLD = 0.6


def _slow_first(real: Any) -> Any:
    calls: list[int] = []

    def slow(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # the first worker, holding its lock
            time.sleep(HOLD)
        return real(*args, **kwargs)

    return slow


class RuleRaceTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("row locks need PostgreSQL")
        self.unit = make_unit("示范区教育局", "district")
        self.bob = make_user("bob", self.unit, "monitoring", "leadership")
        self.source = source_of_kind(self.unit.pk, Source.Kind.API)
        self.scheme = KeywordScheme.objects.create(
            organization=self.unit, name="示范区一中", regions="示范区", subjects="一中", threshold_posts=1000
        )

    def ingest(self, *texts: str, at: Any) -> list[int]:
        created = posts_ingest(source_id=self.source.pk, posts=[PostIn(text=t, published_at=at) for t in texts]).created
        posts_match(created)
        return created

    def test_two_workers_fire_the_growth_rule_once(self) -> None:
        now = timezone.now()
        ids = self.ingest(*[f"{FEES}（{n}）" for n in range(4)], at=now - timedelta(minutes=5))
        SchemeRiskRules.objects.create(
            scheme=self.scheme, organization=self.unit, growth_percent=50, growth_minutes=60, growth_min_posts=3
        )
        with mock.patch.object(rules, "growth_figures", side_effect=_slow_first(rules.growth_figures)):
            results = run_together(
                lambda: rules.scheme_rules_check(scheme_id=self.scheme.pk, batch=ids, now=now),
                lambda: rules.scheme_rules_check(scheme_id=self.scheme.pk, batch=ids, now=now),
            )
        self.assertEqual(sorted(results), [False, True])
        self.assertEqual(Alert.objects.filter(scheme=self.scheme).count(), 1)

    def test_two_workers_tell_a_rebound_once(self) -> None:
        now = timezone.now()
        incident = incident_create(actor=self.bob, title="食堂腹泻", discovered_at=now - timedelta(hours=5))
        hours = [3, 3, 3, 2, 0, 0, 0, 0]  # hours ago: 3, 1, 0, 4 by the hour
        ids: list[int] = []
        for n, ago in enumerate(hours):
            ids += self.ingest(f"{CANTEEN}（{n}）", at=now - timedelta(hours=ago))
        Mention.objects.filter(pk__in=ids).update(incident=incident)
        posts_analyse(ids)
        Incident.objects.filter(pk=incident.pk).update(state=State.TRACKING)
        with mock.patch.object(rebound, "_figures", side_effect=_slow_first(rebound._figures)):
            results = run_together(
                lambda: rebound.incidents_rebound_check(now=now), lambda: rebound.incidents_rebound_check(now=now)
            )
        self.assertEqual(sorted(results), [0, 1])
        self.assertEqual(ReboundNotice.objects.filter(incident=incident).count(), 1)
        self.assertTrue(Notification.objects.filter(kind=events.INCIDENT_REBOUND, recipient=self.bob).exists())
        self.assertEqual(Notification.objects.filter(kind=events.INCIDENT_REBOUND, recipient=self.bob).count(), 1)
