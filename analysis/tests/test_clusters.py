"""Reposts and lightly edited copies fall into one cluster per unit, distinct posts do not; the
clusters are made from posts_match through the hook, stored so any worker (or a restarted one)
continues them, and counted apart from posts for alerts and incidents."""

from datetime import timedelta

from django.utils import timezone

from analysis import clustering
from analysis.models import Cluster, ClusterBand, PostAnalysis
from analysis.selectors import alert_cluster_counts, cluster_heat, incident_cluster_counts
from analysis.services import posts_analyse, posts_analyse_due
from analysis.tests.base import CANTEEN, FEES, PRAISE, AnalysisTestCase
from monitoring.alerts import posts_match
from monitoring.ingest import PostIn, posts_ingest
from monitoring.models import Alert, Mention
from monitoring.services import mention_attach

COPIES = [
    "转发：" + CANTEEN,
    CANTEEN + " #示范区一中# @新闻早知道",
    "太过分了！//@家长小王:" + CANTEEN,
    CANTEEN.replace("希望有关部门尽快调查给个说法", "现在孩子们还在医院观察"),
    CANTEEN.replace("，", " ").replace("。", "！！"),
]


class PureClusteringTests(AnalysisTestCase):
    def test_copies_are_similar_and_distinct_posts_are_not(self) -> None:
        original = clustering.signature(CANTEEN)
        assert original is not None
        for copy in COPIES:
            other = clustering.signature(copy)
            assert other is not None
            self.assertGreaterEqual(clustering.similarity(original, other), clustering.THRESHOLD, copy)
        for distinct in (FEES, PRAISE):
            other = clustering.signature(distinct)
            assert other is not None
            self.assertLess(clustering.similarity(original, other), clustering.THRESHOLD, distinct)

    def test_repost_marks_mentions_hashtags_and_links_are_not_part_of_the_text(self) -> None:
        cleaned = clustering.text_for_clustering("转发：#话题# @某人 原文內容 http://t.cn/abc [怒]😂")
        self.assertEqual(cleaned, "原文内容")  # traditional folded too

    def test_emoji_only_and_empty_posts_have_no_signature(self) -> None:
        self.assertIsNone(clustering.signature("😂😂😂 [怒]"))
        self.assertIsNone(clustering.signature(""))
        self.assertEqual(clustering.band_keys(None), [])


class StoredClusteringTests(AnalysisTestCase):
    def test_matched_copies_form_one_cluster_with_the_earliest_post_as_head(self) -> None:
        self.scheme()
        earliest = timezone.now() - timedelta(hours=3)
        [head] = self.ingest(CANTEEN, published_at=earliest)
        copies = self.ingest(*COPIES[:3], platform="wechat")
        [distinct] = self.ingest(FEES)
        self.assertEqual(PostAnalysis.objects.count(), 5)
        cluster = PostAnalysis.objects.get(mention_id=head).cluster
        self.assertEqual(set(cluster.posts.values_list("mention_id", flat=True)), {head, *copies})
        self.assertEqual(cluster.head_id, head)
        self.assertEqual(cluster.post_count, 4)
        self.assertEqual(cluster.platform_counts, {"weibo": 1, "wechat": 3})
        self.assertEqual(cluster.first_seen_at, earliest)
        self.assertNotEqual(PostAnalysis.objects.get(mention_id=distinct).cluster_id, cluster.pk)

    def test_an_earlier_copy_seen_later_becomes_the_head(self) -> None:
        self.scheme()
        [first_seen] = self.ingest(CANTEEN)
        [older] = self.ingest(COPIES[0], published_at=timezone.now() - timedelta(days=1))
        cluster = Cluster.objects.get()
        self.assertEqual((cluster.head_id, cluster.post_count), (older, 2))
        self.assertNotEqual(first_seen, older)

    def test_copies_in_two_units_make_a_cluster_in_each(self) -> None:
        self.scheme()
        self.scheme(unit=self.other_unit)
        self.ingest(CANTEEN)
        self.ingest(COPIES[0], source=self.other_source)
        self.assertEqual(
            sorted(Cluster.objects.values_list("organization_id", "post_count")),
            sorted([(self.unit.pk, 1), (self.other_unit.pk, 1)]),
        )

    def test_clustering_continues_from_what_is_stored(self) -> None:
        # A post analysed on its own (another worker, or after a restart: nothing is kept in memory)
        # finds its original through the stored band keys.
        self.scheme()
        self.ingest(CANTEEN)
        self.assertTrue(ClusterBand.objects.exists())
        result = posts_ingest(source_id=self.source.pk, posts=[PostIn(text=COPIES[3], platform="weibo")])
        self.assertEqual(posts_analyse(result.created), 1)
        self.assertEqual(Cluster.objects.get().post_count, 2)
        self.assertEqual(posts_analyse(result.created), 0)  # never twice

    def test_unmatched_posts_are_not_clustered_and_emoji_posts_stand_alone(self) -> None:
        self.scheme()
        [unmatched] = self.ingest("今天天气不错，出门走走。")
        self.assertFalse(PostAnalysis.objects.filter(mention_id=unmatched).exists())
        result = posts_ingest(source_id=self.source.pk, posts=[PostIn(text="😂😂😂"), PostIn(text="[怒]😂😂")])
        emoji, emoji_again = result.created
        self.assertEqual(posts_analyse(result.created), 2)
        self.assertEqual(Cluster.objects.count(), 2)
        self.assertEqual(PostAnalysis.objects.get(mention_id=emoji).risk_label, "neutral")
        self.assertNotEqual(
            PostAnalysis.objects.get(mention_id=emoji).cluster_id,
            PostAnalysis.objects.get(mention_id=emoji_again).cluster_id,
        )

    def test_a_very_long_post_is_clustered(self) -> None:
        self.scheme()
        long_text = CANTEEN + "".join(f"第{i}段补充说明，家长们持续关注。" for i in range(1500))
        self.ingest(long_text[:20_000])
        self.ingest("转发：" + long_text[:19_000])
        self.assertEqual(Cluster.objects.get().post_count, 2)

    def test_a_failing_analysis_never_stops_matching_or_alerts(self) -> None:
        self.scheme()
        from monitoring import alerts

        def broken(posts: list[Mention]) -> None:
            raise RuntimeError("analysis down")

        alerts.matched_hook_register(broken)
        try:
            self.ingest(CANTEEN)
        finally:
            alerts._matched_hooks.remove(broken)
        self.assertEqual(Alert.objects.get().post_count, 1)
        self.assertEqual(PostAnalysis.objects.count(), 1)  # the other hook ran


class CountsTests(AnalysisTestCase):
    def test_an_alert_counts_its_posts_and_its_clusters_separately(self) -> None:
        self.scheme()
        self.ingest(CANTEEN, *COPIES, FEES)
        alert = Alert.objects.get()
        counts = alert_cluster_counts(organization_id=self.unit.pk, alert_id=alert.pk)
        self.assertEqual((counts.posts, counts.clusters, counts.analysed), (7, 2, 7))
        # Another unit's view of the alert is empty.
        self.assertEqual(alert_cluster_counts(organization_id=self.other_unit.pk, alert_id=alert.pk).posts, 0)

    def test_posts_attached_to_an_incident_are_clustered_by_the_sweeper(self) -> None:
        incident = self.log_incident()
        result = posts_ingest(
            source_id=self.source.pk,
            posts=[PostIn(text=CANTEEN, platform="weibo"), PostIn(text=COPIES[1], platform="douyin")],
        )
        posts_match(result.created)  # no scheme: nothing matched, nothing clustered yet
        for pk in result.created:
            mention_attach(mention_id=pk, incident_id=incident.pk, actor=self.bob)
        counts = incident_cluster_counts(organization_id=self.unit.pk, incident_id=incident.pk)
        self.assertEqual((counts.posts, counts.clusters, counts.analysed), (2, 0, 0))
        self.assertEqual(posts_analyse_due(), 0)  # not before they have waited a minute
        self.assertEqual(posts_analyse_due(now=timezone.now() + timedelta(minutes=2)), 2)
        counts = incident_cluster_counts(organization_id=self.unit.pk, incident_id=incident.pk)
        self.assertEqual((counts.posts, counts.clusters, counts.analysed), (2, 1, 2))
        self.assertEqual(posts_analyse_due(now=timezone.now() + timedelta(minutes=2)), 0)

    def test_matched_posts_the_hook_missed_are_analysed_by_the_sweeper(self) -> None:
        from monitoring import alerts

        self.scheme()
        hooks = list(alerts._matched_hooks)
        alerts._matched_hooks.clear()  # the worker died before analysing them
        try:
            self.ingest(CANTEEN, COPIES[0])
        finally:
            alerts._matched_hooks.extend(hooks)
        self.assertFalse(PostAnalysis.objects.exists())
        self.assertEqual(posts_analyse_due(now=timezone.now() + timedelta(minutes=2)), 2)
        self.assertEqual(Cluster.objects.get().post_count, 2)
        self.assertEqual(posts_analyse_due(now=timezone.now() + timedelta(days=2)), 0)

    def test_heat_counts_posts_per_window_and_sees_a_rebound(self) -> None:
        self.scheme()
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        for hours_ago, copies in ((5, 3), (4, 1), (2, 4)):
            texts = [f"{COPIES[i % 3]}（{hours_ago}-{i}）" for i in range(copies)]
            self.ingest(*texts, published_at=now - timedelta(hours=hours_ago, minutes=30))
        cluster = Cluster.objects.get()
        heat = cluster_heat(cluster=cluster, window_minutes=60, windows=6, now=now)
        self.assertEqual(heat.volume, [3, 1, 0, 4, 0, 0])
        self.assertTrue(heat.rebound)
        self.assertEqual(heat.platforms, {"weibo": 8})


class AlertPageCountsTests(AnalysisTestCase):
    """An alert's page and the alert list count the clusters beside the posts: 500 reposts of one
    post are one thing to judge."""

    def test_the_alert_list_and_page_show_clusters_beside_posts(self) -> None:
        from django.urls import reverse

        from monitoring.models import Alert
        from opinion_ops.testing import sign_in

        self.scheme(threshold_posts=3)
        self.ingest(CANTEEN, "转发：" + CANTEEN, CANTEEN + " #示范区一中#", FEES)
        alert = Alert.objects.get(organization=self.unit)
        self.assertEqual(alert.post_count, 4)
        sign_in(self.client, "bob")
        self.assertContains(self.client.get(reverse("monitoring:alert_detail", args=[alert.pk])), "4 · 2 个聚类")
        self.assertContains(self.client.get(reverse("monitoring:alerts")), "2 个聚类")
