"""`manage.py plan_import FILE --unit UNIT [--dry-run] [--json]`: what an operator sees of a unit's
plan before importing it, and the import itself (the draft made as the pages make it)."""

import io
import json
import sys
import tempfile
from pathlib import Path
from unittest import mock

from django.core.management import CommandError, call_command

from incidents.models import EmergencyPlan
from incidents.services.plans import plan_create_revision
from opinion_ops.testing import BaseTestCase
from organizations.models import AuditEntry
from plan_import.models import PlanImport
from plan_import.tests.test_import_service import NOT_A_PLAN, PLAN_TEXT


class PlanImportCommandTests(BaseTestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)

    def file(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def run_command(self, *args: str) -> str:
        out = io.StringIO()
        call_command("plan_import", *args, stdout=out)
        return out.getvalue()

    def test_a_dry_run_prints_the_extraction_as_json_and_stores_nothing(self) -> None:
        output = self.run_command(self.file("旧预案.txt", PLAN_TEXT), "--unit", "district", "--dry-run", "--json")
        data = json.loads(output)
        self.assertEqual(data["text"], PLAN_TEXT.strip("\n"))
        self.assertGreaterEqual(data["counts"]["clock"], 1)
        self.assertEqual(len(data["findings"]), sum(data["counts"].values()))
        self.assertNotIn("plan_id", data)
        self.assertFalse(PlanImport.objects.exists())
        self.assertEqual(EmergencyPlan.objects.filter(organization=self.unit).count(), 1)

    def test_a_dry_run_prints_a_summary_in_chinese(self) -> None:
        output = self.run_command(self.file("旧预案.txt", PLAN_TEXT), "--unit", str(self.unit.pk), "--dry-run")
        self.assertIn("识别出", output)
        self.assertIn("[时限]", output)
        self.assertIn("原文：", output)
        self.assertIn("30分钟内口头汇报", output)
        self.assertIn("试运行", output)
        self.assertFalse(PlanImport.objects.exists())

    def test_it_imports_the_plan_into_a_draft(self) -> None:
        output = self.run_command(self.file("旧预案.txt", PLAN_TEXT), "--unit", "district")
        row = PlanImport.objects.get()
        draft = EmergencyPlan.objects.get(organization=self.unit, status="draft")
        self.assertEqual(
            (row.status, row.plan_id, row.source_name, row.created_by_id), ("drafted", draft.pk, "旧预案.txt", None)
        )
        self.assertEqual(draft.change_note, "从《旧预案.txt》导入")
        self.assertGreaterEqual(draft.deadline_rules.count(), 1)
        self.assertIn(f"第 {draft.version} 版", output)
        self.assertFalse(AuditEntry.objects.filter(action__startswith="plan.import").exists())  # no actor

    def test_it_reads_standard_input(self) -> None:
        stdin = mock.Mock(buffer=io.BytesIO(PLAN_TEXT.encode("utf-8")))
        with mock.patch.object(sys, "stdin", stdin):
            data = json.loads(self.run_command("-", "--unit", "district", "--json"))
        self.assertEqual(data["plan_id"], EmergencyPlan.objects.get(organization=self.unit, status="draft").pk)

    def test_errors_end_the_command_with_the_reason_and_store_nothing(self) -> None:
        plan = self.file("旧预案.txt", PLAN_TEXT)
        cases = [
            ((plan, "--unit", "nowhere"), "nowhere"),
            ((self.file("随笔.txt", NOT_A_PLAN), "--unit", "district"), "预案"),
            ((str(self.folder / "missing.txt"), "--unit", "district"), "无法读取"),
        ]
        for args, words in cases:
            with self.subTest(args=args), self.assertRaises(CommandError) as failed:
                self.run_command(*args)
            self.assertIn(words, str(failed.exception))
        plan_create_revision(plan=self.plan, change_note="另一份")
        with self.assertRaises(CommandError) as refused:
            self.run_command(plan, "--unit", "district")
        self.assertIn("已有一份预案草稿", str(refused.exception))
        self.assertFalse(PlanImport.objects.exists())  # the import went with the refused draft
