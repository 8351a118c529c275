"""研判 prefilled: the assessment form shows the incident's clusters, heat and risk, and preselects a
warning level suggested from the plan's criteria, saying which facts led to it."""

from typing import Any

from django.urls import reverse

from analysis.assessment import Facts, criteria_figures, incident_assessment_aid, level_suggest
from analysis.tests.base import CANTEEN, PRAISE, AnalysisTestCase
from incidents.models import Incident
from incidents.services.incidents import incident_start_assessment
from monitoring.models import Mention
from opinion_ops.testing import sign_in


class AssessmentAidTests(AnalysisTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.scheme()

    def incident_with(self, *texts: str, platform: str = "weibo") -> Incident:
        incident = self.log_incident(title="食堂腹泻")
        ids = self.ingest(*texts, platform=platform)
        Mention.objects.filter(pk__in=ids).update(incident=incident)
        from analysis.services import incident_posts_analyse

        incident_posts_analyse(incident_id=incident.pk)
        return incident

    def criteria(self, **by_level: str) -> None:
        for name, text in by_level.items():
            level = getattr(self, name)
            level.criteria = text
            level.save(update_fields=["criteria"])

    def aid(self, incident: Incident) -> dict[str, Any]:
        aid = incident_assessment_aid(Incident.objects.get(pk=incident.pk))
        assert aid is not None
        return aid

    def test_it_suggests_the_most_severe_level_whose_figures_are_all_met_and_says_why(self) -> None:
        self.criteria(level1="信息 100 条以上，负面占比 80% 以上", level2="信息 3 条以上，负面占比 50% 以上")
        copies = [f"{CANTEEN}（转发{n}）" for n in range(3)]
        incident = self.incident_with(*copies)
        aid = self.aid(incident)
        self.assertEqual(aid["suggested_level"], self.level2)
        self.assertIn("关联信息 3 条≥判定标准的 3 条", aid["suggestion_reasons"])
        self.assertIn("负面占比 100%≥判定标准的 50%", aid["suggestion_reasons"])
        first = next(check for check in aid["checks"] if check.level == self.level1)
        self.assertFalse(first.met)
        self.assertIn("关联信息 3 条<判定标准的 100 条", first.reasons)
        # The clusters, risk words with counts, the riskiest posts.
        self.assertEqual((aid["counts"].posts, aid["counts"].clusters), (3, 1))
        self.assertEqual(aid["negative_percent"], 100)
        self.assertIn(("腹泻", 3), aid["risk_words"])
        self.assertEqual(len(aid["risky_posts"]), 3)
        self.assertIsNotNone(aid["heat_chart"])

    def test_a_risk_word_the_criteria_name_found_in_the_posts_meets_the_level(self) -> None:
        self.criteria(level1="出现学生中毒、打人等情况")
        quiet = self.incident_with(PRAISE)
        self.assertNotEqual(self.aid(quiet)["suggested_level"], self.level1)
        incident = self.incident_with("示范区一中食堂疑似食物中毒，十几个学生送医，家长要求给个说法。")
        aid = self.aid(incident)
        self.assertEqual(aid["suggested_level"], self.level1)
        self.assertEqual(aid["suggestion_reasons"], ["判定标准提到“中毒”，关联信息中 1 条含此词"])

    def test_criteria_without_figures_are_read_on_the_default_scale(self) -> None:
        incident = self.incident_with(CANTEEN)  # the default plan's criteria name no figures
        aid = self.aid(incident)
        self.assertEqual(aid["suggested_level"], self.level3)
        self.assertIn("作为最低级别", aid["suggestion_reasons"][0])
        second = next(check for check in aid["checks"] if check.level == self.level2)
        self.assertIn("信息 ≥ 20 条且负面占比 ≥ 30%", second.reasons[0])

    def test_figures_are_read_from_the_criteria(self) -> None:
        self.assertEqual(
            criteria_figures("转发 500 条以上，负面占比超过60%，3个平台，一小时增长 50%"),
            [("platforms", 3.0), ("posts", 500.0), ("share", 0.6), ("growth", 0.5)],
        )
        facts = Facts(posts=600, clusters=4, negative_share=0.7, platforms=2, growth=0.8, words={})
        self.level1.criteria = "转发 500 条以上，负面占比超过60%，3个平台"
        chosen, checks = level_suggest([self.level1, self.level3], facts)
        self.assertEqual(chosen, self.level3)
        self.assertIn("涉及 2 个平台<判定标准的 3 个", checks[0].reasons)

    def test_an_incident_without_posts_shows_no_aid(self) -> None:
        self.assertIsNone(incident_assessment_aid(self.log_incident()))

    def test_the_assessment_form_shows_the_aid_and_preselects_the_suggested_level(self) -> None:
        self.criteria(level2="信息 2 条以上")
        incident = self.incident_with(CANTEEN, f"转发：{CANTEEN}")
        incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        sign_in(self.client, "ann")
        url = reverse("incident_detail", args=[incident.pk])
        panel = self.client.get(url, {"panel": "assessment"}, headers={"HX-Request": "true"})
        self.assertEqual(panel.status_code, 200)
        self.assertContains(panel, 'data-testid="assessment-aid"')
        self.assertContains(panel, "建议预警级别：二级")
        self.assertContains(panel, "关联信息 2 条≥判定标准的 2 条")
        self.assertContains(panel, f'<option value="{self.level2.pk}" selected>')
        self.assertContains(panel, 'id="assessment-heat-data"')
        self.assertContains(panel, "腹泻（2）")
        # The analyst decides: another level is saved as chosen.
        response = self.client.post(
            reverse("incident_act", args=[incident.pk, "assessment"]),
            {
                "nature": "食品安全",
                "scope": "本校",
                "trend": "rising",
                "risk": "high",
                "proposed_level": self.level3.pk,
            },
        )
        self.assertEqual(response.status_code, 302, getattr(response, "content", b"")[:500])
        self.assertEqual(incident.assessments.get().proposed_level_id, self.level3.pk)  # type: ignore[attr-defined]
        # Shown again with its errors: the aid is still there.
        bad = self.client.post(reverse("incident_act", args=[incident.pk, "assessment"]), {"nature": ""})
        self.assertEqual(bad.status_code, 400)
        self.assertContains(bad, 'data-testid="assessment-aid"', status_code=400)
