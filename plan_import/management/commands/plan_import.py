"""`manage.py plan_import FILE --unit UNIT [--dry-run] [--json]`: read a unit's plan (.docx or .txt,
`-` for standard input), show what the rules recognise in it, and (without --dry-run) keep the
import and make the unit's plan draft from it, as 单位设置 → 从文件导入 does (no actor: no policy
check and no audit entry, as for set-up code). UNIT is the unit's code or id."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from opinion_ops.errors import DomainError
from organizations.models import Organization
from organizations.selectors import unit_by_code_or_id
from plan_import import services
from plan_import.extract import extract, extraction_refusal
from plan_import.findings import KINDS
from plan_import.items import KIND_LABELS
from plan_import.reader import plan_file_read


class Command(BaseCommand):
    help = "Import a unit's emergency plan from a .docx or .txt file into a plan draft."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="a .docx or .txt file, or - for standard input")
        parser.add_argument("--unit", metavar="UNIT", required=True, help="the unit's code or id")
        parser.add_argument("--dry-run", action="store_true", help="only show what is recognised; store nothing")
        parser.add_argument("--json", action="store_true", help="print the extraction as JSON")

    def _unit(self, value: str) -> Organization:
        unit = unit_by_code_or_id(value)
        if unit is None:
            raise CommandError(f"没有代码或编号为“{value}”的单位。")
        return unit

    def _read(self, path: str) -> str:
        try:
            if path == "-":
                name, data = "stdin.txt", sys.stdin.buffer.read()
            else:
                name = path
                with open(path, "rb") as handle:
                    data = handle.read()
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror or exc}") from exc
        return plan_file_read(name=name, data=data)

    def handle(self, *args: Any, **options: Any) -> None:
        unit = self._unit(options["unit"])
        try:
            text = self._read(options["file"])
            extraction = extract(text)
            refusal = extraction_refusal(extraction)
            if refusal:
                raise DomainError(refusal, field="file")
            source = "标准输入" if options["file"] == "-" else options["file"].replace("\\", "/").rsplit("/", 1)[-1]
            result: dict[str, Any] = {}
            if not options["dry_run"]:
                with transaction.atomic():
                    plan_import = services.plan_import_create(
                        actor=None, organization_id=unit.pk, source_name=source, text=text, field="file"
                    )
                    draft = services.plan_import_draft(actor=None, import_id=plan_import.pk)
                result = {"import_id": plan_import.pk, "plan_id": draft.pk, "plan_version": draft.version}
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        counts = extraction.counts()
        if options["json"]:
            self.stdout.write(
                json.dumps({**extraction.as_json(), "counts": counts, **result}, ensure_ascii=False, indent=2)
            )
            return
        self.stdout.write(f"《{extraction.title or source}》（{unit.name}）")
        self.stdout.write(services.counts_words(counts))
        for kind in KINDS:
            for finding in extraction.of_kind(kind):
                values = "；".join(f"{key}={value}" for key, value in finding.values.items())
                sentence = " ".join(extraction.text[finding.start : finding.end].split())
                self.stdout.write(f"  [{KIND_LABELS[kind]}] {values}")
                self.stdout.write(f"      原文：{sentence}")
                if finding.note:
                    self.stdout.write(f"      说明：{finding.note}")
        for section in extraction.unmapped:
            self.stdout.write(f"  [未能转换] {section.title}")
        if result:
            self.stdout.write(
                self.style.SUCCESS(
                    f"已生成预案草稿第 {result['plan_version']} 版（导入记录 {result['import_id']}），"
                    "请在 单位设置 → 应急预案 中与现行版本比较后启用。"
                )
            )
        else:
            self.stdout.write("（试运行：未保存任何内容。）")
