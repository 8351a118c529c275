"""单位设置 → 应急预案: a unit's administrators revise the plan in the product — draft, edit, compare,
activate (with a fresh second factor), discard — every change audited with before and after; the
active and superseded versions never change; nobody else reaches any of it."""

from datetime import timedelta
from typing import Any

import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import DeadlineRule, EmergencyPlan, HandlingCategory, IncidentType, WarningLevel
from incidents.plan_compare import plans_compare, plans_with_parts
from incidents.plan_forms import PART_FORMS, PlanHeaderForm
from incidents.services import plans as plan_services
from opinion_ops.errors import DomainError, NotPermitted
from opinion_ops.testing import BaseTestCase
from organizations.models import AuditEntry

LIST = reverse("unit_plans:list")


def url(name: str, plan: EmergencyPlan) -> str:
    return reverse(f"unit_plans:{name}", args=[plan.pk])


def posted(initial: dict[str, Any], prefix: str, **changes: Any) -> dict[str, Any]:
    """What a browser posts for a form showing `initial` with `changes` typed in."""
    data: dict[str, Any] = {}
    for name, value in {**initial, **changes}.items():
        field = f"{prefix}-{name}"
        if name == "escalation_chain":
            for n, code in enumerate([*value, "", "", "", "", ""][:5]):
                data[f"{field}_{n}"] = code
        elif isinstance(value, bool):
            if value:
                data[field] = "on"
        elif value is None:
            data[field] = ""
        elif name == "reminder_minutes" and isinstance(value, list):
            data[field] = ", ".join(str(m) for m in value)
        elif isinstance(value, list):
            data[field] = [str(v) for v in value]
        elif hasattr(value, "strftime"):
            data[field] = value.strftime("%H:%M")
        else:
            data[field] = str(value)
    return data


def plan_contents(plan: EmergencyPlan) -> list[Any]:
    """Everything a version holds, to prove that a refused or foreign write changed nothing."""
    plan = EmergencyPlan.objects.get(pk=plan.pk)
    rules = DeadlineRule.objects.filter(plan=plan).order_by("pk")
    return [
        plan_services._plan_snapshot(plan),
        list(WarningLevel.objects.filter(plan=plan).order_by("pk").values()),
        list(HandlingCategory.objects.filter(plan=plan).order_by("pk").values()),
        list(IncidentType.objects.filter(plan=plan).order_by("pk").values()),
        list(rules.values()),
        [(list(r.levels.values_list("pk", flat=True)), list(r.categories.values_list("pk", flat=True))) for r in rules],
    ]


class PlanPageTestCase(BaseTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.uma)

    def draft(self) -> EmergencyPlan:
        return plan_services.plan_create_revision(plan=self.plan, actor=self.uma, change_note="根据演练修订")

    def part(self, plan: EmergencyPlan, kind: str, name: str) -> Any:
        related = {"levels": "levels", "categories": "categories", "types": "incident_types", "rules": "deadline_rules"}
        return getattr(plan, related[kind]).get(name=name)

    def save_part(self, plan: EmergencyPlan, kind: str, part: Any = None, **changes: Any) -> Any:
        """Post the part form of the draft page as a person would: the row's current values (or an
        empty new row) with `changes` typed in."""
        form_class = PART_FORMS[kind]
        prefix = f"{kind}-{part.pk if part is not None else 'new'}"
        initial = form_class.initial_for(part) if part is not None else {}
        data = {"kind": kind, "part": part.pk if part is not None else "", **posted(initial, prefix, **changes)}
        return self.client.post(url("part_save", plan), data)

    def save_header(self, plan: EmergencyPlan, **changes: Any) -> Any:
        initial = PlanHeaderForm.initial_for(EmergencyPlan.objects.get(pk=plan.pk))
        return self.client.post(url("header", plan), posted(initial, "header", **changes))


class VersionTests(PlanPageTestCase):
    def test_it_lists_the_versions_and_is_a_section_of_unit_settings(self) -> None:
        response = self.client.get(LIST)
        self.assertContains(response, "第 1 版")
        self.assertContains(response, "现行")
        self.assertContains(response, f'href="{LIST}"')  # the 应急预案 tab of 单位设置
        self.assertContains(response, "创建修订草稿")

    def test_it_creates_a_draft_from_the_active_version_with_a_change_note(self) -> None:
        response = self.client.post(url("revise", self.plan), {"revise-change_note": "根据 3 月演练修订"})
        draft = EmergencyPlan.objects.get(organization=self.unit, status="draft")
        self.assertRedirects(response, url("detail", draft))
        self.assertEqual((draft.based_on_id, draft.created_by_id), (self.plan.pk, self.uma.pk))
        self.assertEqual(draft.change_note, "根据 3 月演练修订")
        self.assertEqual(draft.deadline_rules.count(), 4)
        entry = AuditEntry.objects.get(action="plan.draft")
        self.assertEqual(
            (entry.organization_id, entry.actor_id, entry.target_id), (self.unit.pk, self.uma.pk, str(draft.pk))
        )
        self.assertEqual((entry.after["based_on"], entry.after["version"]), (self.plan.version, draft.version))
        page = self.client.get(LIST)
        self.assertContains(page, "草稿")
        self.assertContains(page, "继续修改草稿")
        self.assertContains(self.client.get(url("detail", draft)), "根据 3 月演练修订")

    def test_a_draft_needs_a_change_note_and_there_is_one_draft_at_a_time(self) -> None:
        response = self.client.post(url("revise", self.plan), {"revise-change_note": "  "})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, 'id="id_revise-change_note_error"', status_code=400)
        self.assertFalse(EmergencyPlan.objects.filter(status="draft").exists())
        self.draft()
        response = self.client.post(url("revise", self.plan), {"revise-change_note": "再来一份"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(EmergencyPlan.objects.filter(organization=self.unit, status="draft").count(), 1)

    def test_it_shows_a_version_in_full_and_read_only_unless_draft(self) -> None:
        page = self.client.get(url("detail", self.plan))
        for words in ["一级", "询问、置疑、诉求类", "网络谣言、虚假信息", "口头报告", "30 分钟", "3 小时", "当日答复"]:
            self.assertContains(page, words)
        self.assertNotContains(page, url("part_save", self.plan))
        self.assertNotContains(page, url("header", self.plan))
        draft = self.draft()
        page = self.client.get(url("detail", draft))
        self.assertContains(page, url("part_save", draft))
        self.assertContains(page, url("header", draft))
        self.assertContains(page, url("delete", draft))

    def test_the_page_of_a_version_costs_the_same_queries_whatever_its_size(self) -> None:
        draft = self.draft()

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(self.client.get(url("detail", draft)).status_code, 200)
            return len(captured)

        before = queries()
        level = WarningLevel.objects.create(plan=draft, rank=4, name="四级", color="#1677ff")
        category = HandlingCategory.objects.create(plan=draft, code="other", name="其他类")
        IncidentType.objects.create(plan=draft, name="新型")
        for n in range(3):
            rule = DeadlineRule.objects.create(plan=draft, name=f"规则{n}", kind="other", offset_minutes=60)
            rule.levels.set([level])
            rule.categories.set([category])
        self.assertEqual(queries(), before)


class DraftEditTests(PlanPageTestCase):
    def test_it_edits_the_header_and_audits_before_and_after(self) -> None:
        draft = self.draft()
        response = self.save_header(
            draft,
            title="示范区教育局网络舆情应急预案（2025 年修订）",
            workday_end="18:00",
            escalation_chain=["owner", "group_head", "office", "leadership"],
            four_eyes=True,
        )
        self.assertRedirects(response, url("detail", draft) + "#header", fetch_redirect_response=False)
        draft.refresh_from_db()
        self.assertEqual(draft.title, "示范区教育局网络舆情应急预案（2025 年修订）")
        self.assertEqual(draft.escalation_chain, ["owner", "group_head", "office", "leadership"])
        self.assertEqual((draft.workday_end.strftime("%H:%M"), draft.four_eyes), ("18:00", True))
        entry = AuditEntry.objects.get(action="plan.draft_update")
        self.assertEqual(entry.actor_id, self.uma.pk)
        self.assertEqual(entry.before["workday_end"], "17:30")
        self.assertEqual(entry.after["workday_end"], "18:00")
        self.assertEqual(entry.before["four_eyes"], False)
        self.assertEqual(entry.after["escalation_chain"], ["owner", "group_head", "office", "leadership"])
        self.assertIn("下班时间", entry.summary)
        self.assertNotIn("summary", entry.after)  # only what changed

    def test_bad_header_input_is_named_next_to_the_field_and_nothing_is_saved(self) -> None:
        draft = self.draft()
        contents = plan_contents(draft)
        cases = [
            ({"title": ""}, "title", None),
            ({"escalation_chain": ["leadership", "owner"]}, "escalation_chain", "逐级上报须从责任人开始"),
            ({"escalation_chain": ["owner", "owner"]}, "escalation_chain", "每个上报层级只能出现一次"),
            ({"escalation_chain": ["owner", "superior", "leadership"]}, "escalation_chain", "上级主管部门须是最后一级"),
            ({"escalation_chain": []}, "escalation_chain", "请至少选择第 1 级"),
            ({"workday_end": "25:99"}, "workday_end", None),
            ({"same_day_cutoff": "noon"}, "same_day_cutoff", None),
        ]
        for changes, field, message in cases:
            with self.subTest(changes=changes):
                response = self.save_header(draft, **{"title": "改了名称", **changes})
                self.assertContains(response, f'id="id_header-{field}_error"', status_code=400)
                if message:
                    self.assertContains(response, message, status_code=400)
        self.assertEqual(plan_contents(draft), contents)
        self.assertFalse(AuditEntry.objects.filter(action="plan.draft_update").exists())

    def test_it_adds_edits_and_deletes_each_kind_of_part(self) -> None:
        draft = self.draft()
        response = self.save_part(draft, "levels", name="四级", rank=4, color="#1677ff", response_tier="department")
        self.assertRedirects(response, url("detail", draft) + "#levels", fetch_redirect_response=False)
        fourth = self.part(draft, "levels", "四级")
        self.save_part(draft, "levels", fourth, criteria="影响轻微的一般舆情。")
        self.save_part(draft, "categories", name="其他类", code="other", measures="视情处置。", order=9)
        self.save_part(draft, "types", name="涉校安全事件", order=10)
        rule = self.part(draft, "rules", "口头报告")
        response = self.save_part(draft, "rules", rule, offset_minutes=20, reminder_minutes="5，2", levels=[fourth.pk])
        self.assertEqual(response.status_code, 302, response.content.decode()[:3000])
        response = self.client.post(
            url("part_delete", draft), {"kind": "types", "part": self.part(draft, "types", "其他").pk}
        )
        self.assertRedirects(response, url("detail", draft) + "#types", fetch_redirect_response=False)

        self.assertEqual(self.part(draft, "levels", "四级").criteria, "影响轻微的一般舆情。")
        self.assertEqual(self.part(draft, "categories", "其他类").measures, "视情处置。")
        self.assertTrue(draft.incident_types.filter(name="涉校安全事件").exists())
        self.assertFalse(draft.incident_types.filter(name="其他").exists())
        rule.refresh_from_db()
        self.assertEqual((rule.offset_minutes, rule.reminder_minutes), (20, [5, 2]))
        self.assertEqual(list(rule.levels.all()), [fourth])

        entries = {entry.action: entry for entry in AuditEntry.objects.filter(organization=self.unit)}
        self.assertEqual(sorted(entries), ["plan.draft", "plan.part_create", "plan.part_delete", "plan.part_update"])
        update = AuditEntry.objects.get(action="plan.part_update", after__kind="rules")
        self.assertEqual(
            update.before, {"kind": "rules", "offset_minutes": 30, "reminder_minutes": [10, 2], "levels": []}
        )
        self.assertEqual(
            update.after, {"kind": "rules", "offset_minutes": 20, "reminder_minutes": [5, 2], "levels": ["四级"]}
        )
        self.assertIn("口头报告", update.summary)
        self.assertEqual(AuditEntry.objects.filter(action="plan.part_create").count(), 3)
        removed = AuditEntry.objects.get(action="plan.part_delete")
        self.assertEqual((removed.before["kind"], removed.before["name"], removed.after), ("types", "其他", None))
        self.assertEqual(self.plan.incident_types.filter(name="其他").count(), 1)  # the active version keeps it

    def test_bad_part_input_is_named_next_to_the_field_and_nothing_is_saved(self) -> None:
        draft = self.draft()
        contents = plan_contents(draft)
        entries = AuditEntry.objects.count()
        oral = self.part(draft, "rules", "口头报告")
        reply = self.part(draft, "rules", "当日答复诉求")
        first = self.part(draft, "levels", "一级")
        new_level = {"name": "四级", "rank": 4, "color": "#1677ff", "response_tier": "department"}
        cases: list[tuple[str, Any, dict[str, Any], str, str | None]] = [
            ("levels", None, {**new_level, "rank": 0}, "rank", None),
            ("levels", None, {**new_level, "rank": 1}, "rank", "本草稿已有严重程度为 1 的级别"),
            ("levels", None, {**new_level, "name": "一级"}, "name", "本草稿已有名为“一级”的预警级别"),
            ("levels", None, {**new_level, "color": "red"}, "color", "颜色须为 #RRGGBB 格式"),
            ("levels", first, {"name": ""}, "name", None),
            ("categories", None, {"name": "", "code": "other", "order": 0}, "name", None),
            (
                "categories",
                None,
                {"name": "询问、置疑、诉求类", "code": "inquiry", "order": 0},
                "name",
                "本草稿已有名为",
            ),
            ("types", None, {"name": "其他", "order": 0}, "name", "本草稿已有名为“其他”的舆情类型"),
            ("rules", oral, {"offset_minutes": None}, "offset_minutes", "请填写时限（分钟），或勾选“当日答复”"),
            ("rules", oral, {"offset_minutes": 99999}, "offset_minutes", "时限须在 1 分钟到 30 天"),
            ("rules", oral, {"reminder_minutes": "40"}, "reminder_minutes", "提醒时间须早于时限本身"),
            ("rules", oral, {"reminder_minutes": "十分钟"}, "reminder_minutes", "请填写整数分钟"),
            ("rules", oral, {"escalation_interval_minutes": 0}, "escalation_interval_minutes", None),
            ("rules", reply, {"offset_minutes": 60}, "offset_minutes", "“当日答复”规则不填写分钟时限"),
            ("rules", oral, {"levels": [self.level1.pk]}, "levels", None),  # a level of the active version
            ("rules", oral, {"name": "书面报告"}, "name", "本草稿已有名为“书面报告”的时限规则"),
        ]
        for kind, part, changes, field, message in cases:
            with self.subTest(kind=kind, changes=changes):
                response = self.save_part(draft, kind, part, **changes)
                prefix = f"{kind}-{part.pk if part is not None else 'new'}"
                self.assertContains(response, f'id="id_{prefix}-{field}_error"', status_code=400)
                if message:
                    self.assertContains(response, message, status_code=400)
        self.assertEqual(plan_contents(draft), contents)
        self.assertEqual(AuditEntry.objects.count(), entries)

    def test_the_services_check_what_a_form_cannot(self) -> None:
        draft = self.draft()
        oral = self.part(draft, "rules", "口头报告")
        with self.assertRaises(DomainError) as refused:  # another version's level, even through the API
            plan_services.plan_part_save(
                actor=self.uma, plan_id=draft.pk, kind="rules", part_id=oral.pk, values={"levels": [self.level1.pk]}
            )
        self.assertEqual(refused.exception.field, "levels")
        with self.assertRaises(DomainError) as refused:
            plan_services.plan_part_save(actor=self.uma, plan_id=draft.pk, kind="rules", values={"plan": self.plan})
        self.assertEqual(refused.exception.field, "plan")
        with self.assertRaises(DomainError) as refused:  # a rule of another version
            plan_services.plan_part_save(
                actor=self.uma,
                plan_id=draft.pk,
                kind="rules",
                part_id=self.plan.deadline_rules.first().pk,
                values={"offset_minutes": 5},
            )
        self.assertEqual(refused.exception.code, "not_found")

    def test_a_level_a_rule_is_limited_to_stays_until_the_rule_lets_go(self) -> None:
        draft = self.draft()
        first = self.part(draft, "levels", "一级")
        self.save_part(draft, "rules", self.part(draft, "rules", "公开回应"), levels=[first.pk])
        response = self.client.post(url("part_delete", draft), {"kind": "levels", "part": first.pk}, follow=True)
        self.assertContains(response, "时限规则“公开回应”适用于该预警级别")
        self.assertTrue(draft.levels.filter(pk=first.pk).exists())


class CompareTests(PlanPageTestCase):
    def revised(self) -> EmergencyPlan:
        draft = self.draft()
        self.save_header(draft, title="预案（2025 年修订）")
        fourth_response = self.save_part(
            draft, "levels", name="四级", rank=4, color="#1677ff", response_tier="department"
        )
        self.assertEqual(fourth_response.status_code, 302)
        first = self.part(draft, "levels", "一级")
        self.save_part(draft, "rules", self.part(draft, "rules", "口头报告"), offset_minutes=20, levels=[first.pk])
        self.client.post(url("part_delete", draft), {"kind": "types", "part": self.part(draft, "types", "其他").pk})
        return draft

    def test_it_shows_what_a_draft_changes_in_the_words_of_the_plan(self) -> None:
        draft = self.revised()
        page = self.client.get(url("compare", draft))
        self.assertContains(page, f"第 {self.plan.version} 版 → 第 {draft.version} 版")
        for words in [
            "预案（2025 年修订）",
            "四级",
            "新增",
            "<del>30 分钟</del> → <ins>20 分钟</ins>",
            "<del>所有级别（含未定级）</del> → <ins>一级</ins>",
            "适用级别",
            "删除",
            "其他",
            "确认启用",
        ]:
            self.assertContains(page, words, html=False)
        self.assertNotContains(page, "书面报告")  # unchanged rules are not listed

    def test_the_comparison_names_each_change(self) -> None:
        draft = self.revised()
        comparison = plans_compare(plans_with_parts().get(pk=self.plan.pk), plans_with_parts().get(pk=draft.pk))
        self.assertEqual([(c.label, c.new) for c in comparison.header], [("预案名称", "预案（2025 年修订）")])
        by_kind = {section.key: section.parts for section in comparison.sections}
        self.assertEqual([(p.name, p.status) for p in by_kind["levels"]], [("四级", "added")])
        self.assertEqual([(p.name, p.status) for p in by_kind["types"]], [("其他", "removed")])
        self.assertEqual(by_kind["categories"], [])
        (oral,) = by_kind["rules"]
        self.assertEqual(
            [(c.label, c.old, c.new) for c in oral.changes],
            [("时限", "30 分钟", "20 分钟"), ("适用级别", "所有级别（含未定级）", "一级")],
        )
        same = plans_compare(plans_with_parts().get(pk=self.plan.pk), plans_with_parts().get(pk=self.plan.pk))
        self.assertTrue(same.unchanged)

    def test_a_draft_that_cannot_run_says_why_and_is_not_activated(self) -> None:
        draft = self.draft()
        DeadlineRule.objects.filter(plan=draft, name="书面报告").update(offset_minutes=999_999)
        for level in list(draft.levels.all()):
            self.client.post(url("part_delete", draft), {"kind": "levels", "part": level.pk})
        page = self.client.get(url("compare", draft))
        self.assertContains(page, "这份草稿还不能启用")
        self.assertContains(page, "预案至少需要一个预警级别")
        self.assertContains(page, "时限规则“书面报告”：时限须在 1 分钟到 30 天")
        self.assertNotContains(page, "确认启用")
        response = self.client.post(url("activate", draft), follow=True)
        self.assertContains(response, "预案至少需要一个预警级别")
        self.assertEqual(EmergencyPlan.objects.get(pk=draft.pk).status, "draft")
        self.assertEqual(EmergencyPlan.objects.get(pk=self.plan.pk).status, "active")
        self.assertFalse(AuditEntry.objects.filter(action="plan.activate").exists())


class ActivateAndDeleteTests(PlanPageTestCase):
    def test_it_activates_a_draft_that_new_incidents_then_use(self) -> None:
        before = self.log_incident()
        old_contents = plan_contents(self.plan)
        draft = self.draft()
        self.save_part(draft, "rules", self.part(draft, "rules", "口头报告"), offset_minutes=20)
        response = self.client.post(url("activate", draft))
        self.assertRedirects(response, url("detail", draft), fetch_redirect_response=False)
        self.assertEqual(EmergencyPlan.objects.get(pk=draft.pk).status, "active")
        old = EmergencyPlan.objects.get(pk=self.plan.pk)
        self.assertEqual(old.status, "superseded")
        contents = plan_contents(old)
        self.assertEqual(contents[0].pop("status"), "superseded")
        self.assertEqual(old_contents[0].pop("status"), "active")
        self.assertEqual(contents, old_contents)  # the superseded version is kept as it was
        self.assertEqual(before.plan_id, self.plan.pk)
        after = self.log_incident()
        self.assertEqual(after.plan_id, draft.pk)
        oral = after.deadlines.get(kind="oral_report")
        self.assertEqual(oral.due_at - after.discovered_at, timedelta(minutes=20))
        entry = AuditEntry.objects.get(action="plan.activate")
        self.assertEqual((entry.actor_id, entry.target_id), (self.uma.pk, str(draft.pk)))
        self.assertEqual(entry.before["active_version"], self.plan.version)
        self.assertEqual(entry.after["superseded_version"], self.plan.version)
        self.assertEqual(entry.after["active_version"], draft.version)
        page = self.client.get(LIST)
        self.assertContains(page, "已废止")
        self.assertContains(page, "Uma")  # who activated it

    def test_the_units_leaders_read_every_plan_change_in_the_audit_trail(self) -> None:
        draft = self.draft()
        self.save_part(draft, "rules", self.part(draft, "rules", "口头报告"), offset_minutes=20)
        self.client.post(url("activate", draft))
        self.client.force_login(self.alice)
        page = self.client.get(reverse("unit:audit") + "?action=plan")
        self.assertContains(page, f"创建预案修订草稿第 {draft.version} 版")
        self.assertContains(page, "修改时限规则“口头报告”")
        self.assertContains(page, f"启用预案第 {draft.version} 版，第 {self.plan.version} 版同时废止")
        self.client.force_login(self.charlie)  # a leader of another unit reads only his own
        self.assertNotContains(self.client.get(reverse("unit:audit")), "口头报告")

    def test_it_deletes_a_stale_draft_so_a_new_revision_can_start(self) -> None:
        draft = self.draft()
        response = self.client.post(url("delete", draft))
        self.assertRedirects(response, LIST)
        self.assertFalse(EmergencyPlan.objects.filter(pk=draft.pk).exists())
        entry = AuditEntry.objects.get(action="plan.draft_delete")
        self.assertEqual((entry.actor_id, entry.before["version"]), (self.uma.pk, draft.version))
        self.assertIn("口头报告", entry.before["rules"])
        self.assertEqual(self.client.post(url("revise", self.plan), {"revise-change_note": "重来"}).status_code, 302)

    def test_an_active_or_superseded_version_cannot_be_changed_through_any_service(self) -> None:
        draft = self.draft()
        plan_services.plan_activate(plan=draft, actor=self.uma)
        superseded = EmergencyPlan.objects.get(pk=self.plan.pk)
        active = EmergencyPlan.objects.get(pk=draft.pk)
        for plan in (active, superseded):
            contents = plan_contents(plan)
            level = plan.levels.first()
            rule = plan.deadline_rules.first()
            writes = [
                lambda plan=plan: plan_services.plan_draft_update(actor=self.uma, plan_id=plan.pk, title="改名"),
                lambda plan=plan: plan_services.plan_part_save(
                    actor=self.uma, plan_id=plan.pk, kind="types", values={"name": "新类型"}
                ),
                lambda plan=plan, rule=rule: plan_services.plan_part_save(
                    actor=self.uma, plan_id=plan.pk, kind="rules", part_id=rule.pk, values={"offset_minutes": 5}
                ),
                lambda plan=plan, level=level: plan_services.plan_part_delete(
                    actor=self.uma, plan_id=plan.pk, kind="levels", part_id=level.pk
                ),
                lambda plan=plan: plan_services.plan_draft_delete(actor=self.uma, plan_id=plan.pk),
                lambda plan=plan: plan_services.plan_draft_update(actor=None, plan_id=plan.pk, title="改名"),
                lambda plan=plan: plan_services.plan_activate(plan=plan, actor=self.uma),
            ]
            for write in writes:
                with self.subTest(plan=plan.status), self.assertRaises(DomainError) as refused:
                    write()
                self.assertNotIsInstance(refused.exception, NotPermitted)
            self.assertEqual(plan_contents(plan), contents)
            response = self.save_header(plan, title="改名")
            self.assertRedirects(response, url("detail", plan), fetch_redirect_response=False)
            self.assertEqual(self.client.post(url("delete", plan)).status_code, 302)
            self.assertEqual(plan_contents(plan), contents)
        self.assertFalse(AuditEntry.objects.exclude(action__in=["plan.draft", "plan.activate"]).exists())

    @override_settings(TWO_FACTOR_REQUIRED=True, STEP_UP_WINDOW_SECONDS=600)
    def test_activation_asks_for_a_fresh_second_factor(self) -> None:
        from accounts.testing import authenticator_bind, sign_in_verified

        draft = self.draft()
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            device, _codes = authenticator_bind(self.uma)
        with time_machine.travel(start + timedelta(seconds=31), tick=False):
            sign_in_verified(self.client, self.uma, device)
            self.assertEqual(self.client.get(url("compare", draft)).status_code, 200)
        with time_machine.travel(start + timedelta(hours=1), tick=False):
            response = self.client.post(
                url("activate", draft), HTTP_REFERER="http://testserver" + url("compare", draft)
            )
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("second_factor_verify"), response["Location"])
        self.assertIn("compare", response["Location"])  # and back to the page after verifying
        self.assertEqual(EmergencyPlan.objects.get(pk=draft.pk).status, "draft")
        self.assertEqual(EmergencyPlan.objects.get(pk=self.plan.pk).status, "active")
        self.assertFalse(AuditEntry.objects.filter(action="plan.activate").exists())
        with time_machine.travel(start + timedelta(hours=1, seconds=31), tick=False):
            from accounts.testing import verify

            verify(self.client, device)
            self.assertEqual(self.client.post(url("activate", draft)).status_code, 302)
        self.assertEqual(EmergencyPlan.objects.get(pk=draft.pk).status, "active")


class AccessTests(PlanPageTestCase):
    def every_request(self, plan: EmergencyPlan, part: Any) -> list[tuple[str, str, dict[str, Any]]]:
        part_data = {"kind": "types", "part": part.pk, f"types-{part.pk}-name": "改名", f"types-{part.pk}-order": "0"}
        return [
            ("get", url("detail", plan), {}),
            ("get", url("compare", plan), {}),
            ("post", url("revise", plan), {"revise-change_note": "x"}),
            ("post", url("header", plan), {"header-title": "改名"}),
            ("post", url("part_save", plan), part_data),
            ("post", url("part_delete", plan), {"kind": "types", "part": part.pk}),
            ("post", url("activate", plan), {}),
            ("post", url("delete", plan), {}),
        ]

    def test_leaders_and_monitors_are_refused(self) -> None:
        draft = self.draft()
        contents, entries = plan_contents(draft), AuditEntry.objects.count()
        for user in (self.alice, self.bob):
            self.client.force_login(user)
            self.assertEqual(self.client.get(LIST).status_code, 403)
            for method, path, data in self.every_request(draft, draft.incident_types.first()):
                with self.subTest(user=user.username, path=path):
                    self.assertEqual(getattr(self.client, method)(path, data).status_code, 403)
            with self.assertRaises(NotPermitted):
                plan_services.plan_draft_update(actor=user, plan_id=draft.pk, title="改名")
            with self.assertRaises(NotPermitted):
                plan_services.plan_activate(plan=draft, actor=user)
        self.assertEqual(plan_contents(draft), contents)
        self.assertEqual(AuditEntry.objects.count(), entries)

    def test_another_units_administrator_finds_nothing_and_changes_nothing(self) -> None:
        draft = self.draft()
        theirs = [(self.plan, plan_contents(self.plan)), (draft, plan_contents(draft))]
        entries = AuditEntry.objects.filter(organization=self.unit).count()
        self.client.force_login(self.carl)
        listing = self.client.get(LIST)
        self.assertEqual(listing.status_code, 200)
        self.assertNotContains(listing, url("detail", self.plan))
        self.assertNotContains(listing, url("detail", draft))
        for plan, _contents in theirs:
            for method, path, data in self.every_request(plan, plan.incident_types.first()):
                with self.subTest(path=path):
                    self.assertEqual(getattr(self.client, method)(path, data).status_code, 404)
        own = self.other_unit.plans.get(status="active")
        self.assertEqual(self.client.get(url("compare", own) + f"?against={self.plan.pk}").status_code, 404)
        for write in [
            lambda: plan_services.plan_draft_update(actor=self.carl, plan_id=draft.pk, title="改名"),
            lambda: plan_services.plan_part_save(
                actor=self.carl, plan_id=draft.pk, kind="types", values={"name": "新类型", "order": 0}
            ),
            lambda: plan_services.plan_part_delete(
                actor=self.carl, plan_id=draft.pk, kind="types", part_id=draft.incident_types.first().pk
            ),
            lambda: plan_services.plan_draft_delete(actor=self.carl, plan_id=draft.pk),
        ]:
            with self.assertRaises(DomainError) as refused:
                write()
            self.assertEqual(refused.exception.code, "not_found")
        with self.assertRaises(NotPermitted):
            plan_services.plan_activate(plan=draft, actor=self.carl)
        with self.assertRaises(NotPermitted):
            plan_services.plan_create_revision(plan=self.plan, actor=self.carl)
        for plan, contents in theirs:
            self.assertEqual(plan_contents(plan), contents)
        self.assertEqual(AuditEntry.objects.filter(organization=self.unit).count(), entries)
