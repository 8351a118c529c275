"""Verify the tamper-evident record of every incident (or of one incident, or of one unit).

For each incident: recompute every timeline entry's hash, follow the numbers and the links from
the first entry to the last, and hold the pages' decision fields to the approvals (incidents.
integrity). Prints, per damaged incident, its first broken link in words, then a summary line.
Exit status: 0 when every record checked is intact, 1 when any is damaged, 2 on a bad argument.
With -v 2 it also prints each intact incident's head (number and hash of its last entry), which
can be kept elsewhere to notice entries later removed from the end of a chain.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import QuerySet

from incidents.integrity import incident_record_verify
from incidents.models import Incident
from organizations.models import Organization


class Command(BaseCommand):
    help = (
        "校验舆情处置记录（哈希链与审定记录）是否完整未被改动；有受损记录时退出码为 1。"
        " Verify the incidents' hash-chained record; exit status 1 when any is broken."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--incident", help="只校验这一起舆情：数据库 id 或舆情编号（如 2026-0042）。")
        parser.add_argument("--unit", help="只校验这个单位（单位编码）的舆情。")

    def _incidents(self, incident: str | None, unit: str | None) -> QuerySet[Incident]:
        incidents = Incident.objects.select_related("organization").order_by("id")
        if unit:
            organization = Organization.objects.filter(code=unit).first()
            if organization is None:
                raise CommandError(f"没有编码为“{unit}”的单位。", returncode=2)
            incidents = incidents.filter(organization=organization)
        if incident:
            value = incident.strip()
            incidents = incidents.filter(pk=int(value)) if value.isdigit() else incidents.filter(reference=value)
            if not incidents.exists():
                raise CommandError(f"没有找到舆情“{value}”。", returncode=2)
        return incidents

    def handle(self, *args: Any, incident: str | None = None, unit: str | None = None, **options: Any) -> None:
        verbosity = options.get("verbosity", 1)
        checked = damaged = entries = approvals = 0
        for item in self._incidents(incident, unit).iterator(chunk_size=200):
            check = incident_record_verify(incident=item)
            checked += 1
            entries += check.entries
            approvals += check.approvals
            name = f"{item.reference or '—'}（id {item.pk}，{item.organization.code}）"
            if check.intact:
                if verbosity >= 2:
                    self.stdout.write(
                        f"完整  {name}：共 {check.entries} 条，末条第 {check.head_seq} 条 {check.head_hash}"
                    )
                continue
            damaged += 1
            first = check.first_break
            assert first is not None
            more = f"（另有 {len(check.breaks) - 1} 处问题）" if len(check.breaks) > 1 else ""
            self.stdout.write(self.style.ERROR(f"受损  {name} 第一处断链：{first.description}{more}"))
            if verbosity >= 2:
                for other in check.breaks[1:]:
                    self.stdout.write(f"      {other.description}")
        summary = (
            f"已校验 {checked} 起舆情、{entries} 条处置记录、{approvals} 条审定记录："
            f"{checked - damaged} 起完整，{damaged} 起受损。"
        )
        if damaged:
            self.stdout.write(self.style.ERROR(summary))
            raise CommandError(f"记录校验未通过：{damaged} 起舆情的记录受损。", returncode=1)
        self.stdout.write(self.style.SUCCESS(summary))
