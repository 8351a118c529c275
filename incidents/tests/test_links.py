"""Links people store (source links, measures, published statements, posts) are checked by one
function: http or https with a host. Before, the API stored `javascript:` links in source_links,
which the incident page then offered as clickable links."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from incidents.services.incidents import incident_update
from integrations.testing import ApiTestCase
from opinion_ops.errors import DomainError

BAD_LINKS = ["javascript:alert(document.cookie)", "data:text/html,<script>x</script>", "file:///etc/passwd", "//x.cn"]


class SourceLinkTests(ApiTestCase):
    def body(self, links: str) -> dict[str, str]:
        discovered = (timezone.now() - timedelta(minutes=3)).isoformat()
        return {"title": "网传某校收费不规范", "discovered_at": discovered, "source_links": links}

    def test_the_api_refuses_links_a_browser_would_run(self) -> None:
        client = self.client_for(self.bob)
        for link in BAD_LINKS:
            with self.subTest(link=link):
                body = self.body(f"https://weibo.com/1\n{link}")
                self.assertError(client.post("/api/v1/incidents/", body), 400, "invalid", field="source_links")
        self.assertFalse(Incident.objects.exists())
        response = client.post("/api/v1/incidents/", self.body(" https://weibo.com/1 \n\nhttp://tieba.baidu.com/p/2 "))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["source_links"], "https://weibo.com/1\nhttp://tieba.baidu.com/p/2")

    def test_an_edit_is_checked_the_same_way(self) -> None:
        incident = self.log_incident()
        with self.assertRaisesMessage(DomainError, "链接须以 http:// 或 https:// 开头") as caught:
            incident_update(incident_id=incident.pk, actor=self.bob, source_links="javascript:alert(1)")
        self.assertEqual(caught.exception.field, "source_links")
        incident.refresh_from_db()
        self.assertEqual(incident.source_links, "")

    def test_the_page_names_the_field(self) -> None:
        self.client.force_login(self.bob)
        response = self.client.post(
            reverse("incident_new"),
            {
                "title": "网传某校收费不规范",
                "platform": "weibo",
                "discovered_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "source_links": "javascript:alert(1)",
            },
        )
        self.assertContains(response, "链接须以 http:// 或 https:// 开头", status_code=400)
        self.assertFalse(Incident.objects.exists())


class RecordLinkTests(ApiTestCase):
    def test_measures_and_posts_refuse_links_a_browser_would_run(self) -> None:
        from incidents.services import incidents as svc
        from incidents.services.records import measure_record
        from monitoring.models import Mention

        incident = self.log_incident(minutes_ago=30)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="n", scope="s", trend="rising", risk="low"
        )
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level3)
        with self.assertRaisesMessage(DomainError, "链接须以 http:// 或 https:// 开头") as caught:
            measure_record(
                incident_id=incident.pk,
                actor=self.hank,
                kind="reply",
                description="已答复",
                taken_at=timezone.now(),
                url="javascript:alert(1)",
            )
        self.assertEqual(caught.exception.field, "url")
        body = {"platform": "weibo", "text": "网帖", "url": "javascript:alert(1)"}
        self.assertError(self.client_for(self.bob).post("/api/v1/mentions/", body), 400, "invalid", field="url")
        self.assertFalse(Mention.objects.exists())
