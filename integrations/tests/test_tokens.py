"""API tokens: hashed, scoped, revocable, expiring, rate-limited; sessions work too."""

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.models import Incident
from integrations.models import ApiToken
from integrations.testing import ApiTestCase
from integrations.tokens import api_token_revoke, token_hash
from organizations.models import Membership

LIST = "/api/v1/incidents/"
BODY = {"title": "网传某校收费", "discovered_at": (timezone.now() - timedelta(hours=1)).isoformat()}


class TokenTests(ApiTestCase):
    def bearer(self, raw: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    def test_it_stores_only_a_hash_of_the_secret(self) -> None:
        token, raw = self.token(self.bob)
        self.assertEqual(token.token_hash, token_hash(raw))
        self.assertFalse(ApiToken.objects.filter(token_hash=raw).exists())
        self.assertNotIn(raw.split("_", 2)[2], str(list(ApiToken.objects.values())))

    def test_it_acts_as_the_integration_user_and_records_last_use(self) -> None:
        token, raw = self.token(self.bob)
        self.assertIsNone(token.last_used_at)
        response = self.bearer(raw).post(LIST, BODY)
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Incident.objects.get().reporter, self.bob)
        self.assertIsNotNone(ApiToken.objects.get(pk=token.pk).last_used_at)

    def test_it_refuses_unknown_revoked_and_expired_tokens_with_401(self) -> None:
        self.assertError(self.bearer("oo_nope_nope").get(LIST), 401, "token_invalid")
        self.assertError(self.bearer("garbage").get(LIST), 401, "token_invalid")
        token, raw = self.token(self.bob)
        self.assertEqual(self.bearer(raw).get(LIST).status_code, 200)
        api_token_revoke(token_id=token.pk)
        response = self.bearer(raw).get(LIST)
        self.assertError(response, 401, "token_revoked")
        self.assertIn("Bearer", response["WWW-Authenticate"])
        token, raw = self.token(self.bob, expires_at=timezone.now() + timedelta(minutes=1))
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        self.assertError(self.bearer(raw).get(LIST), 401, "token_expired")
        self.assertError(APIClient().get(LIST), 401, "not_authenticated")

    def test_it_refuses_a_token_whose_user_left_the_unit(self) -> None:
        _token, raw = self.token(self.bob)
        Membership.objects.filter(user=self.bob).update(organization=self.other_unit)
        self.assertError(self.bearer(raw).get(LIST), 401, "token_invalid")

    def test_it_limits_a_read_token_to_safe_methods(self) -> None:
        incident = self.log_incident()
        client = self.client_for(self.alice, scope="read")
        self.assertEqual(client.get(f"{LIST}{incident.pk}/").status_code, 200)
        self.assertError(client.post(LIST, BODY), 403, "token_scope")
        self.assertError(client.post(f"{LIST}{incident.pk}/escalate/", {}), 403, "token_scope")
        self.assertIsNone(Incident.objects.get(pk=incident.pk).escalated_at)

    def test_it_limits_an_ingest_token_to_creating(self) -> None:
        client = self.client_for(self.bob, scope="ingest")
        self.assertEqual(client.post(LIST, BODY).status_code, 201)
        incident = Incident.objects.get()
        self.assertError(client.get(LIST), 403, "token_scope")
        self.assertError(client.patch(f"{LIST}{incident.pk}/", {"title": "x"}), 403, "token_scope")

    def test_it_still_applies_the_users_roles_to_a_write_token(self) -> None:
        incident = self.log_incident()
        client = self.client_for(self.bob, scope="write")
        self.assertError(client.post(f"{LIST}{incident.pk}/start-assessment/", {}), 403, "permission_denied")

    def test_it_answers_429_with_retry_after_when_a_token_exceeds_its_limit(self) -> None:
        client = self.client_for(self.bob, rate_limit_per_minute=2)
        other = self.client_for(self.bob)
        self.assertEqual([client.get(LIST).status_code for _ in range(2)], [200, 200])
        response = client.get(LIST)
        self.assertError(response, 429, "rate_limited")
        self.assertTrue(int(response["Retry-After"]) >= 1)
        self.assertEqual(other.get(LIST).status_code, 200)  # limits are per token

    def test_it_accepts_the_browser_session_and_checks_csrf_for_it(self) -> None:
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(self.bob)
        self.assertEqual(client.get(LIST).status_code, 200)
        self.assertError(client.post(LIST, BODY), 403, "permission_denied")
        self.assertFalse(Incident.objects.exists())

    def test_it_answers_in_the_callers_language(self) -> None:
        zh = APIClient().get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["error"]["message"]
        en = APIClient().get(LIST, HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"]
        self.assertEqual(en, "Authentication credentials were not provided.")
        self.assertNotEqual(zh, en)


@override_settings(ROOT_URLCONF="opinion_ops.urls")
class TokenAdminTests(ApiTestCase):
    def test_it_shows_the_secret_once_when_an_admin_issues_a_token(self) -> None:
        admin = self.fresh(self.alice)
        admin.is_staff = admin.is_superuser = True
        admin.save()
        self.client.force_login(admin)
        response = self.client.post(
            "/admin/integrations/apitoken/add/",
            {"organization": self.unit.pk, "name": "舆情监测系统", "user": self.bob.pk, "scope": "ingest"},
            follow=True,
        )
        self.assertEqual(response.status_code, 200)
        token = ApiToken.objects.get()
        shown = [str(m) for m in response.context["messages"] if "oo_" in str(m)]
        self.assertEqual(len(shown), 1)
        raw = shown[0][shown[0].index("oo_") :].strip()
        self.assertEqual(token_hash(raw), token.token_hash)
        page = self.client.get(f"/admin/integrations/apitoken/{token.pk}/change/")
        self.assertNotContains(page, raw)
        self.client.post(
            "/admin/integrations/apitoken/",
            {"action": "revoke", "_selected_action": [token.pk]},
        )
        self.assertIsNotNone(ApiToken.objects.get().revoked_at)

    def test_it_refuses_an_integration_user_of_another_unit(self) -> None:
        admin = self.fresh(self.alice)
        admin.is_staff = admin.is_superuser = True
        admin.save()
        self.client.force_login(admin)
        response = self.client.post(
            "/admin/integrations/apitoken/add/",
            {"organization": self.unit.pk, "name": "x", "user": self.charlie.pk, "scope": "read"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(ApiToken.objects.exists())
