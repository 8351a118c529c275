"""Alert rules on risk and growth per keyword scheme: ≥ N negative posts in M minutes, growth over a
window with a minimum count, a cluster crossing a heat threshold; each fires an alert whose reason
names the rule and its figures. Edited on the scheme's page under /analysis/ by those who manage
monitoring; another unit's scheme is a 404."""

from datetime import timedelta
from typing import Any

import time_machine
from django.urls import reverse

from analysis.models import SchemeRiskRules
from analysis.services import scheme_risk_rules_update
from analysis.tests.base import CANTEEN, FEES, PRAISE, AnalysisTestCase
from monitoring.alerts import alert_dismiss
from monitoring.models import Alert, KeywordScheme
from opinion_ops.errors import DomainError, NotPermitted
from opinion_ops.testing import aware, sign_in
from organizations.audit import AuditEntry

START = aware(2026, 11, 26, 9, 0)
COPIES = [
    "转发：" + CANTEEN,
    CANTEEN + " #示范区一中# @新闻早知道",
    "太过分了！//@家长小王:" + CANTEEN,
    CANTEEN.replace("，", " ").replace("。", "！！"),
]
RULES = {
    "risky_posts": None,
    "risky_minutes": 60,
    "growth_percent": None,
    "growth_minutes": 60,
    "growth_min_posts": 10,
    "cluster_posts": None,
    "cluster_minutes": 60,
}


class RiskRuleTests(AnalysisTestCase):
    def setUp(self) -> None:
        super().setUp()
        # The scheme's own keyword rule never fires here: only the risk and growth rules do.
        self.watched = self.scheme(threshold_posts=1000)

    def rules(self, **values: Any) -> SchemeRiskRules:
        return scheme_risk_rules_update(scheme_id=self.watched.pk, actor=self.bob, **{**RULES, **values})

    def alerts(self) -> list[Alert]:
        return list(Alert.objects.filter(scheme=self.watched).order_by("id"))

    def negatives(self, n: int, mark: str) -> list[int]:
        return self.ingest(*[f"{FEES}（{mark}第{i}条）" for i in range(n)])

    def test_negative_posts_in_the_window_fire_and_older_or_praise_do_not(self) -> None:
        self.rules(risky_posts=3, risky_minutes=30)
        with time_machine.travel(START, tick=False):
            self.negatives(2, "早")
            self.ingest(PRAISE)
        with time_machine.travel(START + timedelta(minutes=40), tick=False):
            self.negatives(1, "中")  # the first two are 40 minutes old: 1 in the window
            self.assertEqual(self.alerts(), [])
            self.ingest(PRAISE + "（二）")  # praise is not risky
            self.assertEqual(self.alerts(), [])
        with time_machine.travel(START + timedelta(minutes=50), tick=False):
            self.negatives(2, "晚")
        [alert] = self.alerts()
        self.assertEqual(alert.reason, "风险规则「负面信息」：30 分钟内负面信息 3 条（阈值 3 条）")
        self.assertEqual(alert.post_count, 7)  # the scheme's pending posts of its own 60 minutes

    def test_growth_fires_over_the_window_before_and_needs_its_minimum(self) -> None:
        self.rules(growth_percent=100, growth_minutes=60, growth_min_posts=4)
        with time_machine.travel(START, tick=False):
            earlier = START - timedelta(minutes=90)
            self.ingest(f"{FEES}（甲）", f"{FEES}（乙）", published_at=earlier)
            self.ingest(f"{CANTEEN}（一）", f"{CANTEEN}（二）", f"{CANTEEN}（三）", published_at=START)
            self.assertEqual(self.alerts(), [])  # 2 → 3 posts: +50%, and fewer than 4
            self.ingest(f"{PRAISE}（四）", published_at=START)
        [alert] = self.alerts()
        self.assertEqual(
            alert.reason, "风险规则「增长」：最近 60 分钟 4 条，前一时段 2 条，增长 100%（阈值 100%，至少 4 条）"
        )
        # Once per window: dismissed, more posts in the same window raise nothing new.
        alert_dismiss(alert_id=alert.pk, actor=self.bob, reason="已核实")
        with time_machine.travel(START + timedelta(minutes=10), tick=False):
            self.ingest(*[f"{PRAISE}（再{i}）" for i in range(4)], published_at=START + timedelta(minutes=5))
        self.assertEqual(len(self.alerts()), 1)

    def test_a_small_count_is_not_growth(self) -> None:
        self.rules(growth_percent=50, growth_minutes=60, growth_min_posts=3)
        with time_machine.travel(START, tick=False):
            self.ingest(f"{FEES}（甲）", published_at=START - timedelta(minutes=90))
            self.ingest(f"{FEES}（乙）", f"{FEES}（丙）", published_at=START)  # 1 → 2: +100% but 2 < 3
        self.assertEqual(self.alerts(), [])

    def test_a_cluster_crossing_the_heat_threshold_fires_once(self) -> None:
        self.rules(cluster_posts=3, cluster_minutes=60)
        with time_machine.travel(START, tick=False):
            self.ingest(CANTEEN, published_at=START)
            self.ingest(COPIES[0], published_at=START)
            self.ingest(FEES, published_at=START)  # another cluster
            self.assertEqual(self.alerts(), [])
            self.ingest(COPIES[1], published_at=START)
        [alert] = self.alerts()
        self.assertIn("风险规则「聚类热度」：聚类“示范区一中食堂多名学生午饭后腹泻呕吐", alert.reason)
        self.assertIn("60 分钟内 3 条，达到热度阈值 3 条", alert.reason)
        alert_dismiss(alert_id=alert.pk, actor=self.bob, reason="已核实")
        with time_machine.travel(START + timedelta(minutes=5), tick=False):
            self.ingest(COPIES[2], published_at=START + timedelta(minutes=5))  # 4: crossed already
        self.assertEqual(len(self.alerts()), 1)

    def test_a_firing_rule_joins_the_schemes_active_alert(self) -> None:
        self.rules(risky_posts=1, risky_minutes=60)
        with time_machine.travel(START, tick=False):
            self.negatives(1, "一")
            self.negatives(1, "二")
        [alert] = self.alerts()
        self.assertEqual(alert.post_count, 2)

    def test_rules_are_per_scheme_and_off_when_empty(self) -> None:
        self.rules()  # every threshold empty
        with time_machine.travel(START, tick=False):
            self.negatives(5, "一")
        self.assertEqual(Alert.objects.count(), 0)


class RiskRulePageTests(AnalysisTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.watched = self.scheme(threshold_posts=1000)
        self.url = reverse("analysis:scheme_detail", args=[self.watched.pk])

    def post(self, **values: Any) -> Any:
        data = {k: "" if v is None else v for k, v in {**RULES, **values}.items()}
        return self.client.post(self.url, data)

    def test_a_monitor_sets_the_rules_and_it_is_audited(self) -> None:
        sign_in(self.client, "bob")
        response = self.post(risky_posts=5, risky_minutes=30, cluster_posts=20)
        self.assertRedirects(response, self.url)
        rules = SchemeRiskRules.objects.get(scheme=self.watched)
        self.assertEqual(
            (rules.risky_posts, rules.risky_minutes, rules.cluster_posts, rules.growth_percent), (5, 30, 20, None)
        )
        self.assertTrue(AuditEntry.objects.filter(action="analysis.risk_rules", organization=self.unit).exists())
        page = self.client.get(reverse("analysis:schemes"))
        self.assertContains(page, "30 分钟 ≥ 5 条")
        detail = self.client.get(self.url)
        self.assertContains(detail, 'id="scheme-heat-data"')

    def test_bad_figures_get_a_chinese_error_next_to_the_field(self) -> None:
        sign_in(self.client, "bob")
        response = self.post(risky_posts=-3, growth_minutes=0, growth_min_posts="")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, 'id="id_risky_posts_error"', status_code=400)
        self.assertContains(response, "须为不小于 1 的整数。", status_code=400)
        self.assertContains(response, 'id="id_growth_minutes_error"', status_code=400)
        self.assertContains(response, "统计时段须在 1 到 10080 分钟之间。", status_code=400)
        self.assertContains(response, 'id="id_growth_min_posts_error"', status_code=400)
        self.assertFalse(SchemeRiskRules.objects.exists())
        with self.assertRaises(DomainError) as refused:
            scheme_risk_rules_update(scheme_id=self.watched.pk, actor=self.bob, **{**RULES, "cluster_minutes": 0})
        self.assertEqual(refused.exception.field, "cluster_minutes")

    def test_an_analyst_reads_but_may_not_change_the_rules(self) -> None:
        sign_in(self.client, "ann")
        self.assertEqual(self.client.get(self.url).status_code, 200)
        self.assertEqual(self.post(risky_posts=5).status_code, 403)
        with self.assertRaises(NotPermitted):
            scheme_risk_rules_update(scheme_id=self.watched.pk, actor=self.ann, **RULES)
        self.assertFalse(SchemeRiskRules.objects.exists())

    def test_another_units_scheme_is_not_found(self) -> None:
        sign_in(self.client, "charlie")
        self.assertEqual(self.client.get(self.url).status_code, 404)
        self.assertEqual(self.post(risky_posts=5).status_code, 404)
        self.assertNotContains(self.client.get(reverse("analysis:schemes")), self.watched.name)
        theirs = KeywordScheme.objects.create(organization=self.other_unit, name="邻区方案", subjects="x")
        sign_in(self.client, "bob")
        self.assertEqual(self.client.get(reverse("analysis:scheme_detail", args=[theirs.pk])).status_code, 404)
        self.assertFalse(SchemeRiskRules.objects.exists())


class SweptRuleTests(AnalysisTestCase):
    """Posts whose hook never ran (the worker died after matching) are analysed by the sweeper, which
    checks their schemes' rules as the hook would have."""

    def test_the_sweeper_checks_the_rules_of_the_posts_it_analyses(self) -> None:
        from unittest import mock

        from analysis.services import posts_analyse_due

        watched = self.scheme(threshold_posts=1000)
        scheme_risk_rules_update(
            scheme_id=watched.pk, actor=self.bob, **{**RULES, "risky_posts": 3, "risky_minutes": 30}
        )
        with time_machine.travel(START, tick=False), mock.patch("monitoring.alerts._matched_hooks", []):
            self.ingest(*[f"{FEES}（漏第{i}条）" for i in range(3)])
        self.assertFalse(Alert.objects.filter(scheme=watched).exists())  # the hook did not run
        with time_machine.travel(START + timedelta(minutes=2), tick=False):
            self.assertEqual(posts_analyse_due(), 3)
        alerts = list(Alert.objects.filter(scheme=watched))
        self.assertEqual(len(alerts), 1)
