"""`manage.py monitoring_report --unit CODE|ID --kind daily|weekly|monthly|special [--start … --end …]
[--title …] --format docx|pdf --out FILE`: issue a monitoring report of the unit for the period (by
default the last complete one of its kind) and write it as an official document; or `--report ID`
to write one issued before. The report is saved, numbered and audited as on the page (without a
user); the file is written whole or not at all."""

from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from opinion_ops.errors import DomainError
from organizations.selectors import unit_by_code_or_id
from reports.docx_export import official_docx
from reports.management.commands.report_export import file_write_atomic
from reports.models import Kind, MonitoringReport
from reports.monitoring import monitoring_report_document
from reports.pdf_export import official_pdf
from reports.periods import default_period
from reports.services import monitoring_report_issue_for_unit

EXPORTS = {"docx": official_docx, "pdf": official_pdf}


def _moment(value: str | None, option: str) -> datetime | None:
    """2026-11-26 (midnight) or 2026-11-26T08:00, in local time."""
    if value is None:
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"{option}: not a date or time (use 2026-11-26 or 2026-11-26T08:00): {value!r}")
        moment = datetime(day.year, day.month, day.day)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = "Issue a monitoring report (舆情日报/周报/月报/专报) of a unit and write it as .docx or PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", required=True, metavar="CODE_OR_ID")
        parser.add_argument("--kind", choices=Kind.values, default=Kind.DAILY)
        parser.add_argument("--start", help="start of the period (local time), e.g. 2026-11-26")
        parser.add_argument("--end", help="end of the period, not included, e.g. 2026-11-27")
        parser.add_argument("--title", default="", help="required for a special report (专报)")
        parser.add_argument("--report", type=int, help="write this issued report instead of issuing one")
        parser.add_argument("--format", choices=sorted(EXPORTS), required=True)
        parser.add_argument("--out", required=True, type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        value = options["unit"]
        unit = unit_by_code_or_id(value)
        if unit is None:
            raise CommandError(f"没有代码或编号为“{value}”的单位。")
        out: Path = options["out"]
        if not out.parent.is_dir():
            raise CommandError(f"--out: folder {out.parent} does not exist")
        if options["report"]:
            report = MonitoringReport.objects.filter(pk=options["report"], organization=unit).first()
            if report is None:
                raise CommandError(f"--report: unit {unit.code} has no monitoring report {options['report']}")
        else:
            start, end = _moment(options["start"], "--start"), _moment(options["end"], "--end")
            if start is None and end is None:
                start, end = default_period(options["kind"], timezone.now())
            try:
                report = monitoring_report_issue_for_unit(
                    organization_id=unit.pk, kind=options["kind"], start=start, end=end, title=options["title"]
                )
            except DomainError as error:
                raise CommandError(f"--{error.field or 'kind'}: {error.message}") from error
        content = EXPORTS[options["format"]](monitoring_report_document(report))
        file_write_atomic(out, content)
        self.stdout.write(f"{report.title} ({report.year}-{report.number}) -> {out} ({len(content):,} bytes)")
