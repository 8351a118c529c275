"""Retention (个人信息最小化): posts past their unit's retention period that no incident holds are
deleted; posts held by an incident or by an evidence file stay; each purge of a unit is logged."""

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import time_machine

from evidence.models import Evidence
from monitoring import retention
from monitoring.alerts import posts_match
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import KeywordScheme, Mention, MonitoringSettings, PostPurge, SchemeMatch, Source
from monitoring.retention import posts_purge
from monitoring.services import mention_attach
from opinion_ops.testing import BaseTestCase

START = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


class RetentionTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()

    def post(self, text: str, *, at: datetime = START, unit: Any = None) -> Mention:
        """A post taken in at `at`, as a source hands it over."""
        source = source_of_kind((unit or self.unit).pk, Source.Kind.API)
        with time_machine.travel(at, tick=False):
            result = posts_ingest(source_id=source.pk, posts=[PostIn(text=text)])
        return Mention.objects.get(pk=result.created[0])

    def purge(self, at: datetime) -> int:
        with time_machine.travel(at, tick=False):
            return posts_purge()

    def remaining(self) -> set[str]:
        return set(Mention.objects.values_list("text", flat=True))

    def test_without_settings_posts_are_kept_180_days_then_deleted_and_the_purge_logged(self) -> None:
        self.post("旧帖")
        self.post("新帖", at=START + timedelta(days=30))
        self.assertEqual(self.purge(START + timedelta(days=179, hours=23)), 0)
        self.assertEqual(self.remaining(), {"旧帖", "新帖"})
        self.assertFalse(PostPurge.objects.exists())  # a run that deletes nothing logs nothing
        self.assertEqual(self.purge(START + timedelta(days=180, minutes=1)), 1)
        self.assertEqual(self.remaining(), {"新帖"})
        purge = PostPurge.objects.get()
        self.assertEqual((purge.organization_id, purge.posts_deleted), (self.unit.pk, 1))
        self.assertEqual(purge.cutoff, START + timedelta(minutes=1))
        self.assertEqual(purge.ran_at, START + timedelta(days=180, minutes=1))

    def test_each_unit_keeps_posts_as_long_as_its_settings_say(self) -> None:
        MonitoringSettings.objects.create(organization=self.unit, retention_days=30)
        self.post("本单位")
        self.post("邻区", unit=self.other_unit)
        self.assertEqual(self.purge(START + timedelta(days=31)), 1)
        self.assertEqual(self.remaining(), {"邻区"})  # the other unit has no settings: 180 days
        self.assertEqual(list(PostPurge.objects.values_list("organization_id", flat=True)), [self.unit.pk])

    def test_posts_an_incident_holds_are_kept(self) -> None:
        held = self.post("已关联舆情")
        self.post("未关联")
        mention_attach(mention_id=held.pk, incident_id=self.log_incident().pk, actor=self.bob)
        self.assertEqual(self.purge(START + timedelta(days=365)), 1)
        self.assertEqual(self.remaining(), {"已关联舆情"})

    def test_posts_with_an_evidence_file_are_kept(self) -> None:
        kept = self.post("有证据文件")
        self.post("无证据")
        Evidence.objects.create(
            incident=self.log_incident(),
            mention=kept,
            original_name="截图.png",
            kind=Evidence.Kind.PNG,
            content_type="image/png",
            size=10,
            sha256="0" * 64,
            stored_name="evidence/test-retention.png",
        )
        self.assertEqual(self.purge(START + timedelta(days=365)), 1)
        self.assertEqual(self.remaining(), {"有证据文件"})

    def test_the_matches_of_a_deleted_post_go_with_it(self) -> None:
        KeywordScheme.objects.create(organization=self.unit, name="食堂", events="食堂")
        post = self.post("一中食堂")
        posts_match([post.pk])
        self.assertTrue(SchemeMatch.objects.filter(mention=post).exists())
        self.assertEqual(self.purge(START + timedelta(days=181)), 1)
        self.assertFalse(SchemeMatch.objects.exists())

    def test_many_posts_are_deleted_in_batches_and_counted_once(self) -> None:
        source = source_of_kind(self.unit.pk, Source.Kind.API)
        with time_machine.travel(START, tick=False):
            posts_ingest(source_id=source.pk, posts=[PostIn(text=f"帖子 {n}") for n in range(25)])
        with mock.patch.object(retention, "PURGE_BATCH", 10):
            self.assertEqual(self.purge(START + timedelta(days=181)), 25)
        self.assertEqual(list(PostPurge.objects.values_list("posts_deleted", flat=True)), [25])
