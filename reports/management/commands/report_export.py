"""`manage.py report_export --incident ID_OR_NUMBER --format docx|pdf --out FILE [--report ID]`:
write an incident's written report (by default its latest) as an official document. The file is
written beside FILE under a temporary name and renamed into place, so a failed export never
leaves a half-written FILE. No user: set-up and operators' code, as the other commands."""

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.models import Incident, Report
from opinion_ops.errors import DomainError
from reports.documents import written_report_document
from reports.docx_export import official_docx
from reports.pdf_export import official_pdf

EXPORTS = {"docx": official_docx, "pdf": official_pdf}


def file_write_atomic(path: Path, content: bytes) -> None:
    """Write `content` to a temporary file in `path`'s folder, then rename it over `path`."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Command(BaseCommand):
    help = "Export an incident's written report as an official document (.docx or PDF)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incident", required=True, metavar="ID_OR_NUMBER", help="incident id or number")
        parser.add_argument("--format", required=True, choices=sorted(EXPORTS), dest="fmt")
        parser.add_argument("--out", required=True, metavar="FILE", help="where to write the document")
        parser.add_argument("--report", type=int, metavar="REPORT_ID", help="a written report (default: latest)")

    def _incident(self, value: str) -> Incident:
        value = value.strip()
        if value.isdigit():
            found = list(Incident.objects.filter(pk=int(value)).select_related("organization")[:1])
        else:
            found = list(Incident.objects.filter(reference=value).select_related("organization")[:2])
            if len(found) > 1:
                raise CommandError(f"编号“{value}”在多个单位都有舆情，请改用舆情 ID。")
        if not found:
            raise CommandError(f"没有 ID 或编号为“{value}”的舆情。")
        return found[0]

    def _report(self, incident: Incident, report_id: int | None) -> Report:
        reports = Report.objects.filter(incident=incident).select_related(
            "incident__organization__parent", "reported_by", "signed_off_by"
        )
        if report_id is not None:
            report = reports.filter(pk=report_id).first()
            if report is None:
                raise CommandError(f"舆情“{incident}”没有 ID 为 {report_id} 的报告。")
            if report.kind != Report.Kind.WRITTEN:
                raise CommandError(f"报告 {report_id} 是{report.get_kind_display()}，只有书面报告可以导出。")
            return report
        report = reports.filter(kind=Report.Kind.WRITTEN).order_by("-occurred_at", "-id").first()
        if report is None:
            raise CommandError(f"舆情“{incident}”还没有书面报告。")
        return report

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"输出目录 {out.parent} 不存在。")
        incident = self._incident(options["incident"])
        report = self._report(incident, options["report"])
        try:
            content = EXPORTS[options["fmt"]](written_report_document(report))
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        except Exception as error:
            raise CommandError(f"导出失败：{type(error).__name__}: {error}") from error
        try:
            file_write_atomic(out, content)
        except OSError as error:
            raise CommandError(f"无法写入 {out}：{error.strerror or error}") from error
        self.stdout.write(f"已导出 {out}（{incident} 的书面报告，{len(content)} 字节）")
