"""存证 over the API: list, upload (multipart) with structured Chinese errors on the file field,
withdraw, download with the page's visibility check; another unit's ids read as "not found"."""

import hashlib
from typing import Any

from django.test import override_settings
from django.utils import timezone

from evidence.models import Evidence
from evidence.services import evidence_attach
from evidence.testing import EXE, PDF, image_bytes, temporary_media, upload
from incidents.models import Incident, TimelineEntry
from incidents.services import incidents as incident_services
from incidents.services.records import report_record
from integrations.testing import ApiTestCase

LIST = "/api/v1/evidence/"


@temporary_media
class EvidenceApiTests(ApiTestCase):
    incident: Incident

    def setUp(self) -> None:
        super().setUp()
        self.incident = self.log_incident(title="网传某校体罚学生视频")

    def post(self, client: Any, name: str, data: bytes, **fields: Any) -> Any:
        body = {"incident": self.incident.pk, "file": upload(name, data), **fields}
        return client.post(LIST, body, format="multipart")

    def test_it_uploads_lists_and_downloads(self) -> None:
        client = self.client_for(self.bob)
        data = image_bytes("PNG")
        response = self.post(client, "微博截图.png", data, description="原帖已删")
        self.assertEqual(response.status_code, 201, response.content[:300])
        body = response.json()
        self.assertEqual(body["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual((body["kind"], body["size"], body["uploaded_by"]), ("png", len(data), self.bob.pk))
        self.assertEqual((body["withdrawn"], body["withdrawal"]), (False, None))
        listed = client.get(LIST, {"incident": self.incident.pk}).json()
        self.assertEqual([row["original_name"] for row in listed["results"]], ["微博截图.png"])
        download = client.get(body["download_url"])
        self.assertEqual(download.status_code, 200)
        self.assertEqual(b"".join(download.streaming_content), data)
        self.assertTrue(download["Content-Disposition"].startswith("attachment;"))
        self.assertEqual(download["X-Content-Type-Options"], "nosniff")
        self.assertIn("sandbox", download["Content-Security-Policy"])

    def test_refusals_are_structured_errors_on_the_file_field_and_save_nothing(self) -> None:
        client = self.client_for(self.bob)
        entries = TimelineEntry.objects.count()
        mismatch = self.post(client, "通报.pdf", EXE)
        error = self.assertError(mismatch, 400, "invalid", "file")
        self.assertIn("文件内容与文件名不符", error["fields"]["file"][0])
        forbidden = self.assertError(self.post(client, "网页.html", b"<html></html>"), 400, "invalid", "file")
        self.assertIn("不接受", forbidden["message"])
        self.post(client, "通报.pdf", PDF)
        duplicate = self.assertError(self.post(client, "通报副本.pdf", PDF), 400, "duplicate", "file")
        self.assertIn("SHA-256 相同", duplicate["message"])
        self.assertEqual(Evidence.objects.count(), 1)
        self.assertEqual(TimelineEntry.objects.count(), entries + 1)
        as_json = client.post(LIST, {"incident": self.incident.pk}, format="json")
        self.assertError(as_json, 415, "unsupported_media_type")

    @override_settings(EVIDENCE_MAX_BYTES=2000)
    def test_a_file_over_the_limit_is_answered_413(self) -> None:
        response = self.post(self.client_for(self.bob), "大文件.pdf", PDF + b"0" * 5000)
        error = self.assertError(response, 413, "file_too_large", "file")
        self.assertIn("2 KB", error["message"])
        self.assertEqual(Evidence.objects.count(), 0)

    def test_the_rule_is_asked_and_listed(self) -> None:
        self.assertError(self.post(self.client_for(self.nina), "a.pdf", PDF), 403, "permission_denied")
        detail = self.client_for(self.bob, scope="read").get(f"/api/v1/incidents/{self.incident.pk}/").json()
        self.assertIn("attach_evidence", detail["available_actions"])
        self.assertNotIn(
            "attach_evidence",
            self.client_for(self.nina, scope="read")
            .get(f"/api/v1/incidents/{self.incident.pk}/")
            .json()["available_actions"],
        )

    def test_it_withdraws_with_a_reason(self) -> None:
        evidence = evidence_attach(incident_id=self.incident.pk, actor=self.bob, file=upload("a.pdf", PDF))
        url = f"{LIST}{evidence.pk}/withdraw/"
        client = self.client_for(self.bob)
        self.assertError(client.post(url, {"reason": ""}, format="json"), 400, "invalid", "reason")
        self.assertError(self.client_for(self.ann).post(url, {"reason": "x"}, format="json"), 403, "permission_denied")
        body = client.post(url, {"reason": "附错了"}, format="json").json()
        self.assertEqual((body["withdrawn"], body["withdrawal"]["reason"]), (True, "附错了"))
        self.assertError(client.post(url, {"reason": "再撤"}, format="json"), 409, "invalid_transition")

    def test_another_units_ids_read_as_not_found(self) -> None:
        evidence = evidence_attach(incident_id=self.incident.pk, actor=self.bob, file=upload("甲.pdf", PDF))
        charlie = self.client_for(self.charlie)
        for path in ("{}{}/", "{}{}/download/"):
            with self.subTest(path=path):
                ours, none = charlie.get(path.format(LIST, evidence.pk)), charlie.get(path.format(LIST, 987654))
                self.assertEqual((ours.status_code, none.status_code), (404, 404))
                self.assertEqual(ours.json(), none.json())
        self.assertEqual(charlie.get(LIST, {"incident": self.incident.pk}).json()["results"], [])
        own = self.log_incident(self.charlie, title="邻区舆情")
        report = report_record(
            incident_id=self.incident.pk, actor=self.olga, kind="oral", reported_to="周组长",
            occurred_at=timezone.now(), summary="电话报告",
        )  # fmt: skip
        smuggled = [
            ({"incident": self.incident.pk}, {"incident": 987654}),
            ({"incident": own.pk, "report": report.pk}, {"incident": own.pk, "report": 987654}),
        ]
        for ours_fields, none_fields in smuggled:
            with self.subTest(fields=ours_fields):
                ours = charlie.post(LIST, {"file": upload("x.pdf", PDF), **ours_fields}, format="multipart")
                none = charlie.post(LIST, {"file": upload("x.pdf", PDF), **none_fields}, format="multipart")
                self.assertEqual(ours.status_code, 400)
                ours_body = ours.content.decode().replace(str(self.incident.pk), "N").replace(str(report.pk), "N")
                self.assertEqual(ours_body, none.content.decode().replace("987654", "N"))
        self.assertEqual(Evidence.objects.count(), 1)

    def test_the_superior_downloads_an_escalated_incidents_evidence_but_cannot_upload(self) -> None:
        evidence = evidence_attach(incident_id=self.incident.pk, actor=self.bob, file=upload("a.pdf", PDF))
        sam = self.client_for(self.sam)
        self.assertEqual(sam.get(f"{LIST}{evidence.pk}/download/").status_code, 404)
        incident_services.incident_escalate(incident_id=self.incident.pk, actor=self.alice, note="报")
        self.assertEqual(sam.get(f"{LIST}{evidence.pk}/download/").status_code, 200)
        self.assertError(self.post(sam, "b.pdf", PDF + b" "), 403, "permission_denied")
