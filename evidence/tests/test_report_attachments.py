"""The old report attachments (incidents.ReportAttachment) become evidence of their report: the same
bytes under a random name, hashed, typed by content, the old name kept; a missing file is skipped;
running the move again moves nothing twice."""

import hashlib
import importlib

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from evidence.models import Evidence
from evidence.testing import PDF, image_bytes, temporary_media
from incidents.models import ReportAttachment
from incidents.services.records import report_record
from opinion_ops.testing import BaseTestCase

move = importlib.import_module("evidence.migrations.0003_move_report_attachments").move


@temporary_media
class ReportAttachmentMoveTests(BaseTestCase):
    def test_it_moves_each_attachment_with_its_bytes_and_digest(self) -> None:
        incident = self.log_incident()
        report = report_record(
            incident_id=incident.pk, actor=self.olga, kind="oral", reported_to="周组长",
            occurred_at=timezone.now(), summary="电话报告",
        )  # fmt: skip
        png = image_bytes("PNG")
        old_pdf = ReportAttachment(report=report)
        old_pdf.file.save("领导批示.pdf", ContentFile(PDF), save=True)
        old_png = ReportAttachment(report=report)
        old_png.file.save("截图.png", ContentFile(png), save=True)
        lost = ReportAttachment.objects.create(report=report, file="reports/0/0/不见了.pdf")

        move(apps, None)
        move(apps, None)  # again: nothing twice

        moved = {e.original_name: e for e in Evidence.objects.filter(report=report)}
        self.assertEqual(set(moved), {"领导批示.pdf", "截图.png"})
        pdf = moved["领导批示.pdf"]
        self.assertEqual((pdf.incident, pdf.kind, pdf.size, pdf.uploaded_by), (incident, "pdf", len(PDF), None))
        self.assertEqual(pdf.sha256, hashlib.sha256(PDF).hexdigest())
        self.assertEqual(pdf.legacy_source, f"incidents.ReportAttachment:{old_pdf.pk}")
        self.assertNotIn("领导批示", pdf.stored_name)
        with default_storage.open(moved["截图.png"].stored_name, "rb") as stored:
            self.assertEqual(stored.read(), png)
        self.assertEqual(moved["截图.png"].kind, "png")
        self.assertTrue(default_storage.exists(old_pdf.file.name))  # the old file is left for the old model
        self.assertFalse(Evidence.objects.filter(legacy_source=f"incidents.ReportAttachment:{lost.pk}").exists())

    def test_moved_evidence_shows_on_the_incident_page(self) -> None:
        incident = self.log_incident()
        report = report_record(
            incident_id=incident.pk, actor=self.olga, kind="oral", reported_to="周组长",
            occurred_at=timezone.now(), summary="电话报告",
        )  # fmt: skip
        ReportAttachment(report=report).file.save("批示.pdf", ContentFile(PDF), save=True)
        move(apps, None)
        self.client.force_login(self.bob)
        page = self.client.get(f"/incidents/{incident.pk}/")
        self.assertContains(page, "批示.pdf")
        self.assertContains(page, "迁移自原报告附件")
