"""存证 through the service: what is kept (type by content, size, uploader, time, SHA-256, the bytes
themselves), what is refused with a Chinese message on the file field, and that a refusal leaves
nothing behind; withdrawal keeps the attachment in the record; both join the hash-chained record."""

import hashlib
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone
from PIL import Image

from evidence.models import Evidence, EvidenceWithdrawal
from evidence.services import evidence_attach, evidence_withdraw
from evidence.testing import (
    EXE,
    HTML,
    PDF,
    SVG,
    docx_bytes,
    image_bytes,
    jpeg_with_location,
    temporary_media,
    upload,
    xlsx_bytes,
    zip_bytes,
)
from incidents.integrity import incident_record_verify
from incidents.models import Incident, TimelineEntry
from incidents.services import incidents as incident_services
from incidents.services.records import report_record
from monitoring.services import mention_create
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted
from opinion_ops.testing import BaseTestCase


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file())


@temporary_media
class EvidenceTestCase(BaseTestCase):
    incident: Incident

    def setUp(self) -> None:
        super().setUp()
        self.incident = self.log_incident(title="网传某校体罚学生视频")

    def attach(self, name: str, data: bytes, actor: Any = None, **kwargs: Any) -> Evidence:
        return evidence_attach(incident_id=self.incident.pk, actor=actor or self.bob, file=upload(name, data), **kwargs)

    def refused(self, name: str, data: bytes, **kwargs: Any) -> DomainError:
        before = (Evidence.objects.count(), TimelineEntry.objects.count(), stored_files())
        with self.assertRaises(DomainError) as caught:
            self.attach(name, data, **kwargs)
        self.assertEqual((Evidence.objects.count(), TimelineEntry.objects.count(), stored_files()), before)
        return caught.exception


class AttachTests(EvidenceTestCase):
    def test_it_keeps_the_file_byte_for_byte_with_its_facts(self) -> None:
        data = image_bytes("PNG")
        before = timezone.now()
        evidence = self.attach("微博截图.png", data, description="原帖已删除")
        self.assertEqual(evidence.original_name, "微博截图.png")
        self.assertEqual((evidence.kind, evidence.content_type), ("png", "image/png"))
        self.assertEqual(evidence.size, len(data))
        self.assertEqual(evidence.sha256, hashlib.sha256(data).hexdigest())
        self.assertEqual(evidence.uploaded_by, self.bob)
        self.assertGreaterEqual(evidence.uploaded_at, before)
        self.assertEqual((evidence.width, evidence.height), (640, 480))
        with default_storage.open(evidence.stored_name, "rb") as stored:
            self.assertEqual(stored.read(), data)

    def test_the_stored_name_is_random_and_not_the_uploaded_name(self) -> None:
        first = self.attach("截图.png", image_bytes("PNG"))
        second = self.attach("截图.png", image_bytes("PNG", color=(1, 2, 3)))
        for evidence in (first, second):
            self.assertNotIn("截图", evidence.stored_name)
            self.assertNotIn(".png", evidence.stored_name)
            self.assertRegex(evidence.stored_name, r"^evidence/[0-9a-f]{2}/[0-9a-f]{32}$")
        self.assertNotEqual(first.stored_name, second.stored_name)

    def test_it_accepts_each_allowed_kind_judged_by_content(self) -> None:
        files = {
            "通报.pdf": (PDF, "pdf"),
            "情况说明.docx": (docx_bytes(), "docx"),
            "名单.xlsx": (xlsx_bytes(), "xlsx"),
            "照片.jpg": (image_bytes("JPEG"), "jpeg"),
            "照片2.JPEG": (image_bytes("JPEG", color=(9, 9, 9)), "jpeg"),
            "动图.gif": (image_bytes("GIF"), "gif"),
            "截图.webp": (image_bytes("WEBP"), "webp"),
            "记录.txt": ("网民留言：食堂饭菜有问题\n".encode(), "text"),
            "记录-gbk.txt": ("网民留言：学校回应\n".encode("gb18030"), "text"),
        }
        for name, (data, kind) in files.items():
            with self.subTest(name=name):
                self.assertEqual(self.attach(name, data).kind, kind)

    def test_the_upload_and_its_sha256_join_the_hash_chained_record(self) -> None:
        data = docx_bytes()
        evidence = self.attach("情况说明.docx", data)
        entry = TimelineEntry.objects.filter(incident=self.incident).order_by("-seq").first()
        assert entry is not None
        self.assertEqual(entry.details["evidence_id"], evidence.pk)
        self.assertEqual(entry.details["sha256"], hashlib.sha256(data).hexdigest())
        self.assertIn("情况说明.docx", entry.summary)
        self.assertEqual(entry.actor, self.bob)
        self.assertTrue(incident_record_verify(incident=self.incident).intact)

    def test_it_attaches_to_a_report_or_a_post_of_the_incident(self) -> None:
        report = report_record(
            incident_id=self.incident.pk,
            actor=self.olga,
            kind="oral",
            reported_to="周组长",
            occurred_at=timezone.now(),
            summary="电话报告",
        )
        mention = mention_create(actor=self.bob, platform="weibo", text="某校体罚视频", incident=self.incident)
        on_report = self.attach("报告附件.pdf", PDF, report_id=report.pk)
        on_post = self.attach("帖文截图.png", image_bytes("PNG"), mention_id=mention.pk)
        self.assertEqual((on_report.report, on_report.mention), (report, None))
        self.assertEqual((on_post.report, on_post.mention), (None, mention))
        self.assertIn("为报告", TimelineEntry.objects.get(details__evidence_id=on_report.pk).summary)
        self.assertIn("为帖文", TimelineEntry.objects.get(details__evidence_id=on_post.pk).summary)

    def test_a_report_or_post_of_another_incident_is_refused(self) -> None:
        other = self.log_incident(title="另一条舆情")
        report = report_record(
            incident_id=other.pk, actor=self.olga, kind="oral", reported_to="周组长",
            occurred_at=timezone.now(), summary="电话报告",
        )  # fmt: skip
        unlinked = mention_create(actor=self.bob, platform="weibo", text="未关联的帖子")
        self.assertEqual(self.refused("a.pdf", PDF, report_id=report.pk).field, "report")
        self.assertEqual(self.refused("a.pdf", PDF, mention_id=unlinked.pk).field, "mention")
        self.assertEqual(self.refused("a.pdf", PDF, report_id=987654).message, "本舆情没有这份报告。")


class RefusalTests(EvidenceTestCase):
    def test_a_forbidden_type_is_refused_by_its_name(self) -> None:
        for name, data in {"程序.exe": EXE, "网页.html": HTML, "图.svg": SVG, "打包.zip": zip_bytes()}.items():
            with self.subTest(name=name):
                error = self.refused(name, data)
                self.assertEqual(error.field, "file")
                self.assertIn("不接受", str(error.message))
                self.assertIn(".pdf", str(error.message))

    def test_content_that_does_not_match_its_name_is_refused(self) -> None:
        cases = {
            "通报.pdf": (EXE, "可执行程序"),
            "说明.txt": (HTML, "网页或 SVG 矢量图"),
            "截图.png": (SVG, "网页或 SVG 矢量图"),
            "情况说明.docx": (zip_bytes(), "压缩包"),
            "宏.docx": (docx_bytes("word/vbaProject.bin"), "含宏的 Office 文件"),
            "照片.jpg": (image_bytes("PNG"), "PNG 图片"),
            "名单.xlsx": (docx_bytes(), "Word 文档"),
            "记录.txt": (PDF, "PDF 文档"),
        }
        for name, (data, found) in cases.items():
            with self.subTest(name=name):
                error = self.refused(name, data)
                self.assertEqual(error.field, "file")
                self.assertIn("文件内容与文件名不符", str(error.message))
                self.assertIn(found, str(error.message))

    def test_a_damaged_image_is_refused(self) -> None:
        truncated = image_bytes("PNG")[:120]
        self.assertIn("图片已损坏", str(self.refused("截图.png", truncated).message))

    def test_an_empty_file_is_refused(self) -> None:
        self.assertIn("空的", str(self.refused("空.pdf", b"").message))

    @override_settings(EVIDENCE_MAX_BYTES=1000)
    def test_a_file_over_the_limit_is_refused_and_the_limit_named(self) -> None:
        error = self.refused("大文件.pdf", PDF + b"0" * 1000)
        self.assertEqual(error.status_code, 413)
        self.assertIn("不能超过 1000 B", str(error.message))

    @override_settings(EVIDENCE_ALLOWED_TYPES=["pdf"])
    def test_the_allowed_types_come_from_the_settings(self) -> None:
        self.assertIn("不接受“.png”文件", str(self.refused("截图.png", image_bytes("PNG")).message))
        self.assertEqual(self.attach("通报.pdf", PDF).kind, "pdf")

    def test_the_same_file_twice_on_one_incident_is_refused(self) -> None:
        data = image_bytes("PNG")
        self.attach("截图.png", data)
        error = self.refused("另存的截图.png", data)
        self.assertEqual(error.code, "duplicate")
        self.assertIn("截图.png", str(error.message))
        other = self.log_incident(title="另一条舆情")
        self.assertEqual(
            evidence_attach(incident_id=other.pk, actor=self.bob, file=upload("截图.png", data)).sha256,
            hashlib.sha256(data).hexdigest(),
        )

    def test_a_withdrawn_file_may_be_attached_again(self) -> None:
        data = PDF
        first = self.attach("通报.pdf", data)
        evidence_withdraw(evidence_id=first.pk, actor=self.bob, reason="附错了对象")
        again = self.attach("通报.pdf", data)
        self.assertNotEqual(first.pk, again.pk)

    def test_only_the_units_response_groups_may_attach_while_the_incident_is_open(self) -> None:
        files = stored_files()
        with self.assertRaises(NotPermitted):
            self.attach("a.pdf", PDF, actor=self.nina)
        with self.assertRaises(NotPermitted):
            self.attach("a.pdf", PDF, actor=self.charlie)
        incident_services.incident_escalate(incident_id=self.incident.pk, actor=self.alice, note="报")
        with self.assertRaises(NotPermitted):
            self.attach("a.pdf", PDF, actor=self.sam)  # the superior reads, never writes
        incident_services.incident_start_assessment(incident_id=self.incident.pk, actor=self.ann)
        incident_services.incident_dismiss(incident_id=self.incident.pk, actor=self.ann, reason="非舆情")
        with self.assertRaises(InvalidTransition):
            self.attach("a.pdf", PDF)
        self.assertEqual(stored_files(), files)

    def test_a_refusal_under_the_lock_removes_the_stored_file(self) -> None:
        data = PDF
        self.attach("通报.pdf", data)
        from evidence import services

        # The duplicate appears only after the early check (another upload raced ahead).
        original = services._duplicate
        calls = iter([None])
        services._duplicate = lambda incident_id, sha256: next(calls, None) or original(incident_id, sha256)  # type: ignore[assignment]
        try:
            files = stored_files()
            with self.assertRaises(DomainError):
                self.attach("again.pdf", data)
            self.assertEqual(stored_files(), files)
        finally:
            services._duplicate = original


class ThumbnailTests(EvidenceTestCase):
    def test_a_photos_thumbnail_is_small_and_has_no_exif_the_original_keeps_it(self) -> None:
        data = jpeg_with_location()
        evidence = self.attach("现场照片.jpg", data)
        with default_storage.open(evidence.stored_name, "rb") as stored:
            original = stored.read()
        self.assertEqual(original, data)
        self.assertIn(0x8825, Image.open(io.BytesIO(original)).getexif())  # GPS in the evidence itself
        with default_storage.open(evidence.thumbnail_name, "rb") as stored:
            thumbnail = Image.open(io.BytesIO(stored.read()))
        self.assertEqual(thumbnail.format, "JPEG")
        self.assertLessEqual(max(thumbnail.size), 320)
        self.assertEqual(dict(thumbnail.getexif()), {})
        self.assertNotIn("exif", thumbnail.info)

    def test_a_transparent_image_gets_a_png_thumbnail_and_documents_none(self) -> None:
        evidence = self.attach("标志.png", image_bytes("PNG", (400, 100), (0, 0, 0, 0)))
        self.assertTrue(evidence.thumbnail_name.endswith(".png"))
        self.assertEqual(self.attach("通报.pdf", PDF).thumbnail_name, "")

    @override_settings(EVIDENCE_MAX_IMAGE_PIXELS=10_000)
    def test_an_image_too_large_in_pixels_is_refused(self) -> None:
        self.assertIn("图片尺寸过大", str(self.refused("大图.png", image_bytes("PNG", (200, 200))).message))


class WithdrawalTests(EvidenceTestCase):
    def test_it_withdraws_with_a_reason_and_keeps_the_attachment(self) -> None:
        evidence = self.attach("截图.png", image_bytes("PNG"))
        with self.assertRaises(DomainError) as caught:
            evidence_withdraw(evidence_id=evidence.pk, actor=self.bob, reason="  ")
        self.assertEqual(caught.exception.field, "reason")
        evidence_withdraw(evidence_id=evidence.pk, actor=self.bob, reason="截错了帖子")
        kept = Evidence.objects.get(pk=evidence.pk)
        self.assertTrue(kept.is_withdrawn)
        self.assertEqual((kept.withdrawal.reason, kept.withdrawal.withdrawn_by), ("截错了帖子", self.bob))
        self.assertTrue(default_storage.exists(kept.stored_name))
        entry = TimelineEntry.objects.filter(incident=self.incident).order_by("-seq").first()
        assert entry is not None
        self.assertIn("截错了帖子", entry.summary)
        self.assertEqual(entry.details["sha256"], evidence.sha256)
        self.assertTrue(incident_record_verify(incident=self.incident).intact)
        with self.assertRaises(InvalidTransition):
            evidence_withdraw(evidence_id=evidence.pk, actor=self.alice, reason="再次撤回")

    def test_the_uploader_or_the_leadership_may_withdraw_others_may_not(self) -> None:
        evidence = self.attach("截图.png", image_bytes("PNG"))
        for user in (self.ann, self.hank, self.nina, self.charlie, self.sam):
            with self.subTest(user=user.username), self.assertRaises(NotPermitted):
                evidence_withdraw(evidence_id=evidence.pk, actor=user, reason="x")
        evidence_withdraw(evidence_id=evidence.pk, actor=self.olga, reason="办公室核实后撤回")
        other = self.attach("另一张.png", image_bytes("PNG", color=(5, 5, 5)))
        evidence_withdraw(evidence_id=other.pk, actor=self.alice, reason="领导小组撤回")

    def test_an_attachment_can_be_neither_changed_nor_deleted(self) -> None:
        evidence = self.attach("截图.png", image_bytes("PNG"))
        evidence.original_name = "改名.png"
        with self.assertRaises(PermissionError):
            evidence.save()
        with self.assertRaises(PermissionError):
            evidence.delete()
        if connection.vendor == "postgresql":
            for statement in (
                "UPDATE evidence_evidence SET sha256 = 'x'",
                "DELETE FROM evidence_evidence",
                "TRUNCATE evidence_evidence CASCADE",
            ):
                with self.subTest(statement=statement), self.assertRaisesMessage(DatabaseError, "append-only"):
                    with transaction.atomic(), connection.cursor() as cursor:
                        # The test's own transaction holds deferred foreign-key checks of the rows it
                        # added, which TRUNCATE refuses on their own: settle them first.
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        cursor.execute(statement)
            self.assertEqual(Evidence.objects.get(pk=evidence.pk).original_name, "截图.png")

    def test_a_withdrawal_cannot_be_taken_back_or_changed(self) -> None:
        evidence = self.attach("截图.png", image_bytes("PNG"))
        evidence_withdraw(evidence_id=evidence.pk, actor=self.bob, reason="附错")
        withdrawal = EvidenceWithdrawal.objects.get(evidence=evidence)
        with self.assertRaises(PermissionError):
            withdrawal.delete()
        withdrawal.reason = "改理由"
        with self.assertRaises(PermissionError):
            withdrawal.save()

    def test_an_archived_incidents_evidence_cannot_be_withdrawn(self) -> None:
        evidence = self.attach("截图.png", image_bytes("PNG"))
        Incident.objects.filter(pk=self.incident.pk).update(state="archived", updated_at=timezone.now() + timedelta(0))
        with self.assertRaises(InvalidTransition):
            evidence_withdraw(evidence_id=evidence.pk, actor=self.alice, reason="x")
