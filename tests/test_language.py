"""Chinese first: an English browser still gets Chinese pages until the user switches."""

from opinion_ops.testing import BaseTestCase


class LanguageTests(BaseTestCase):
    def test_it_serves_chinese_to_an_english_browser(self) -> None:
        response = self.client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        self.assertContains(response, "登录")
        self.assertContains(response, 'lang="zh-hans"')

    def test_the_language_switch_turns_english_on(self) -> None:
        self.client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
        response = self.client.get("/accounts/login/")
        self.assertContains(response, 'lang="en"')
        self.assertContains(response, "Log in")

    def test_api_clients_may_ask_for_english_errors(self) -> None:
        english = self.client.get("/api/v1/incidents/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(english.status_code, 401)
        self.assertEqual(english.json()["error"]["message"], "Authentication credentials were not provided.")
        chinese = self.client.get("/api/v1/incidents/")
        self.assertEqual(chinese.json()["error"]["message"], "身份认证信息未提供。")
