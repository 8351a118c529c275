"""存证 on the incident page: a plain multipart form (no script), errors in Chinese next to the
field with what was typed kept and nothing saved, the files served only to those who may see the
incident (never as a page of this site), withdrawal with a reason, and a post's attachments in the
posts panel. The page's number of queries does not grow with the attachments."""

from typing import Any

from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evidence.models import Evidence
from evidence.services import evidence_attach, evidence_withdraw
from evidence.testing import EXE, PDF, image_bytes, jpeg_with_location, temporary_media, upload
from incidents.models import Incident, TimelineEntry
from incidents.services import incidents as incident_services
from incidents.services.records import report_record
from monitoring.services import mention_create
from opinion_ops.testing import BaseTestCase
from tests.test_security_headers import inline_code


@temporary_media
class EvidencePageTests(BaseTestCase):
    incident: Incident

    def setUp(self) -> None:
        super().setUp()
        self.incident = self.log_incident(title="网传某校体罚学生视频")
        self.page = reverse("incident_detail", args=[self.incident.pk])
        self.upload_url = reverse("evidence:upload", args=[self.incident.pk])

    def client_of(self, user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def post_file(self, client: Client, name: str, data: bytes, **fields: str) -> Any:
        body = {
            "evidence-target": "incident",
            "evidence-description": "",
            **fields,
            "evidence-file": upload(name, data),
        }
        return client.post(self.upload_url, body)

    def test_a_monitor_uploads_a_screenshot_and_sees_it_with_its_sha256_and_thumbnail(self) -> None:
        client = self.client_of(self.bob)
        page = client.get(self.page)
        self.assertContains(page, "上传证据")
        self.assertNotContains(page, 'enctype="multipart/form-data"')  # fetched when the section is opened
        self.assertContains(client.get(self.upload_url, HTTP_HX_REQUEST="true"), 'enctype="multipart/form-data"')
        # Without script, the link in the closed section opens the page with the form drawn.
        self.assertRedirects(
            client.get(self.upload_url), self.page + "?panel=evidence#act-evidence", fetch_redirect_response=False
        )
        self.assertContains(client.get(self.page + "?panel=evidence"), 'id="act-evidence" open')
        response = self.post_file(client, "微博截图.png", image_bytes("PNG"), **{"evidence-description": "原帖已删"})
        self.assertRedirects(response, self.page + "#evidence", fetch_redirect_response=False)
        evidence = Evidence.objects.get(incident=self.incident)
        page = client.get(self.page)
        self.assertContains(page, "微博截图.png")
        self.assertContains(page, "原帖已删")
        self.assertContains(page, evidence.sha256)
        self.assertContains(page, reverse("evidence:thumbnail", args=[evidence.pk]))
        self.assertContains(page, "上传证据“微博截图.png”")  # the timeline entry
        self.assertEqual(inline_code(page.content.decode()), [])

    def test_a_refused_file_shows_a_chinese_error_next_to_the_field_and_keeps_what_was_typed(self) -> None:
        client = self.client_of(self.bob)
        entries = TimelineEntry.objects.count()
        response = self.post_file(client, "通报.pdf", EXE, **{"evidence-description": "网民转发的通报原件"})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "文件内容与文件名不符", status_code=400)
        self.assertContains(response, 'id="id_evidence-file_error"', status_code=400)
        self.assertContains(response, "网民转发的通报原件", status_code=400)
        self.assertContains(response, 'id="act-evidence" open', status_code=400)
        self.assertEqual((Evidence.objects.count(), TimelineEntry.objects.count()), (0, entries))

    @override_settings(EVIDENCE_MAX_BYTES=2000)
    def test_a_file_over_the_limit_is_skipped_while_read_and_said_so(self) -> None:
        response = self.post_file(
            self.client_of(self.bob), "大图.pdf", PDF + b"0" * 5000, **{"evidence-description": "很大的文件"}
        )
        self.assertContains(response, "文件过大：单个文件不能超过 2 KB，未保存。", status_code=400)
        self.assertNotContains(response, "该字段是必填项", status_code=400)
        self.assertContains(response, "很大的文件", status_code=400)
        self.assertEqual(Evidence.objects.count(), 0)

    def test_the_same_file_twice_is_refused_on_the_page(self) -> None:
        client = self.client_of(self.bob)
        self.post_file(client, "截图.png", image_bytes("PNG"))
        response = self.post_file(client, "截图副本.png", image_bytes("PNG"))
        self.assertContains(response, "SHA-256 相同", status_code=400)
        self.assertEqual(Evidence.objects.count(), 1)

    def test_the_form_is_drawn_only_for_those_who_may_attach(self) -> None:
        self.assertContains(self.client_of(self.lee).get(self.page), self.upload_url)
        self.assertNotContains(self.client_of(self.nina).get(self.page), self.upload_url)
        fetched = self.client_of(self.nina).get(self.upload_url, HTTP_HX_REQUEST="true")
        self.assertEqual(fetched.status_code, 403)
        self.assertNotContains(fetched, 'enctype="multipart/form-data"', status_code=403)
        response = self.post_file(self.client_of(self.nina), "a.pdf", PDF)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(Evidence.objects.count(), 0)

    def test_a_post_without_the_csrf_token_is_refused(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.bob)
        self.assertEqual(self.post_file(client, "a.pdf", PDF).status_code, 403)
        self.assertEqual(Evidence.objects.count(), 0)

    def test_it_attaches_to_a_report_and_the_post_shows_its_screenshot(self) -> None:
        report = report_record(
            incident_id=self.incident.pk, actor=self.olga, kind="oral", reported_to="周组长",
            occurred_at=timezone.now(), summary="电话报告",
        )  # fmt: skip
        mention = mention_create(actor=self.bob, platform="weibo", text="某校体罚视频", incident=self.incident)
        client = self.client_of(self.bob)
        page = client.get(self.upload_url, HTTP_HX_REQUEST="true")  # the form, as the opened section fetches it
        self.assertContains(page, f'value="report-{report.pk}"')
        local = timezone.localtime(report.occurred_at).strftime("%m-%d %H:%M")  # the report's time as read in Shanghai
        self.assertContains(page, f"向周组长报告 · {local}")
        self.assertContains(page, f'value="mention-{mention.pk}"')
        self.post_file(client, "报告原件.pdf", PDF, **{"evidence-target": f"report-{report.pk}"})
        self.post_file(client, "帖文截图.png", image_bytes("PNG"), **{"evidence-target": f"mention-{mention.pk}"})
        self.assertEqual(Evidence.objects.get(original_name="报告原件.pdf").report, report)
        on_post = Evidence.objects.get(original_name="帖文截图.png")
        self.assertEqual(on_post.mention, mention)
        page = client.get(self.page).content.decode()
        posts = page[page.index('id="mentions"') : page.index("</section>", page.index('id="mentions"'))]
        self.assertIn("帖文截图.png", posts)
        self.assertIn(reverse("evidence:thumbnail", args=[on_post.pk]), posts)

    def test_files_are_served_as_downloads_only_to_those_who_see_the_incident(self) -> None:
        evidence = evidence_attach(
            incident_id=self.incident.pk, actor=self.bob, file=upload("现场照片.jpg", jpeg_with_location())
        )
        download = reverse("evidence:download", args=[evidence.pk])
        thumbnail = reverse("evidence:thumbnail", args=[evidence.pk])
        response = self.client_of(self.hank).get(download)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), jpeg_with_location())
        self.assertTrue(response["Content-Disposition"].startswith("attachment;"))
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertIn("sandbox", response["Content-Security-Policy"])
        self.assertEqual(response["Content-Type"], "image/jpeg")
        shown = self.client_of(self.hank).get(thumbnail)
        self.assertTrue(shown["Content-Disposition"].startswith("inline;"))
        self.assertIn("sandbox", shown["Content-Security-Policy"])
        for user in (self.charlie, self.carl, self.sam):  # another unit; the superior before escalation
            for url in (download, thumbnail):
                with self.subTest(user=user.username, url=url):
                    self.assertEqual(self.client_of(user).get(url).status_code, 404)
        self.assertEqual(Client().get(download).status_code, 302)
        incident_services.incident_escalate(incident_id=self.incident.pk, actor=self.alice, note="报")
        self.assertEqual(self.client_of(self.sam).get(download).status_code, 200)
        page = self.client_of(self.sam).get(self.page)
        self.assertContains(page, "现场照片.jpg")
        self.assertNotContains(page, self.upload_url)
        self.assertNotContains(page, reverse("evidence:withdraw", args=[evidence.pk]))

    def test_media_files_have_no_public_url(self) -> None:
        evidence = evidence_attach(incident_id=self.incident.pk, actor=self.bob, file=upload("a.pdf", PDF))
        for url in (f"/media/{evidence.stored_name}", f"/{evidence.stored_name}"):
            self.assertEqual(self.client_of(self.bob).get(url).status_code, 404)

    def test_the_uploader_withdraws_with_a_reason_and_it_stays_marked(self) -> None:
        evidence = evidence_attach(incident_id=self.incident.pk, actor=self.bob, file=upload("截图.png", image_bytes()))
        url = reverse("evidence:withdraw", args=[evidence.pk])
        client = self.client_of(self.bob)
        self.assertContains(client.get(self.page), url)
        self.assertNotContains(self.client_of(self.ann).get(self.page), url)
        empty = client.post(url, {f"withdraw-{evidence.pk}-reason": ""})
        self.assertContains(empty, "该字段是必填项。", status_code=400)
        self.assertFalse(Evidence.objects.get(pk=evidence.pk).is_withdrawn)
        self.assertEqual(self.client_of(self.ann).post(url, {f"withdraw-{evidence.pk}-reason": "x"}).status_code, 403)
        response = client.post(url, {f"withdraw-{evidence.pk}-reason": "截错了帖子"})
        self.assertRedirects(response, self.page + "#evidence", fetch_redirect_response=False)
        page = client.get(self.page)
        self.assertContains(page, 'data-testid="evidence-withdrawn"')
        self.assertContains(page, "截错了帖子")
        self.assertNotContains(page, url)
        self.assertEqual(
            self.client_of(self.charlie).post(url, {f"withdraw-{evidence.pk}-reason": "x"}).status_code, 404
        )

    def test_the_incident_page_does_a_fixed_number_of_queries_whatever_the_attachments(self) -> None:
        mention = mention_create(actor=self.bob, platform="weibo", text="帖子", incident=self.incident)

        def add(i: int) -> None:
            first = evidence_attach(
                incident_id=self.incident.pk, actor=self.bob, file=upload(f"图{i}.png", image_bytes(color=(i, 0, 0)))
            )
            evidence_attach(
                incident_id=self.incident.pk, actor=self.bob, file=upload(f"文{i}.txt", f"第{i}份".encode())
            )
            evidence_attach(
                incident_id=self.incident.pk, actor=self.bob, mention_id=mention.pk,
                file=upload(f"帖{i}.png", image_bytes(color=(0, i, 0))),
            )  # fmt: skip
            evidence_withdraw(evidence_id=first.pk, actor=self.bob, reason="重复")

        add(1)
        client = self.client_of(self.bob)
        with CaptureQueriesContext(connection) as few:
            client.get(self.page)
        for i in range(2, 6):
            add(i)
        with self.assertNumQueries(len(few.captured_queries)):
            page = client.get(self.page)
        self.assertContains(page, "帖5.png")
