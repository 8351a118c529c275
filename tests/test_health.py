"""Operators see at a glance what works and what is stuck: the health page (superusers), /healthz
(monitors), and the set-aside clocks in the admin, which they can put back to work."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.models import Deadline
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in


class HealthTestCase(BaseTestCase):
    def setUp(self) -> None:
        self.incident = self.log_incident(minutes_ago=0)
        self.oral = Deadline.objects.get(incident=self.incident, name="口头报告")
        self.root = get_user_model().objects.create_superuser("root", "root@example.cn", PASSWORD)

    def set_aside(self) -> None:
        Deadline.objects.filter(pk=self.oral.pk).update(
            sweep_failures=2,
            sweep_error="ValueError: integer out of range",
            quarantined_at=timezone.now(),
            next_action_at=timezone.now() + timedelta(minutes=2),
        )


class HealthPageTests(HealthTestCase):
    def test_only_operators_see_the_health_page(self) -> None:
        sign_in(self.client, "alice", PASSWORD)
        self.assertEqual(self.client.get("/ops/health/").status_code, 403)
        sign_in(self.client, "root", PASSWORD)
        page = self.client.get("/ops/health/")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(
            {check.name for check in page.context["checks"]},
            {"database", "cache", "broker", "clock sweeper", "set-aside clocks", "outbox"},
        )

    def test_a_set_aside_clock_is_listed_with_its_error(self) -> None:
        self.set_aside()
        sign_in(self.client, "root", PASSWORD)
        page = self.client.get("/ops/health/")
        self.assertContains(page, "integer out of range")
        self.assertContains(page, self.incident.reference)

    def test_healthz_says_down_when_the_sweeper_falls_behind(self) -> None:
        self.assertEqual(self.client.get("/healthz").json()["checks"]["clock sweeper"], True)
        Deadline.objects.filter(pk=self.oral.pk).update(next_action_at=timezone.now() - timedelta(minutes=5))
        response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["status"], "down")


class SetAsideAdminTests(HealthTestCase):
    def test_an_operator_finds_set_aside_clocks_and_puts_them_back_to_work(self) -> None:
        self.set_aside()
        sign_in(self.client, "root", PASSWORD)
        listing = self.client.get("/admin/incidents/deadline/?set_aside=yes")
        self.assertContains(listing, "口头报告")
        self.assertEqual(len(listing.context["cl"].result_list), 1)
        self.client.post("/admin/incidents/deadline/", {"action": "release", "_selected_action": [self.oral.pk]})
        released = Deadline.objects.get(pk=self.oral.pk)
        self.assertEqual((released.sweep_failures, released.sweep_error, released.quarantined_at), (0, "", None))
        self.assertLessEqual(released.next_action_at, timezone.now())
