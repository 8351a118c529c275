"""Two workers clustering copies of one post at the same moment (two real PostgreSQL sessions): the
unit's lock makes the second wait for the first and join its cluster, never start another."""

import time
from typing import Any
from unittest import mock

from django.db import connection
from django.test import TransactionTestCase

from analysis import clustering, services
from analysis.models import AnalysisSettings, Cluster, PostAnalysis
from analysis.tests.base import CANTEEN
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import Source
from opinion_ops.testing import make_unit, run_together

HOLD = 0.6  # how long the first worker keeps the unit locked


class ClusterRaceTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("row locks need PostgreSQL")
        unit = make_unit("示范区教育局", "district")
        AnalysisSettings.objects.create(organization=unit)  # its row exists: only its lock can make them wait
        source = source_of_kind(unit.pk, Source.Kind.API)
        self.first, self.second = posts_ingest(
            source_id=source.pk, posts=[PostIn(text=CANTEEN), PostIn(text="转发：" + CANTEEN + " #示范区一中#")]
        ).created

    def test_two_workers_put_two_copies_in_one_cluster(self) -> None:
        real = clustering.best_candidate
        calls = []

        def slow(*args: Any) -> Any:
            calls.append(1)
            if len(calls) == 1:  # the first worker, between reading the candidates and writing its cluster
                time.sleep(HOLD)
            return real(*args)

        with mock.patch.object(clustering, "best_candidate", side_effect=slow):
            results = run_together(
                lambda: services.posts_analyse([self.first]), lambda: services.posts_analyse([self.second])
            )
        self.assertEqual(results, [1, 1])
        self.assertEqual(list(Cluster.objects.values_list("post_count", flat=True)), [2])
        self.assertEqual(PostAnalysis.objects.count(), 2)
