"""单位设置 → 接口令牌: administrators issue a token (the secret shown once), revoke it, see when it
was last used; every issue and revocation is audited; nobody reaches another unit's tokens."""

from datetime import timedelta

import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from integrations.models import ApiToken
from integrations.testing import ApiTestCase
from integrations.tokens import api_token_issue
from opinion_ops.errors import NotPermitted
from organizations.models import AuditEntry

LIST = reverse("unit_tokens:list")


class TokenPageTests(ApiTestCase):
    def issue(self, **data: object) -> object:
        body = {"name": "市监测平台", "user": self.bob.pk, "scope": "ingest", **data}
        return self.client.post(LIST, body)

    def test_it_issues_a_token_shown_once_that_works_on_the_api(self) -> None:
        self.client.force_login(self.uma)
        response = self.issue(scope="read")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Cache-Control"], "no-store")
        raw = response.context["raw"]
        self.assertContains(response, raw)
        token = ApiToken.objects.get()
        self.assertEqual((token.organization_id, token.user_id, token.scope), (self.unit.pk, self.bob.pk, "read"))
        self.assertNotContains(self.client.get(LIST), raw)  # never again
        api = self.client_class()
        self.assertEqual(api.get("/api/v1/incidents/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code, 200)
        entry = AuditEntry.objects.get(action="token.issue")
        self.assertEqual(entry.actor_id, self.uma.pk)
        self.assertNotIn(raw, str(entry.after))
        self.assertIn(token.prefix, entry.summary)
        token.refresh_from_db()
        self.assertContains(self.client.get(LIST), token.last_used_at.astimezone().strftime("%Y-%m-%d %H:%M"))

    def test_bad_input_names_the_field(self) -> None:
        self.client.force_login(self.uma)
        past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        cases = [
            ({"name": ""}, "name"),
            ({"user": self.charlie.pk}, "user"),  # not a person of this unit: not even offered
            ({"expires_at": past}, "过期时间须晚于当前时间"),
            ({"rate_limit_per_minute": 100000}, "每分钟请求上限须在"),
        ]
        for data, message in cases:
            with self.subTest(data=data):
                response = self.issue(**data)
                self.assertEqual(response.status_code, 400)
                if message not in ("name", "user"):
                    self.assertContains(response, message, status_code=400)
                else:
                    self.assertIn(message, response.context["form"].errors)
        self.assertFalse(ApiToken.objects.exists())

    def test_it_revokes_and_the_token_stops_working(self) -> None:
        token, raw = api_token_issue(organization=self.unit, name="x", user=self.bob, scope="read")
        self.client.force_login(self.uma)
        response = self.client.post(reverse("unit_tokens:revoke", args=[token.pk]))
        self.assertRedirects(response, LIST)
        api = self.client_class()
        self.assertEqual(api.get("/api/v1/incidents/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code, 401)
        self.assertEqual(AuditEntry.objects.get(action="token.revoke").target_id, str(token.pk))

    def test_another_units_administrator_reaches_nothing(self) -> None:
        token, _raw = api_token_issue(organization=self.unit, name="x", user=self.bob, scope="read")
        self.client.force_login(self.carl)
        self.assertNotContains(self.client.get(LIST), "oo_" + token.prefix)
        self.assertEqual(self.client.post(reverse("unit_tokens:revoke", args=[token.pk])).status_code, 404)
        response = self.client.post(LIST, {"name": "x", "user": self.alice.pk, "scope": "write"})
        self.assertEqual(response.status_code, 400)  # A's leader is not a person of carl's unit
        with self.assertRaises(NotPermitted):  # nor by the service, whatever a form offers
            api_token_issue(organization=self.unit, name="x", user=self.alice, scope="write", actor=self.carl)
        self.assertEqual(ApiToken.objects.count(), 1)
        self.assertIsNone(ApiToken.objects.get().revoked_at)

    def test_only_administrators_open_it(self) -> None:
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get(LIST).status_code, 403)
        self.assertEqual(self.issue().status_code, 403)

    @override_settings(TWO_FACTOR_REQUIRED=True, STEP_UP_WINDOW_SECONDS=600)
    def test_issuing_asks_for_a_fresh_second_factor(self) -> None:
        from accounts.testing import authenticator_bind, sign_in_verified

        start = timezone.now()
        with time_machine.travel(start, tick=False):
            device, _codes = authenticator_bind(self.uma)
        with time_machine.travel(start + timedelta(seconds=31), tick=False):
            sign_in_verified(self.client, self.uma, device)
            self.assertEqual(self.issue(name="新鲜").status_code, 200)
        with time_machine.travel(start + timedelta(hours=1), tick=False):
            response = self.issue(name="过时")
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("second_factor_verify"), response["Location"])
        self.assertEqual(list(ApiToken.objects.values_list("name", flat=True)), ["新鲜"])
