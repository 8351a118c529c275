"""From posts to alerts: one ingest path with duplicates and bad posts, matching every unit's schemes,
the rules that raise an alert, one active alert per scheme, who is told, and what people do with it."""

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import State
from monitoring.alerts import alert_acknowledge, alert_convert, alert_dismiss, posts_match, posts_match_due
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import Alert, DutyShift, KeywordScheme, Mention, MonitoringSettings, SchemeMatch, Source
from notifications.models import Notification
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted
from opinion_ops.testing import BaseTestCase


class PipelineTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.source = source_of_kind(self.unit.pk, Source.Kind.API)

    def scheme(self, unit: Any = None, **fields: Any) -> KeywordScheme:
        fields.setdefault("name", "食堂安全")
        fields.setdefault("regions", "示范区")
        fields.setdefault("subjects", "一中、实验小学")
        fields.setdefault("events", "食堂 中毒")
        return KeywordScheme.objects.create(organization=unit or self.unit, created_by=self.bob, **fields)

    def ingest(self, *texts: str, source: Source | None = None, **fields: Any) -> list[int]:
        result = posts_ingest(source_id=(source or self.source).pk, posts=[PostIn(text=t, **fields) for t in texts])
        posts_match(result.created)
        return result.created


class IngestTests(PipelineTestCase):
    def test_bad_posts_are_refused_by_field_and_the_rest_go_in(self) -> None:
        result = posts_ingest(
            source_id=self.source.pk,
            posts=[
                PostIn(text="示范区一中食堂"),
                PostIn(text=""),
                PostIn(text="链接不对", url="javascript:alert(1)"),
                PostIn(text="平台不对", platform="myspace"),
                PostIn(text="来自未来", published_at=timezone.now() + timedelta(days=3)),
                PostIn(text="x" * 20_001),
            ],
        )
        self.assertEqual(len(result.created), 1)
        self.assertEqual(
            [(r["index"], r["field"]) for r in result.rejected],
            [(1, "text"), (2, "url"), (3, "platform"), (4, "published_at"), (5, "text")],
        )
        self.assertTrue(all(r["message"] for r in result.rejected))

    def test_the_same_post_twice_is_a_duplicate_by_external_id_or_by_content(self) -> None:
        first = posts_ingest(source_id=self.source.pk, posts=[PostIn(text="甲", external_id="w-1"), PostIn(text="乙")])
        again = posts_ingest(
            source_id=self.source.pk,
            posts=[PostIn(text="甲（已编辑）", external_id="w-1"), PostIn(text="乙"), PostIn(text="丙")],
        )
        self.assertEqual((len(first.created), first.duplicates), (2, 0))
        self.assertEqual((len(again.created), again.duplicates), (1, 2))
        self.assertEqual(Mention.objects.filter(organization=self.unit).count(), 3)
        self.assertEqual(Source.objects.get(pk=self.source.pk).items_total, 3)

    def test_a_batch_over_the_limit_is_refused_whole(self) -> None:
        with self.assertRaises(DomainError) as refused:
            posts_ingest(source_id=self.source.pk, posts=[PostIn(text=str(i)) for i in range(1001)])
        self.assertEqual(refused.exception.field, "posts")
        self.assertEqual(Mention.objects.count(), 0)


class MatchingTests(PipelineTestCase):
    def test_a_post_is_matched_with_the_words_that_hit_and_segmented_for_search(self) -> None:
        scheme = self.scheme()
        other = self.scheme(unit=self.other_unit)
        [post_id] = self.ingest("網傳示範區一中食堂多名學生中毒")  # traditional characters
        match = SchemeMatch.objects.get(mention_id=post_id)
        self.assertEqual(match.scheme, scheme)
        self.assertEqual(sorted(match.words), sorted(["示范区", "一中", "食堂", "中毒"]))
        self.assertFalse(SchemeMatch.objects.filter(scheme=other).exists())  # the other unit's scheme
        post = Mention.objects.get(pk=post_id)
        self.assertIsNotNone(post.matched_at)
        self.assertIn("食堂", post.search_text.split())

    def test_unit_wide_exclusions_stop_every_scheme(self) -> None:
        self.scheme()
        MonitoringSettings.objects.create(organization=self.unit, exclusions="演练、广告")
        self.ingest("示范区一中食堂中毒应急演练")
        self.assertEqual(SchemeMatch.objects.count(), 0)

    def test_a_changed_scheme_is_used_for_the_next_posts(self) -> None:
        scheme = self.scheme()
        self.ingest("示范区一中食堂中毒")
        scheme.events = "收费"
        scheme.save()
        self.ingest("示范区一中乱收费")
        self.assertEqual(SchemeMatch.objects.filter(scheme=scheme).count(), 2)

    def test_posts_whose_task_was_lost_are_matched_by_the_sweeper(self) -> None:
        self.scheme()
        result = posts_ingest(source_id=self.source.pk, posts=[PostIn(text="示范区一中食堂中毒")])
        self.assertEqual(posts_match_due(), 0)  # not before it has waited a minute
        Mention.objects.filter(pk__in=result.created).update(captured_at=timezone.now() - timedelta(minutes=2))
        self.assertEqual(posts_match_due(), 1)
        self.assertEqual(posts_match(result.created)["posts"], 0)  # a repeat does nothing
        self.assertEqual(SchemeMatch.objects.count(), 1)


class AlertTests(PipelineTestCase):
    def test_the_rule_raises_one_alert_at_the_threshold_and_later_posts_join_it(self) -> None:
        scheme = self.scheme(threshold_posts=3, window_minutes=60)
        self.ingest("示范区一中食堂中毒 1", "示范区一中食堂中毒 2")
        self.assertFalse(Alert.objects.exists())
        self.ingest("示范区一中食堂中毒 3")
        alert = Alert.objects.get()
        self.assertEqual((alert.scheme, alert.status, alert.post_count), (scheme, "open", 3))
        self.assertIn("60 分钟内命中 3 条信息", alert.reason)
        self.ingest("示范区一中食堂中毒 4", "示范区一中食堂中毒 5")
        alert.refresh_from_db()
        self.assertEqual((Alert.objects.count(), alert.post_count), (1, 5))

    def test_a_batch_that_hits_many_schemes_raises_their_alerts_in_the_queries_of_one(self) -> None:
        # Each scheme a batch hit used to cost its own transaction and a dozen queries: a burst of
        # posts then kept the matching queue seconds behind.
        def matched(*texts: str) -> int:
            created = posts_ingest(source_id=self.source.pk, posts=[PostIn(text=t) for t in texts]).created
            with CaptureQueriesContext(connection) as queries:
                posts_match(created)
            return len(queries)

        self.scheme(name="收费", events="收费")
        for n in range(5):
            self.scheme(name=f"食堂{n}", events="食堂")
        matched("与本单位无关的信息")  # the matcher is built
        one = matched("示范区一中乱收费")
        five = matched("示范区一中食堂")
        self.assertEqual(Alert.objects.count(), 6)
        self.assertLessEqual(five, one)
        joined = matched("示范区一中食堂 二", "示范区一中食堂 三")  # the five alerts take them
        self.assertLessEqual(joined, one)
        counts = dict(Alert.objects.values_list("scheme__name", "post_count"))
        self.assertEqual(counts, {"收费": 1, **{f"食堂{n}": 3 for n in range(5)}})
        self.assertEqual(Notification.objects.filter(kind="alert.raised", recipient=self.bob).count(), 6)

    def test_a_watched_account_raises_an_alert_at_once(self) -> None:
        self.scheme(threshold_posts=50, watched_accounts="@示范区大V\n@另一个")
        self.ingest("示范区一中食堂中毒", author="@示范区大V")
        self.assertIn("@示范区大V", Alert.objects.get().reason)

    def test_it_reaches_the_people_on_duty_and_the_schemes_recipients(self) -> None:
        scheme = self.scheme()
        scheme.recipients.add(self.alice)
        now = timezone.now()
        DutyShift.objects.create(
            organization=self.unit, user=self.ann, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
        )
        DutyShift.objects.create(
            organization=self.unit, user=self.hank, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=9)
        )
        self.ingest("示范区一中食堂中毒")
        told = set(Notification.objects.filter(kind="alert.raised").values_list("recipient__username", flat=True))
        self.assertEqual(told, {"ann", "alice"})
        title = Notification.objects.filter(kind="alert.raised").first().title
        self.assertIn("食堂安全", title)

    def test_with_no_one_rostered_the_monitoring_group_is_told(self) -> None:
        self.scheme()
        self.ingest("示范区一中食堂中毒")
        told = set(Notification.objects.filter(kind="alert.raised").values_list("recipient__username", flat=True))
        self.assertEqual(told, {"bob"})

    def test_acknowledge_dismiss_and_a_new_alert_after_dismissal(self) -> None:
        self.scheme()
        self.ingest("示范区一中食堂中毒 1")
        alert = Alert.objects.get()
        with self.assertRaises(NotPermitted):
            alert_acknowledge(alert_id=alert.pk, actor=self.charlie)  # another unit
        alert_acknowledge(alert_id=alert.pk, actor=self.bob)
        with self.assertRaises(DomainError) as no_reason:
            alert_dismiss(alert_id=alert.pk, actor=self.bob, reason=" ")
        self.assertEqual(no_reason.exception.field, "reason")
        alert_dismiss(alert_id=alert.pk, actor=self.bob, reason="广告，与我单位无关")
        with self.assertRaises(InvalidTransition):
            alert_acknowledge(alert_id=alert.pk, actor=self.bob)
        self.ingest("示范区一中食堂中毒 2")
        self.assertEqual(Alert.objects.filter(status="open").count(), 1)

    def test_converting_makes_an_incident_in_monitoring_with_the_posts_attached(self) -> None:
        self.scheme(threshold_posts=2)
        ids = self.ingest("示范区一中食堂中毒 1", "示范区一中食堂中毒 2", url="https://weibo.com/1/a")
        alert = Alert.objects.get()
        incident = alert_convert(alert_id=alert.pk, actor=self.bob)
        self.assertEqual(incident.state, State.MONITORING)
        self.assertIn("食堂安全", incident.title)
        self.assertEqual(set(Mention.objects.filter(incident=incident).values_list("pk", flat=True)), set(ids))
        alert.refresh_from_db()
        self.assertEqual((alert.status, alert.incident), ("converted", incident))

    def test_a_scheme_may_register_incidents_by_itself(self) -> None:
        self.scheme(auto_incident=True)
        self.ingest("示范区一中食堂中毒")
        alert = Alert.objects.get()
        self.assertEqual(alert.status, "converted")
        self.assertEqual(alert.incident.reporter, self.bob)
