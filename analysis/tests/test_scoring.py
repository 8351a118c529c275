"""The default scorer: risk categories, sentiment, negation, rebuttals, sarcasm, the unit's own risk
words, bad input; scores stored per post with their words and aggregated per cluster; another
scorer named in the setting is used."""

from django.test import override_settings

from analysis import scoring
from analysis.models import AnalysisSettings, Cluster, PostAnalysis
from analysis.scoring import LexiconScorer, RiskResult, scorer_register
from analysis.tests.base import CANTEEN, PRAISE, AnalysisTestCase
from analysis.tests.test_clusters import COPIES


class LexiconTests(AnalysisTestCase):
    scorer = LexiconScorer()

    def test_risk_words_make_a_negative_score_and_are_named(self) -> None:
        result = self.scorer.score("示范区一中食堂多名学生中毒，学校隐瞒不报，求扩散！")
        self.assertEqual(result.label, "negative")
        self.assertGreater(result.score, 0.7)
        self.assertEqual(result.words, ("中毒", "隐瞒", "求扩散"))

    def test_each_category_is_watched(self) -> None:
        for text in (
            "工人讨薪维权",
            "已经投诉到12345",
            "孩子食物中毒",
            "保安打人",
            "数据造假",
            "医院隐瞒实情",
            "此事已上热搜，媒体介入",
        ):
            result = self.scorer.score(text)
            self.assertGreater(result.score, 0.3, text)
            self.assertTrue(result.words, text)

    def test_a_denied_word_does_not_count(self) -> None:
        result = self.scorer.score("孩子们吃完午饭没有出现腹泻，学校并未隐瞒任何情况。")
        self.assertEqual((result.score, result.words), (0.0, ()))
        self.assertEqual(self.scorer.score("对这次处理结果很不满意").label, "negative")

    def test_a_rebuttal_repeats_the_rumour_without_being_one(self) -> None:
        result = self.scorer.score("经核查，网传示范区一中食堂学生中毒系谣言，学生均正常上课。")
        self.assertEqual(result.label, "neutral")
        self.assertLess(result.score, 0.3)

    def test_praise_is_positive_and_mock_praise_is_negative(self) -> None:
        self.assertEqual(self.scorer.score(PRAISE).label, "positive")
        self.assertEqual(self.scorer.score("好一个负责任的物业，电梯困人两小时才来人。").label, "negative")

    def test_the_units_own_words_count(self) -> None:
        text = "示范区一中新校区的塑胶跑道开始铺设了。"
        self.assertEqual(self.scorer.score(text).label, "neutral")
        result = self.scorer.score(text, unit_words=("塑胶跑道",))
        self.assertEqual((result.label, result.words), ("negative", ("塑胶跑道",)))

    def test_bad_input_scores_zero_without_error(self) -> None:
        for text in ("", "   ", "😂😂😂", "[怒][怒]", "http://t.cn/abc"):
            self.assertEqual(self.scorer.score(text), RiskResult(0.0, "neutral", ()), text)
        mixed = self.scorer.score("The canteen 食堂 had 中毒 cases, ＡＢＣ 醫院隱瞞")  # full width, traditional
        self.assertEqual(mixed.words, ("中毒", "隐瞒"))
        long_text = "家长们很关注。" * 10_000 + "中毒"
        self.assertEqual(self.scorer.score(long_text).words, ())  # beyond what a post may hold


class StoredScoreTests(AnalysisTestCase):
    def test_each_post_keeps_its_score_and_words_and_the_cluster_adds_them_up(self) -> None:
        self.scheme()
        AnalysisSettings.objects.create(organization=self.unit, risk_words="有关部门 说法")
        self.ingest(CANTEEN, *COPIES[:2], PRAISE)
        post = PostAnalysis.objects.get(mention__text=CANTEEN)
        self.assertEqual(post.risk_label, "negative")
        self.assertEqual(post.risk_words, ["腹泻", "呕吐", "质疑", "隐瞒", "有关部门", "给个说法"])
        self.assertEqual(post.scorer, "lexicon")
        cluster = post.cluster
        self.assertEqual((cluster.post_count, cluster.negative_count), (3, 3))
        self.assertEqual(cluster.risk_words["隐瞒"], 3)
        self.assertAlmostEqual(cluster.risk_max, post.risk_score)
        praise = PostAnalysis.objects.get(mention__text=PRAISE)
        self.assertEqual((praise.risk_label, praise.risk_score), ("positive", 0.0))
        self.assertNotEqual(praise.cluster_id, cluster.pk)
        self.assertEqual(Cluster.objects.get(pk=praise.cluster_id).negative_count, 0)

    def test_the_scorer_named_in_the_setting_is_used(self) -> None:
        class Alarmed:
            name = "alarmed"

            def score(self, text: str, *, unit_words: tuple[str, ...] = ()) -> RiskResult:
                return RiskResult(1.0, "negative", ("全部",))

        scorer_register("alarmed", Alarmed)
        scoring._default.cache_clear()
        self.scheme()
        try:
            with override_settings(ANALYSIS_SCORER="alarmed"):
                self.ingest(PRAISE)
        finally:
            scoring._default.cache_clear()
        post = PostAnalysis.objects.get()
        self.assertEqual((post.scorer, post.risk_label, post.risk_words), ("alarmed", "negative", ["全部"]))
