"""Test helpers for the API: the shared named users, plus tokens and an authenticated client."""

from typing import Any

from django.core.cache import cache
from rest_framework.test import APIClient

from integrations.models import ApiToken
from integrations.tokens import api_token_issue
from opinion_ops.testing import BaseTestCase


class ApiTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()  # rate-limit counters must not leak between tests

    def token(self, user: Any, scope: str = ApiToken.Scope.WRITE, **kwargs: Any) -> tuple[ApiToken, str]:
        from organizations.models import Membership

        organization = Membership.objects.get(user=user).organization
        return api_token_issue(
            organization=organization, name=f"{user.username}-{scope}", user=user, scope=scope, **kwargs
        )

    def client_for(self, user: Any, scope: str = ApiToken.Scope.WRITE, **kwargs: Any) -> APIClient:
        _token, raw = self.token(user, scope, **kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    def session_client(self, user: Any) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    def assertError(self, response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
        self.assertEqual(response.status_code, status, response.content[:500])
        body = response.json()
        self.assertEqual(set(body), {"error"})
        self.assertEqual(body["error"]["code"], code, body)
        self.assertTrue(body["error"]["message"])
        if field is not None:
            self.assertIn(field, body["error"].get("fields", {}), body)
        return body["error"]  # type: ignore[no-any-return]
