"""Numbers in URLs beyond what the database stores get a clear error, on SQLite as on PostgreSQL."""

from django.urls import reverse

from integrations.tokens import api_token_issue
from opinion_ops.testing import BaseTestCase

HUGE = "-3.4299907056302776e+114"


class NumberBoundTests(BaseTestCase):
    def test_the_api_answers_a_huge_id_filter_with_a_field_error(self) -> None:
        _token, raw = api_token_issue(organization=self.unit, name="t", user=self.alice, scope="read")
        for url in ["/api/v1/assessments/", "/api/v1/incidents/", "/api/v1/mentions/"]:
            with self.subTest(url=url):
                param = "incident" if "incidents" not in url else "level"
                response = self.client.get(url, {param: HUGE}, HTTP_AUTHORIZATION=f"Bearer {raw}")
                self.assertEqual(response.status_code, 400)
                self.assertIn(param, response.json()["error"]["fields"])
                response = self.client.get(url, {param: str(2**70)}, HTTP_AUTHORIZATION=f"Bearer {raw}")
                self.assertEqual(response.status_code, 400)

    def test_the_incident_list_page_survives_a_huge_number(self) -> None:
        self.log_incident(title="可见的舆情")
        self.client.force_login(self.alice)
        for value in [HUGE, str(2**70), "abc"]:
            with self.subTest(value=value):
                response = self.client.get(reverse("incident_list"), {"level": value, "group": value})
                self.assertEqual(response.status_code, 200)
