"""单位设置 → 应急预案 → 从文件导入, the pages: upload a Word or text file, paste the text or start
from a sample; review each recognised item beside the highlighted original; correct it (with or
without htmx); make the draft and land on its comparison with the active plan. Errors stay next to
the field; another unit's import is not found; only the unit's administrators get in."""

import io
from typing import Any

import docx
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents.models import EmergencyPlan
from opinion_ops.testing import BaseTestCase
from plan_import.findings import CLOCK, DRILL, GROUP
from plan_import.models import PlanImport
from plan_import.samples import SAMPLES
from plan_import.tests.test_import_service import NOT_A_PLAN, PLAN_TEXT, clock, finding, make_import
from plan_import.views import source_marks

START = reverse("plan_import:start")


def url(name: str, row: PlanImport) -> str:
    return reverse(f"plan_import:{name}", args=[row.pk])


def docx_bytes(text: str) -> bytes:
    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class UploadTests(BaseTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.uma)

    def upload(self, name: str, data: bytes) -> Any:
        return self.client.post(START, {"source": "file", "file-file": SimpleUploadedFile(name, data)})

    def test_the_plans_page_links_to_the_import(self) -> None:
        self.assertContains(self.client.get(reverse("unit_plans:list")), f'href="{START}"')
        page = self.client.get(START)
        self.assertContains(page, "上传预案文件")
        self.assertContains(page, "粘贴预案文字")
        self.assertContains(page, "从范本开始")
        self.assertContains(page, str(SAMPLES[0][1]))

    def test_a_text_file_is_read_and_shown_for_review(self) -> None:
        response = self.upload("旧预案.txt", PLAN_TEXT.encode("gb18030"))
        row = PlanImport.objects.get()
        self.assertRedirects(response, url("review", row))
        self.assertEqual(
            (row.source_name, row.organization_id, row.created_by_id), ("旧预案.txt", self.unit.pk, self.uma.pk)
        )
        page = self.client.get(url("review", row))
        self.assertContains(page, '<mark id="src-')
        self.assertContains(page, "识别出")
        self.assertContains(page, "个时限")
        self.assertContains(page, "生成预案草稿")
        self.assertContains(page, "放弃本次导入")
        self.assertContains(self.client.get(START), "旧预案.txt")  # among the recent imports

    def test_a_word_file_is_read(self) -> None:
        response = self.upload("旧预案.docx", docx_bytes(PLAN_TEXT))
        row = PlanImport.objects.get()
        self.assertRedirects(response, url("review", row))
        self.assertIn("30分钟内口头汇报", row.text)
        self.assertTrue(any(item["kind"] == CLOCK for item in row.items))

    def test_a_file_that_is_not_a_plan_is_refused_next_to_the_field(self) -> None:
        cases = [
            ("随笔.txt", NOT_A_PLAN.encode()),
            ("scan.pdf", b"%PDF-1.4 scanned"),
            ("旧预案.doc", b"\xd0\xcf\x11\xe0" + b"\x00" * 64),
        ]
        for name, data in cases:
            with self.subTest(name=name):
                response = self.upload(name, data)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, 'id="id_file-file_error"', status_code=400)
        self.assertContains(self.client.post(START, {"source": "file"}), "请选择要导入的预案文件", status_code=400)
        self.assertFalse(PlanImport.objects.exists())

    def test_pasted_text_is_read_and_kept_in_the_box_when_refused(self) -> None:
        refused = self.client.post(START, {"source": "text", "text-text": NOT_A_PLAN})
        self.assertEqual(refused.status_code, 400)
        self.assertContains(refused, NOT_A_PLAN, status_code=400)
        self.assertContains(refused, 'id="id_text-text_error"', status_code=400)
        self.assertContains(refused, '<details class="action" id="from-text" open>', status_code=400)
        self.assertFalse(PlanImport.objects.exists())
        response = self.client.post(START, {"source": "text", "text-text": PLAN_TEXT})
        row = PlanImport.objects.get()
        self.assertRedirects(response, url("review", row))
        self.assertEqual(row.source_name, "粘贴的文字")

    def test_a_sample_is_a_start(self) -> None:
        key, label = SAMPLES[0]
        response = self.client.post(START, {"source": "sample", "sample-sample": key})
        row = PlanImport.objects.get()
        self.assertRedirects(response, url("review", row))
        self.assertEqual(row.source_name, str(label))
        self.assertTrue(row.items)
        bad = self.client.post(START, {"source": "sample", "sample-sample": "nope"})
        self.assertContains(bad, "请选择列表中的范本", status_code=400)

    def test_only_the_units_administrators_get_in(self) -> None:
        row = make_import(self.unit, [clock("口头报告", "oral_report", 30)])
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get(START).status_code, 403)
        self.assertEqual(self.client.get(url("review", row)).status_code, 403)
        self.assertEqual(self.client.post(START, {"source": "text", "text-text": PLAN_TEXT}).status_code, 403)
        self.assertFalse(PlanImport.objects.exclude(pk=row.pk).exists())


class ReviewTests(BaseTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.uma)
        start = PLAN_TEXT.index("发现舆情后")
        end = PLAN_TEXT.index("。", start) + 1
        self.row = make_import(
            self.unit,
            [
                finding(
                    GROUP,
                    start=PLAN_TEXT.index("(二)"),
                    end=PLAN_TEXT.index("监测。") + 3,
                    name="舆情监测组",
                    role="monitoring",
                    duties="日常监测",
                ),
                finding(
                    CLOCK,
                    start=start,
                    end=end,
                    name="口头报告",
                    kind="oral_report",
                    minutes=30,
                    same_day=False,
                    anchor="discovered",
                    category="",
                ),
                finding(
                    CLOCK,
                    start=start,
                    end=end,
                    name="书面报告",
                    kind="written_report",
                    minutes=90,
                    same_day=False,
                    anchor="discovered",
                    category="",
                ),
            ],
        )

    def save_item(self, index: int, htmx: bool = False, **values: Any) -> Any:
        current = {**self.row.items[index]["values"], **values}
        data = {"index": str(index), "op": "save"}
        for name, value in current.items():
            if isinstance(value, bool):
                if value:
                    data[f"item-{index}-{name}"] = "on"
            else:
                data[f"item-{index}-{name}"] = "" if value is None else str(value)
        return self.client.post(url("item", self.row), data, headers={"HX-Request": "true"} if htmx else {})

    def test_the_page_marks_each_items_sentence_and_counts_what_is_kept(self) -> None:
        page = self.client.get(url("review", self.row))
        self.assertContains(page, "识别出 1 个工作组、2 个时限")
        self.assertContains(page, '<mark id="src-0">(二)舆情监测组负责日常监测。</mark>', html=False)
        self.assertContains(page, '<mark id="src-1">')
        self.assertNotContains(page, '<mark id="src-2">')  # the same sentence as item 1: one mark
        self.assertContains(page, 'href="#src-1"', count=2)
        self.assertContains(page, "启用草稿时将新建或更新以下工作组")

    def test_an_item_is_corrected_without_javascript(self) -> None:
        response = self.save_item(1, minutes=20)
        self.assertRedirects(response, url("review", self.row) + "#item-1", fetch_redirect_response=False)
        self.assertEqual(PlanImport.objects.get(pk=self.row.pk).items[1]["values"]["minutes"], 20)

    def test_an_item_is_corrected_with_htmx_and_only_it_comes_back(self) -> None:
        response = self.save_item(1, htmx=True, name="电话报告")
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertIn('id="item-1"', body)
        self.assertIn("电话报告", body)
        self.assertNotIn("<html", body)
        self.assertEqual(PlanImport.objects.get(pk=self.row.pk).items[1]["values"]["name"], "电话报告")

    def test_a_refused_value_shows_next_to_its_field_and_nothing_changes(self) -> None:
        response = self.save_item(1, htmx=True, minutes=50000)
        self.assertContains(response, 'id="id_item-1-minutes_error"', status_code=400)
        self.assertContains(response, "43200", status_code=400)
        plain = self.save_item(0, role="boss")
        self.assertContains(plain, 'id="id_item-0-role_error"', status_code=400)
        self.assertEqual(PlanImport.objects.get(pk=self.row.pk).items, self.row.items)

    def test_an_item_is_dropped_and_kept_again(self) -> None:
        response = self.client.post(url("item", self.row), {"index": "2", "op": "drop"}, HTTP_HX_REQUEST="true")
        self.assertContains(response, "恢复采用")
        self.assertFalse(PlanImport.objects.get(pk=self.row.pk).items[2]["keep"])
        self.assertContains(self.client.get(url("review", self.row)), "识别出 1 个工作组、1 个时限")
        self.client.post(url("item", self.row), {"index": "2", "op": "keep"})
        self.assertTrue(PlanImport.objects.get(pk=self.row.pk).items[2]["keep"])

    def test_making_the_draft_leads_to_its_comparison_with_the_active_plan(self) -> None:
        self.row.items = [*self.row.items, {**self.row.items[0], "kind": DRILL, "values": {"months": 6}}]
        self.row.save()
        response = self.client.post(url("draft", self.row))
        draft = EmergencyPlan.objects.get(organization=self.unit, status="draft")
        compare = reverse("unit_plans:compare", args=[draft.pk])
        self.assertRedirects(response, compare)
        comparison = self.client.get(compare)
        self.assertContains(comparison, "演练周期")
        self.assertContains(comparison, "每 6 个月至少一次")
        self.assertContains(comparison, "公开回应")  # the active plan's clock the import did not keep
        self.assertContains(comparison, "启用时将按导入的预案更新工作职责")  # groups are not versioned: said before
        self.assertEqual(set(draft.deadline_rules.values_list("name", flat=True)), {"口头报告", "书面报告"})
        page = self.client.get(url("review", self.row))
        self.assertContains(page, f'href="{compare}"')
        self.assertContains(page, f'href="{reverse("unit_plans:detail", args=[draft.pk])}"')
        self.assertNotContains(page, "放弃本次导入")
        self.assertContains(self.client.post(url("draft", self.row), follow=True), "不能再生成草稿")

    def test_a_draft_is_refused_while_another_exists_with_the_reason(self) -> None:
        from incidents.services.plans import plan_create_revision

        plan_create_revision(plan=self.plan, change_note="另一份")
        response = self.client.post(url("draft", self.row), follow=True)
        self.assertContains(response, "本单位已有一份预案草稿")
        self.assertEqual(PlanImport.objects.get(pk=self.row.pk).status, "review")

    def test_discarding_returns_to_the_start(self) -> None:
        response = self.client.post(url("discard", self.row))
        self.assertRedirects(response, START)
        self.assertEqual(PlanImport.objects.get(pk=self.row.pk).status, "discarded")
        self.assertEqual(self.client.post(url("draft", self.row)).status_code, 302)
        self.assertFalse(EmergencyPlan.objects.filter(organization=self.unit, status="draft").exists())

    def test_another_units_import_is_not_found(self) -> None:
        self.client.force_login(self.carl)
        self.assertEqual(self.client.get(url("review", self.row)).status_code, 404)
        for name in ("item", "draft", "discard"):
            self.assertEqual(self.client.post(url(name, self.row), {"index": "0", "op": "drop"}).status_code, 404)
        self.assertEqual(PlanImport.objects.get(pk=self.row.pk).status, "review")
        self.assertTrue(PlanImport.objects.get(pk=self.row.pk).items[0]["keep"])

    def test_an_item_index_that_does_not_exist_is_not_found(self) -> None:
        for index in ("3", "-1", "x", ""):
            self.assertEqual(self.client.post(url("item", self.row), {"index": index, "op": "drop"}).status_code, 404)


class DrillIntervalTests(BaseTestCase):
    def test_the_draft_header_form_takes_a_drill_interval_of_1_to_60_months(self) -> None:
        from incidents.plan_forms import PlanHeaderForm
        from incidents.services.plans import plan_create_revision

        self.client.force_login(self.uma)
        draft = plan_create_revision(plan=self.plan, change_note="演练")
        initial = PlanHeaderForm.initial_for(draft)
        data = {f"header-{name}": value for name, value in initial.items() if name not in ("escalation_chain",)}
        data |= {f"header-escalation_chain_{n}": code for n, code in enumerate(draft.escalation_chain)}
        data |= {"header-workday_end": "17:30", "header-four_eyes": "", "header-legal_review": ""}
        header = reverse("unit_plans:header", args=[draft.pk])
        refused = self.client.post(header, {**data, "header-drill_interval_months": "61"})
        self.assertContains(refused, 'id="id_header-drill_interval_months_error"', status_code=400)
        self.client.post(header, {**data, "header-drill_interval_months": "6"})
        self.assertEqual(EmergencyPlan.objects.get(pk=draft.pk).drill_interval_months, 6)


class MarkTests(BaseTestCase):
    def test_the_text_is_escaped_and_overlapping_sentences_become_one_mark(self) -> None:
        text = "<b>甲</b>乙丙丁戊己"
        items = [{"start": 0, "end": 9}, {"start": 7, "end": 10}, {"start": 11, "end": 12}, {"start": 5, "end": 99}]
        marked, anchors = source_marks(text, items)
        self.assertEqual(str(marked), '<mark id="src-0">&lt;b&gt;甲&lt;/b&gt;乙丙</mark>丁<mark id="src-2">戊</mark>己')
        self.assertEqual(anchors, {0: "src-0", 1: "src-0", 2: "src-2"})
