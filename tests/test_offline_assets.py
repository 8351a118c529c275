"""Pages load nothing from the internet: many of our users' intranets have none."""

import re

from django.urls import reverse

from opinion_ops.testing import BaseTestCase

EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


class OfflineAssetTests(BaseTestCase):
    def test_no_page_loads_an_asset_from_another_host(self) -> None:
        incident = self.log_incident()
        self.client.force_login(self.alice)
        pages = [
            reverse("home"),
            reverse("incident_list"),
            reverse("incident_new"),
            reverse("incident_detail", args=[incident.pk]),
            "/notifications/",
            "/api/v1/docs/",
            "/api/v1/redoc/",
        ]
        for url in pages:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                html = response.content.decode()
                # Links a user clicks (source links of an incident) are fine; assets are not.
                assets = [m for m in re.findall(r"<(?:script|link|img)[^>]+>", html) if EXTERNAL.search(m)]
                self.assertEqual(assets, [], url)

    def test_the_admin_loads_nothing_from_another_host(self) -> None:
        from django.contrib.auth import get_user_model

        self.client.force_login(get_user_model().objects.create_superuser("root", password="x"))
        html = self.client.get("/admin/incidents/emergencyplan/").content.decode()
        self.assertEqual([m for m in re.findall(r"<(?:script|link|img)[^>]+>", html) if EXTERNAL.search(m)], [])


class VendoredRedocTests(BaseTestCase):
    def test_the_api_docs_page_runs_the_vendored_redoc_that_asks_nothing_of_the_internet(self) -> None:
        """Before, Redoc's side menu requested its logo from cdn.redoc.ly on every visit."""
        from django.contrib.staticfiles import finders

        self.client.force_login(self.alice)
        html = self.client.get("/api/v1/redoc/").content.decode()
        self.assertIn("/static/vendor/redoc/redoc.standalone.js", html)
        bundle = finders.find("vendor/redoc/redoc.standalone.js")
        with open(bundle, encoding="utf-8") as source:
            code = source.read()
        self.assertFalse("cdn.redoc.ly" in code, "the bundle still asks cdn.redoc.ly for a logo")
        self.assertFalse(re.search(r"^//# sourceMappingURL=", code, re.MULTILINE), "a source map nobody ships")
