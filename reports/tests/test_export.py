"""A written report exported as an official document (公文格式): the Word file and the PDF hold the
title, the addressee and each section that has something to say, laid out on A4 with the GB/T 9704
margins and page numbers; the PDF embeds its CJK font. Only those who may see the incident (and,
for the superior unit, only reports sent up to it) download it; a failed export is a message, and
the command writes a whole file or none."""

import io
import re
import shutil
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock, skipUnless
from urllib.parse import quote

from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from docx import Document
from docx.shared import Mm

from incidents.models import Incident, Measure, Report, TimelineEntry
from incidents.services import incidents as svc
from incidents.services import records
from incidents.services import statements as st
from notifications.models import Notification
from opinion_ops.errors import DomainError
from opinion_ops.testing import BaseTestCase
from reports import views
from reports.documents import written_report_document
from reports.docx_export import official_docx
from reports.management.commands import report_export
from reports.pdf_export import official_pdf

TITLE = "网传某校食堂饭菜质量问题"
DOC_TITLE = f"关于{TITLE}的书面报告"
POPPLER = all(shutil.which(tool) for tool in ("pdffonts", "pdftotext", "pdfinfo"))
NO_POPPLER = "pdffonts/pdftotext/pdfinfo missing: apt-get install poppler-utils (make browser-deps)"


def docx_text(content: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(content)).paragraphs]


def poppler(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout  # noqa: S603 (fixed tools)


class ExportTestCase(BaseTestCase):
    def responding(self) -> Incident:
        incident = self.log_incident(title=TITLE, minutes_ago=30)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="不实信息", scope="本地", trend="rising", risk="high"
        )
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level3)
        svc.incident_start_response(incident_id=incident.pk, actor=self.hank)
        return Incident.objects.get(pk=incident.pk)

    def measure(self, incident: Incident, minutes_ago: int = 10) -> Measure:
        return records.measure_record(
            incident_id=incident.pk,
            actor=self.hank,
            kind="clarification",
            description="官方微博发布情况说明",
            target="微博",
            outcome="转发量下降",
            taken_at=timezone.now() - timedelta(minutes=minutes_ago),
        )

    def published(self, incident: Incident) -> None:
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        st.statement_publish(statement_id=statement.pk, actor=self.sara, channel="官方微博")

    def written(self, incident: Incident, *, facts: str = "经查视频系 2019 年外地旧闻", **kwargs: Any) -> Report:
        kwargs.setdefault("occurred_at", timezone.now())
        return records.report_record(
            incident_id=incident.pk,
            actor=self.olga,
            kind="written",
            reported_to="领导小组",
            summary="关于食堂舆情的书面报告",
            cause="家长在微博发布视频称饭菜变质",
            facts=facts,
            measures_taken="已联系平台标注并发布澄清",
            **kwargs,
        )

    def minute(self, at: Any) -> str:
        local = timezone.localtime(at)
        return f"{local.month}月{local.day}日 {local:%H:%M}"

    def oral(self, incident: Incident) -> Report:
        return records.report_record(
            incident_id=incident.pk,
            actor=self.olga,
            kind="oral",
            reported_to="领导小组",
            occurred_at=timezone.now(),
            summary="电话报告",
        )

    def long_written(self) -> Report:
        """A report long enough for three pages or more."""
        incident = self.responding()
        self.measure(incident)
        facts = "\n".join(
            f"第{n}条：经核查，相关视频系外地旧闻，与我区学校无关，家长情绪已逐步平稳。" * 2 for n in range(40)
        )
        return self.written(incident, facts=facts, to_superior=True)


class WordDocumentTests(ExportTestCase):
    def test_it_holds_the_title_addressee_and_every_section_with_something_to_say(self) -> None:
        incident = self.responding()
        self.measure(incident)
        self.published(incident)
        report = self.written(incident, to_superior=True)
        document = Document(io.BytesIO(official_docx(written_report_document(report))))
        text = [p.text for p in document.paragraphs]

        self.assertEqual(text[0], "示范区教育局")
        self.assertIn(f"〔{timezone.localtime(report.occurred_at).year}〕{incident.reference}号", text)
        self.assertIn(DOC_TITLE, text)
        self.assertIn("领导小组：", text)
        headings = [t for t in text if re.match(r"^[一二三四五六]、", t)]
        self.assertEqual(
            headings, ["一、事情原由", "二、基本事实", "三、处置情况", "四、回应发布情况", "五、时间线摘录"]
        )
        body = "\n".join(text)
        self.assertIn("家长在微博发布视频称饭菜变质", body)
        self.assertIn("澄清辟谣：官方微博发布情况说明（对象：微博；结果：转发量下降）。", body)
        self.assertIn("截至报告时，该舆情处于“处置”阶段。", body)
        self.assertRegex(body, r"在官方微博发布公开回应《情况通报》")
        self.assertIn("抄送：示范市教育局。", body)
        local = timezone.localtime(report.occurred_at)
        self.assertIn(f"{local.year}年{local.month}月{local.day}日", text)

    def test_it_is_laid_out_on_a4_with_the_official_margins_red_mark_and_page_numbers(self) -> None:
        report = self.written(self.log_incident(title=TITLE))
        content = official_docx(written_report_document(report))
        document = Document(io.BytesIO(content))
        section = document.sections[0]
        self.assertEqual(
            [round(v.mm) for v in (section.page_width, section.page_height)], [round(Mm(210).mm), round(Mm(297).mm)]
        )
        self.assertEqual(
            [
                round(v.mm)
                for v in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
            ],
            [37, 35, 28, 26],
        )
        mark = document.paragraphs[0].runs[0]
        self.assertEqual((str(mark.font.color.rgb), mark.font.name), ("C00000", "Times New Roman"))
        self.assertIn('w:eastAsia="方正小标宋简体"', mark._r.xml)
        body = next(p for p in document.paragraphs if p.text == "一、事情原由")
        self.assertIn('w:eastAsia="黑体"', body.runs[0]._r.xml)
        self.assertIn('w:eastAsia="仿宋_GB2312"', document.styles["Normal"].element.xml)
        for footer in (section.footer, section.even_page_footer):
            xml = footer._element.xml
            self.assertIn("PAGE", xml)
            self.assertIn("— ", footer.paragraphs[0].text)
        self.assertTrue(document.settings.odd_and_even_pages_header_footer)
        self.assertIn(b"Noto Serif CJK SC", _font_table(content))

    def test_empty_sections_are_left_out_and_the_rest_numbered_in_order(self) -> None:
        report = self.written(self.log_incident(title=TITLE))
        text = docx_text(official_docx(written_report_document(report)))
        headings = [t for t in text if re.match(r"^[一二三四五六]、", t)]
        self.assertEqual(headings, ["一、事情原由", "二、基本事实", "三、处置情况", "四、时间线摘录"])
        self.assertFalse(any("回应发布情况" in t or "抄送" in t or "领导批示" in t for t in text))

    def test_it_is_the_report_as_of_its_date(self) -> None:
        incident = self.responding()
        report = self.written(incident, occurred_at=timezone.now() - timedelta(minutes=5))
        self.measure(incident, minutes_ago=1)  # taken after the report was made
        self.published(incident)
        body = "\n".join(docx_text(official_docx(written_report_document(report))))
        self.assertNotIn("官方微博发布情况说明", body)
        self.assertNotIn("回应发布情况", body)

    def test_the_timeline_excerpt_holds_the_last_twenty_entries(self) -> None:
        incident = self.responding()
        measures = [self.measure(incident, minutes_ago=25 - n) for n in range(25)]
        report = self.written(incident)
        doc = written_report_document(report)
        timeline = next(s for s in doc.sections if s.heading.endswith("时间线摘录"))
        self.assertEqual(len(timeline.items), 20)
        # In time order, the oldest measures left out, the state changes of a moment ago kept.
        oldest, newest = self.minute(measures[0].taken_at), self.minute(measures[-1].taken_at)
        self.assertFalse(any(oldest in item for item in timeline.items))
        self.assertIn(f"{newest} · Hank · 处置措施：澄清辟谣", "\n".join(timeline.items))
        self.assertTrue(any("Hank · 转入处置" in item for item in timeline.items))

    def test_a_signed_report_carries_the_leaders_instruction(self) -> None:
        report = self.written(self.log_incident(title=TITLE))
        records.report_sign_off(report_id=report.pk, actor=self.alice, comment="同意。请宣传组今日发布澄清。")
        report = Report.objects.get(pk=report.pk)
        body = "\n".join(docx_text(official_docx(written_report_document(report))))
        self.assertIn("领导批示：同意。请宣传组今日发布澄清。", body)
        self.assertIn("Alice", body)


def _font_table(content: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return package.read("word/fontTable.xml")


@skipUnless(POPPLER, NO_POPPLER)
class PdfTests(ExportTestCase):
    def test_it_embeds_a_cjk_font_and_numbers_every_page(self) -> None:
        pdf = official_pdf(written_report_document(self.long_written()))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "report.pdf"
            path.write_bytes(pdf)
            fonts = poppler("pdffonts", str(path)).splitlines()[2:]
            cjk = [line for line in fonts if "CJK" in line]
            self.assertTrue(cjk, fonts)
            self.assertTrue(all(line.split()[-5] == "yes" for line in cjk), fonts)  # the emb column
            pages = int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", str(path)))[1])  # type: ignore[index]
            self.assertGreaterEqual(pages, 2)
            for page in range(1, pages + 1):
                text = poppler("pdftotext", "-f", str(page), "-l", str(page), str(path), "-")
                self.assertRegex(text, rf"—\s*{page}\s*—", f"page {page}")
            text = re.sub(r"\s+", "", poppler("pdftotext", str(path), "-"))
        self.assertIn(DOC_TITLE, text)
        self.assertIn("示范区教育局", text)
        self.assertIn("领导小组：", text)
        self.assertIn("一、事情原由", text)
        self.assertIn("抄送：示范市教育局。", text)


@skipUnless(POPPLER and shutil.which("soffice"), "LibreOffice (soffice) and poppler-utils are not installed")
class LibreOfficeTests(ExportTestCase):
    def test_libreoffice_opens_the_word_file_and_lays_it_out_with_its_page_numbers(self) -> None:
        docx = official_docx(written_report_document(self.long_written()))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "report.docx"
            path.write_bytes(docx)
            subprocess.run(  # noqa: S603 - a fixed command on a file this test wrote
                [
                    str(shutil.which("soffice")),
                    f"-env:UserInstallation=file://{folder}/profile",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    folder,
                    str(path),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            converted = Path(folder) / "report.pdf"
            pages = int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", str(converted)))[1])  # type: ignore[index]
            self.assertGreaterEqual(pages, 2)
            last = poppler("pdftotext", "-f", str(pages), "-l", str(pages), str(converted), "-")
            self.assertRegex(last, rf"—\s*{pages}\s*—")
            text = re.sub(r"\s+", "", poppler("pdftotext", str(converted), "-"))
        self.assertIn(DOC_TITLE, text)
        self.assertIn("一、事情原由", text)


class DownloadTests(ExportTestCase):
    def url(self, report: Report, fmt: str = "docx") -> str:
        return reverse(f"reports:written_{fmt}", args=[report.pk])

    def test_the_unit_downloads_its_written_report_as_word(self) -> None:
        report = self.written(self.log_incident(title=TITLE))
        self.client.force_login(self.nina)  # of the unit, holding no role: may see the incident
        response = self.client.get(self.url(report))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], views.DOCX_CONTENT_TYPE)
        filename = f"{report.incident.reference}-书面报告.docx"
        self.assertIn("attachment", response["Content-Disposition"])
        self.assertIn(f"filename*=utf-8''{quote(filename)}", response["Content-Disposition"])
        self.assertEqual(response["Cache-Control"], "private, no-store")
        self.assertIn(DOC_TITLE, docx_text(response.content))

    @skipUnless(POPPLER, NO_POPPLER)
    def test_the_unit_downloads_it_as_pdf(self) -> None:
        report = self.written(self.log_incident(title=TITLE))
        self.client.force_login(self.alice)
        response = self.client.get(self.url(report, "pdf"))
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "application/pdf"))
        self.assertTrue(response.content.startswith(b"%PDF-"))
        self.assertIn(quote(f"{report.incident.reference}-书面报告.pdf"), response["Content-Disposition"])

    def test_another_units_user_gets_not_found(self) -> None:
        report = self.written(self.log_incident(title=TITLE), to_superior=True)
        self.client.force_login(self.charlie)
        for fmt in ("docx", "pdf"):
            self.assertEqual(self.client.get(self.url(report, fmt)).status_code, 404)

    def test_an_oral_report_is_not_found(self) -> None:
        report = self.oral(self.log_incident(title=TITLE))
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get(self.url(report)).status_code, 404)

    def test_signing_in_is_required(self) -> None:
        report = self.written(self.log_incident(title=TITLE))
        response = self.client.get(self.url(report))
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])

    def test_the_superior_downloads_only_the_reports_sent_up_to_it(self) -> None:
        incident = self.log_incident(title=TITLE)
        sent_up = self.written(incident, to_superior=True)  # reports the incident up
        kept = self.written(incident)
        self.client.force_login(self.sam)
        self.assertEqual(self.client.get(self.url(sent_up)).status_code, 200)
        self.assertEqual(self.client.get(self.url(kept)).status_code, 404)
        page = self.client.get(reverse("incident_detail", args=[incident.pk]))
        self.assertContains(page, self.url(sent_up))
        self.assertNotContains(page, self.url(kept))

    def test_the_superior_does_not_see_a_report_of_an_incident_never_reported_up(self) -> None:
        report = self.written(self.log_incident(title=TITLE))
        self.client.force_login(self.sam)
        self.assertEqual(self.client.get(self.url(report)).status_code, 404)

    def test_the_incident_page_links_the_downloads_of_written_reports_only(self) -> None:
        incident = self.log_incident(title=TITLE)
        written, oral = self.written(incident), self.oral(incident)
        self.client.force_login(self.bob)
        page = self.client.get(reverse("incident_detail", args=[incident.pk]))
        self.assertContains(page, f'href="{self.url(written)}">下载 Word</a>', html=False)
        self.assertContains(page, f'href="{self.url(written, "pdf")}">下载 PDF</a>', html=False)
        self.assertNotContains(page, self.url(oral))

    def test_a_failed_export_is_a_message_not_a_server_error(self) -> None:
        report = self.written(self.log_incident(title=TITLE))
        self.client.force_login(self.alice)

        def broken(doc: Any) -> bytes:
            raise OSError("Pango is missing")

        with (
            mock.patch.dict(views.FORMATS, {"pdf": ("application/pdf", broken)}),
            self.assertLogs("reports.views", "ERROR") as logged,
        ):
            response = self.client.get(self.url(report, "pdf"))
        self.assertEqual(response.status_code, 503)
        self.assertContains(response, "书面报告导出 PDF 失败，请稍后重试", status_code=503)
        self.assertContains(response, TITLE, status_code=503)  # the incident page, with the message
        self.assertIn("Pango is missing", "\n".join(logged.output))


class CommandTests(ExportTestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)

    def export(self, *args: str) -> str:
        out = io.StringIO()
        call_command("report_export", *args, stdout=out)
        return out.getvalue()

    def test_it_writes_the_latest_written_report_by_incident_number(self) -> None:
        incident = self.log_incident(title=TITLE)
        self.written(incident, occurred_at=timezone.now() - timedelta(minutes=2))
        latest = self.written(incident, to_superior=True)
        self.oral(incident)
        out = self.folder / "report.docx"
        message = self.export("--incident", incident.reference, "--format", "docx", "--out", str(out))
        self.assertIn("已导出", message)
        text = docx_text(out.read_bytes())
        self.assertIn(DOC_TITLE, text)
        self.assertIn("抄送：示范市教育局。", text)  # the latest one, sent up
        self.assertIn(f"〔{timezone.localtime(latest.occurred_at).year}〕{incident.reference}-2号", text)

    def test_it_writes_a_chosen_report_by_incident_id(self) -> None:
        incident = self.log_incident(title=TITLE)
        first = self.written(incident, occurred_at=timezone.now() - timedelta(minutes=2))
        self.written(incident, to_superior=True)
        out = self.folder / "first.docx"
        self.export("--incident", str(incident.pk), "--format", "docx", "--out", str(out), "--report", str(first.pk))
        self.assertNotIn("抄送：示范市教育局。", docx_text(out.read_bytes()))

    def test_it_refuses_a_missing_incident_or_one_without_a_written_report(self) -> None:
        out = self.folder / "report.docx"
        with self.assertRaisesMessage(CommandError, "没有 ID 或编号为“2099-9999”的舆情"):
            self.export("--incident", "2099-9999", "--format", "docx", "--out", str(out))
        with self.assertRaisesMessage(CommandError, "的舆情"):
            self.export("--incident", "987654", "--format", "docx", "--out", str(out))
        incident = self.log_incident(title=TITLE)
        oral = self.oral(incident)
        with self.assertRaisesMessage(CommandError, "还没有书面报告"):
            self.export("--incident", str(incident.pk), "--format", "docx", "--out", str(out))
        with self.assertRaisesMessage(CommandError, "只有书面报告可以导出"):
            self.export("--incident", str(incident.pk), "--format", "docx", "--out", str(out), "--report", str(oral.pk))
        self.assertEqual(list(self.folder.iterdir()), [])

    def test_a_failed_export_leaves_the_old_file_whole_and_no_temporary_file(self) -> None:
        incident = self.log_incident(title=TITLE)
        self.written(incident)
        out = self.folder / "report.pdf"
        out.write_bytes(b"the previous export")

        def broken(doc: Any) -> bytes:
            raise RuntimeError("layout failed")

        with (
            mock.patch.dict(report_export.EXPORTS, {"pdf": broken}),
            self.assertRaisesMessage(CommandError, "导出失败"),
        ):
            self.export("--incident", str(incident.pk), "--format", "pdf", "--out", str(out))
        with (
            mock.patch.object(report_export.os, "replace", side_effect=OSError(28, "No space left on device")),
            self.assertRaisesMessage(CommandError, "No space left on device"),
        ):
            self.export("--incident", str(incident.pk), "--format", "docx", "--out", str(out))
        self.assertEqual(out.read_bytes(), b"the previous export")
        self.assertEqual([p.name for p in self.folder.iterdir()], ["report.pdf"])


class MarkingAndTierTests(ExportTestCase):
    """份号 and 密级 printed top left where set; a written report of an incident whose level the plan
    answers at the superior's tier goes up to the superior unit unmarked."""

    def test_copy_number_and_classification_open_the_document(self) -> None:
        report = self.written(self.responding(), copy_number="42", classification="secret")
        self.assertEqual((report.copy_number, report.classification), ("000042", "secret"))
        lines = docx_text(official_docx(written_report_document(report)))
        self.assertEqual(lines[:3], ["000042", "秘密", "示范区教育局"])
        plain = docx_text(official_docx(written_report_document(self.written(self.responding()))))
        self.assertEqual(plain[0], "示范区教育局")

    @skipUnless(POPPLER, NO_POPPLER)
    def test_the_pdf_prints_them_too(self) -> None:
        report = self.written(self.responding(), copy_number="000007", classification="internal")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "report.pdf"
            path.write_bytes(official_pdf(written_report_document(report)))
            first = poppler("pdftotext", "-f", "1", "-l", "1", str(path), "-").split()
        self.assertEqual(first[:3], ["000007", "内部", "示范区教育局"])

    def test_bad_marking_is_refused_naming_the_field(self) -> None:
        incident = self.responding()
        for kwargs, field in (
            ({"copy_number": "12a"}, "copy_number"),
            ({"copy_number": "1234567"}, "copy_number"),
            ({"classification": "topsecret"}, "classification"),
        ):
            with self.assertRaises(DomainError) as caught:
                self.written(incident, **kwargs)
            self.assertEqual(caught.exception.field, field, kwargs)
        with self.assertRaises(DomainError) as caught:
            records.report_record(
                incident_id=incident.pk,
                actor=self.olga,
                kind="oral",
                reported_to="领导小组",
                occurred_at=timezone.now(),
                summary="电话报告",
                copy_number="1",
            )
        self.assertEqual(caught.exception.field, "copy_number")
        self.assertFalse(Report.objects.filter(incident=incident).exists())

    def test_a_written_report_goes_up_when_the_level_is_answered_at_the_superior_tier(self) -> None:
        self.assertEqual(self.level1.response_tier, "superior")
        self.assertNotEqual(self.level3.response_tier, "superior")
        incident = self.responding()  # level 3
        self.assertFalse(self.written(incident).to_superior)
        svc.incident_change_level(incident_id=incident.pk, actor=self.alice, level=self.level1, reason="事态升级")
        report = self.written(incident)
        self.assertTrue(report.to_superior)
        entry = TimelineEntry.objects.filter(incident=incident, kind="report").order_by("-seq").first()
        self.assertTrue(entry.details["to_superior_by_tier"])
        self.assertTrue(
            Notification.objects.filter(recipient=self.sam, title__contains="【下级单位报告】").exists(),
            "the superior's leadership is told",
        )
        self.assertEqual(self.oral(incident).to_superior, False)  # oral reports are not sent up by tier
