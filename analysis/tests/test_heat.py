"""The heat of an incident's posts: counted per window on its page with a chart, a rebound while
跟踪 said plainly, and how it developed written into the 总结评估's draft."""

from datetime import timedelta

import time_machine
from django.urls import reverse

from analysis.selectors import incident_heat
from analysis.services import incident_posts_analyse
from analysis.tests.base import CANTEEN, FEES, PRAISE, AnalysisTestCase
from incidents.models import Incident, State
from incidents.selectors import review_prefill
from monitoring.models import Mention
from opinion_ops.testing import aware, sign_in

START = aware(2026, 11, 26, 8, 0)


class IncidentHeatTests(AnalysisTestCase):
    unit_has_scheme = False

    def incident_with_posts(self, hours: list[int]) -> Incident:
        """An incident whose posts came at these hours after START (one post per entry)."""
        if not self.unit_has_scheme:
            self.scheme()
            self.unit_has_scheme = True
        with time_machine.travel(START, tick=False):
            incident = self.log_incident(title="食堂腹泻")
        mark = incident.reference
        texts = [CANTEEN, FEES, PRAISE]
        for n, hour in enumerate(hours):
            at = START + timedelta(hours=hour, minutes=5)
            text = f"{texts[n % 3]}（{mark} 第{n}条，{hour}时）"
            ids = self.ingest(text, published_at=at, external_id=f"{mark}-{n}")
            Mention.objects.filter(pk__in=ids).update(incident=incident)
        incident_posts_analyse(incident_id=incident.pk)
        return incident

    def test_the_volume_per_window_adds_up_and_a_rebound_is_seen(self) -> None:
        # 3 posts in the first hour, 1 in the next, none, then 4: it fell and rose again.
        incident = self.incident_with_posts([0, 0, 0, 1, 3, 3, 3, 3])
        heat = incident_heat(organization_id=self.unit.pk, incident_id=incident.pk, now=START + timedelta(hours=4))
        assert heat is not None
        self.assertEqual(sum(heat.volume), 8)
        self.assertEqual(len(heat.volume), 24)
        self.assertEqual(heat.volume[-4:], [3, 1, 0, 4])
        self.assertTrue(heat.rebound)
        self.assertGreater(sum(heat.negative), 0)
        self.assertEqual(heat.platforms, {"weibo": 8})
        steady = self.incident_with_posts([0, 1, 2])
        calm = incident_heat(organization_id=self.unit.pk, incident_id=steady.pk, now=START + timedelta(hours=3))
        assert calm is not None
        self.assertFalse(calm.rebound)
        self.assertIsNone(incident_heat(organization_id=self.other_unit.pk, incident_id=incident.pk))

    def test_the_incident_page_draws_the_heat_and_says_when_it_rebounds_while_tracking(self) -> None:
        incident = self.incident_with_posts([0, 0, 0, 1, 3, 3, 3, 3])
        sign_in(self.client, "ann")
        with time_machine.travel(START + timedelta(hours=4), tick=False):
            page = self.client.get(reverse("incident_detail", args=[incident.pk]))
            self.assertContains(page, 'id="incident-heat-data"')
            self.assertNotContains(page, 'data-testid="incident-rebound"')  # not in 跟踪
            Incident.objects.filter(pk=incident.pk).update(state=State.TRACKING)
            page = self.client.get(reverse("incident_detail", args=[incident.pk]))
        self.assertContains(page, "热度回落后再次上升")

    def test_the_review_draft_says_how_the_heat_developed(self) -> None:
        incident = self.incident_with_posts([0, 0, 0, 1, 3, 3, 3, 3])
        with time_machine.travel(START + timedelta(hours=4), tick=False):
            evaluation = review_prefill(incident)["evaluation"]
        self.assertIn("舆情热度：关联信息 8 条", evaluation)
        self.assertIn("微博 8 条", evaluation)
        self.assertIn("热度曾回落后再次上升（反弹）", evaluation)
        quiet = self.log_incident(title="无关联信息")
        self.assertNotIn("舆情热度", review_prefill(quiet)["evaluation"])
