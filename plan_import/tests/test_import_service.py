"""Importing a plan, the services: what is stored from a text (and nothing from a text that is not a
plan), correcting items with the field named on refusal, the draft made from the kept items (the
active plan's parts of the kinds the import did not find stay), and the working groups brought in
line once, when that draft is activated. Only the unit's administrators reach any of it."""

from typing import Any

from incidents.models import EmergencyPlan
from incidents.services.plans import plan_activate, plan_create_revision, plan_problems
from opinion_ops.errors import DomainError, NotPermitted
from opinion_ops.testing import BaseTestCase
from organizations.models import AuditEntry, GroupMember, Organization, ResponseGroup
from plan_import import services
from plan_import.findings import (
    CATEGORY,
    CHAIN,
    CLOCK,
    DRILL,
    GROUP,
    INCIDENT_TYPE,
    LEVEL,
    POSITION,
    Extraction,
    Finding,
)
from plan_import.groups import groups_plan, plan_import_groups_apply
from plan_import.items import import_items
from plan_import.models import PlanImport

PLAN_TEXT = (
    "示范区教育局网络舆情应急预案\n"
    "一、总则\n为有效预防和妥善处置涉及本单位的网络舆情，制定本预案。\n"
    "二、组织机构\n(一)成立网络舆情应急处置工作领导小组\n组长:张三\n副组长:李四\n"
    "(二)舆情监测组负责日常监测。\n"
    "三、处置流程\n发现舆情后，做到30分钟内口头汇报和90分钟内书面汇报。"
    "属于询问、置疑、诉求类的，要在当日回复处理意见。\n"
)
NOT_A_PLAN = "今天天气很好，我们一家人去公园散步，看到湖边的柳树发了新芽，孩子们在草地上放风筝，十分开心。"


def finding(item_kind: str, start: int = 0, end: int = 4, note: str = "", **values: Any) -> Finding:
    return Finding(item_kind, values, start, end, note)


def level(rank: int, name: str, tier: str = "", color: str = "", criteria: str = "") -> Finding:
    return finding(LEVEL, rank=rank, name=name, color=color, criteria=criteria, tier=tier)


def clock(name: str, kind: str, minutes: int | None, same_day: bool = False, category: str = "") -> Finding:
    return finding(
        CLOCK, name=name, kind=kind, minutes=minutes, same_day=same_day, anchor="discovered", category=category
    )


def make_import(
    unit: Organization, findings: list[Finding], text: str = PLAN_TEXT, title: str = "", source: str = "旧预案.docx"
) -> PlanImport:
    """An import as plan_import_create stores it, from findings written here rather than the rules."""
    extraction = Extraction(text=text, title=title, summary="", findings=findings)
    return PlanImport.objects.create(
        organization=unit, source_name=source, text=text, title=title, items=import_items(extraction)
    )


class CreateTests(BaseTestCase):
    def test_it_keeps_what_the_rules_found_for_review(self) -> None:
        row = services.plan_import_create(
            actor=self.uma, organization_id=self.unit.pk, source_name="旧预案.txt", text=PLAN_TEXT
        )
        self.assertEqual((row.status, row.organization_id, row.created_by_id), ("review", self.unit.pk, self.uma.pk))
        self.assertEqual(row.source_name, "旧预案.txt")
        clocks = [item for item in row.items if item["kind"] == CLOCK]
        self.assertGreaterEqual(len(clocks), 1)
        for item in row.items:
            self.assertLess(item["start"], item["end"])
            self.assertTrue(row.text[item["start"] : item["end"]].strip())
        entry = AuditEntry.objects.get(action="plan.import_read")
        self.assertEqual((entry.organization_id, entry.actor_id), (self.unit.pk, self.uma.pk))

    def test_a_text_that_is_not_a_plan_is_refused_on_its_field_and_nothing_is_stored(self) -> None:
        for field in ("text", "file"):
            with self.assertRaises(DomainError) as refused:
                services.plan_import_create(
                    actor=self.uma, organization_id=self.unit.pk, source_name="x", text=NOT_A_PLAN, field=field
                )
            self.assertEqual(refused.exception.field, field)
            self.assertIn("预案", str(refused.exception.message))
        with self.assertRaises(DomainError) as empty:
            services.plan_import_create(actor=self.uma, organization_id=self.unit.pk, source_name="x", text="  ")
        self.assertEqual(empty.exception.field, "text")
        self.assertFalse(PlanImport.objects.exists())
        self.assertFalse(AuditEntry.objects.filter(action__startswith="plan.import").exists())

    def test_only_the_units_administrator_may_import(self) -> None:
        for actor, unit in ((self.alice, self.unit), (self.carl, self.unit)):
            with self.assertRaises(NotPermitted):
                services.plan_import_create(actor=actor, organization_id=unit.pk, source_name="x", text=PLAN_TEXT)
        self.assertFalse(PlanImport.objects.exists())

    def test_an_item_the_rules_could_not_make_valid_is_stored_dropped_with_the_reason(self) -> None:
        row = make_import(self.unit, [clock("口头报告", "oral_report", 0), clock("书面报告", "written_report", 90)])
        first, second = row.items
        self.assertFalse(first["keep"])
        self.assertIn("时限须在 1 分钟到 30 天", first["note"])
        self.assertTrue(second["keep"])
        self.assertEqual(services.import_counts(row)[CLOCK], 1)


class ItemTests(BaseTestCase):
    def setUp(self) -> None:
        self.row = make_import(
            self.unit,
            [
                level(1, "一级"),
                clock("口头报告", "oral_report", 30),
                finding(GROUP, name="舆情监测组", role="monitoring", duties=""),
                finding(CATEGORY, code="inquiry", name="询问类", measures=""),
            ],
        )

    def update(self, index: int, actor: Any = None, **kwargs: Any) -> PlanImport:
        return services.plan_import_item_update(actor=actor or self.uma, import_id=self.row.pk, index=index, **kwargs)

    def test_it_saves_corrected_values_and_records_them(self) -> None:
        self.update(1, values={"minutes": "20", "name": " 电话报告 "})
        item = PlanImport.objects.get(pk=self.row.pk).items[1]
        self.assertEqual((item["values"]["minutes"], item["values"]["name"]), (20, "电话报告"))
        entry = AuditEntry.objects.get(action="plan.import_item")
        assert entry.before is not None and entry.after is not None
        self.assertEqual((entry.before["values"]["minutes"], entry.after["values"]["minutes"]), (30, 20))

    def test_a_refusal_names_the_field_and_keeps_what_was_saved(self) -> None:
        refusals = [
            (1, {"minutes": 0}, "minutes"),
            (1, {"minutes": 43201}, "minutes"),
            (1, {"same_day": True}, "minutes"),  # 当日 with minutes still filled in
            (1, {"kind": "lunch"}, "kind"),
            (1, {"category": "gossip"}, "category"),
            (0, {"rank": 10}, "rank"),
            (0, {"name": "级" * 31}, "name"),
            (0, {"tier": "mayor"}, "tier"),
            (0, {"color": "red"}, "color"),
            (2, {"role": "boss"}, "role"),
            (2, {"name": "  "}, "name"),
            (3, {"code": "gossip"}, "code"),
            (3, {"owner": "x"}, "owner"),  # not a value of a category
        ]
        before = list(PlanImport.objects.get(pk=self.row.pk).items)
        for index, values, field in refusals:
            with self.subTest(values=values):
                with self.assertRaises(DomainError) as refused:
                    self.update(index, values=values)
                self.assertEqual(refused.exception.field, field)
        self.assertEqual(PlanImport.objects.get(pk=self.row.pk).items, before)
        self.assertFalse(AuditEntry.objects.filter(action="plan.import_item").exists())

    def test_a_same_day_clock_takes_no_minutes(self) -> None:
        self.update(1, values={"same_day": True, "minutes": None, "kind": "reply", "category": "inquiry"})
        values = PlanImport.objects.get(pk=self.row.pk).items[1]["values"]
        self.assertEqual((values["same_day"], values["minutes"], values["category"]), (True, None, "inquiry"))

    def test_an_item_is_dropped_and_kept_again_only_with_valid_values(self) -> None:
        row = make_import(self.unit, [clock("口头报告", "oral_report", 0)])
        with self.assertRaises(DomainError) as refused:
            services.plan_import_item_update(actor=self.uma, import_id=row.pk, index=0, keep=True)
        self.assertEqual(refused.exception.field, "minutes")
        self.assertFalse(PlanImport.objects.get(pk=row.pk).items[0]["keep"])
        services.plan_import_item_update(actor=self.uma, import_id=row.pk, index=0, keep=True, values={"minutes": 30})
        self.assertTrue(PlanImport.objects.get(pk=row.pk).items[0]["keep"])
        services.plan_import_item_update(actor=self.uma, import_id=row.pk, index=0, keep=False)
        self.assertFalse(PlanImport.objects.get(pk=row.pk).items[0]["keep"])

    def test_another_units_import_reads_as_not_found(self) -> None:
        for call in (
            lambda: self.update(0, actor=self.carl, keep=False),
            lambda: services.plan_import_draft(actor=self.carl, import_id=self.row.pk),
            lambda: services.plan_import_discard(actor=self.carl, import_id=self.row.pk),
        ):
            with self.assertRaises(DomainError) as refused:
                call()
            self.assertEqual(refused.exception.code, "not_found")
        with self.assertRaises(DomainError) as missing:
            services.plan_import_discard(actor=self.carl, import_id=987654)
        self.assertEqual(missing.exception.code, "not_found")
        with self.assertRaises(NotPermitted):
            self.update(0, actor=self.alice, keep=False)
        self.assertTrue(PlanImport.objects.get(pk=self.row.pk).items[0]["keep"])

    def test_an_item_that_does_not_exist_reads_as_not_found(self) -> None:
        with self.assertRaises(DomainError) as refused:
            self.update(4, keep=False)
        self.assertEqual(refused.exception.code, "not_found")

    def test_a_discarded_import_cannot_be_changed_or_drafted(self) -> None:
        services.plan_import_discard(actor=self.uma, import_id=self.row.pk)
        self.assertEqual(PlanImport.objects.get(pk=self.row.pk).status, "discarded")
        with self.assertRaises(DomainError) as closed:
            self.update(0, keep=False)
        self.assertEqual(closed.exception.code, "import_closed")
        with self.assertRaises(DomainError):
            services.plan_import_draft(actor=self.uma, import_id=self.row.pk)
        self.assertFalse(EmergencyPlan.objects.filter(organization=self.unit, status="draft").exists())


class DraftTests(BaseTestCase):
    def draft(self, row: PlanImport, actor: Any = None) -> EmergencyPlan:
        return services.plan_import_draft(actor=actor or self.uma, import_id=row.pk)

    def test_it_replaces_the_kinds_it_found_and_keeps_the_active_plans_others(self) -> None:
        row = make_import(
            self.unit,
            [
                level(1, "特别重大", tier="superior", criteria="造成重大影响"),
                level(2, "一般"),
                clock("口头报告", "oral_report", 20),
                clock("当日答复", "reply", None, same_day=True, category="inquiry"),
                clock("公开回应", "public_response", 8),
                finding(CHAIN, rungs=["owner", "group_head", "office", "leadership", "superior"]),
                finding(DRILL, months=6),
                finding(GROUP, name="舆情监测组", role="monitoring", duties="日常监测"),
            ],
            title="示范区教育局网络舆情应急预案（2024 年修订）",
        )
        draft = self.draft(row)
        self.assertEqual((draft.status, draft.based_on_id, draft.version), ("draft", self.plan.pk, 2))
        self.assertEqual(draft.title, "示范区教育局网络舆情应急预案（2024 年修订）")
        self.assertEqual(draft.change_note, "从《旧预案.docx》导入")
        self.assertEqual(draft.escalation_chain, ["owner", "group_head", "office", "leadership", "superior"])
        self.assertEqual(draft.drill_interval_months, 6)
        self.assertEqual(
            list(draft.levels.order_by("rank").values_list("rank", "name", "color", "response_tier", "criteria")),
            [(1, "特别重大", "#cf1322", "superior", "造成重大影响"), (2, "一般", "#d46b08", "department", "")],
        )
        rules = {rule.name: rule for rule in draft.deadline_rules.all()}
        self.assertEqual(set(rules), {"口头报告", "当日答复", "公开回应"})
        self.assertEqual(
            (rules["口头报告"].offset_minutes, rules["口头报告"].owner_group_kind, rules["口头报告"].reminder_minutes),
            (20, "office", [10, 2]),
        )
        self.assertEqual((rules["公开回应"].owner_group_kind, rules["公开回应"].reminder_minutes), ("publicity", []))
        reply = rules["当日答复"]
        self.assertEqual((reply.same_day, reply.offset_minutes, reply.owner_group_kind), (True, None, "handling"))
        self.assertEqual([c.pk for c in reply.categories.all()], [draft.categories.get(code="inquiry").pk])
        # Categories and types were not in the import: the active plan's stay.
        self.assertEqual(
            list(draft.categories.values_list("name", flat=True)),
            list(self.plan.categories.values_list("name", flat=True)),
        )
        self.assertEqual(draft.incident_types.count(), self.plan.incident_types.count())
        self.assertEqual(plan_problems(draft), [])
        row.refresh_from_db()
        self.assertEqual((row.status, row.plan_id), ("drafted", draft.pk))
        entry = AuditEntry.objects.get(action="plan.import")
        assert entry.after is not None
        self.assertEqual((entry.target_id, entry.after["based_on"]), (str(draft.pk), 1))
        # The active plan is untouched; groups wait for the activation.
        self.assertEqual(self.plan.levels.count(), 3)
        self.assertEqual(self.plan.deadline_rules.count(), 4)
        self.assertFalse(ResponseGroup.objects.filter(organization=self.unit, duties="日常监测").exists())

    def test_imported_categories_take_over_the_kept_clocks_links(self) -> None:
        EmergencyPlan.objects.filter(pk=self.plan.pk).update(drill_interval_months=12)
        row = make_import(
            self.unit,
            [
                finding(CATEGORY, code="inquiry", name="诉求类", measures="当日答复"),
                finding(CATEGORY, code="hype", name="炒作类", measures="澄清"),
                finding(INCIDENT_TYPE, name="网络谣言"),
            ],
        )
        draft = self.draft(row)
        self.assertEqual(list(draft.categories.values_list("name", flat=True)), ["诉求类", "炒作类"])
        self.assertEqual(list(draft.incident_types.values_list("name", flat=True)), ["网络谣言"])
        reply = draft.deadline_rules.get(kind="reply")  # the active plan's clock, kept
        self.assertEqual([c.name for c in reply.categories.all()], ["诉求类"])
        self.assertEqual(draft.levels.count(), 3)
        self.assertEqual(draft.drill_interval_months, 12)  # copied from the active plan: none imported
        self.assertEqual(plan_problems(draft), [])

    def test_a_dropped_item_does_not_reach_the_draft(self) -> None:
        row = make_import(self.unit, [clock("口头报告", "oral_report", 20), clock("书面报告", "written_report", 60)])
        services.plan_import_item_update(actor=self.uma, import_id=row.pk, index=1, keep=False)
        draft = self.draft(row)
        self.assertEqual(list(draft.deadline_rules.values_list("name", flat=True)), ["口头报告"])

    def test_it_is_refused_while_the_unit_has_a_draft(self) -> None:
        plan_create_revision(plan=self.plan, change_note="另一份")
        row = make_import(self.unit, [clock("口头报告", "oral_report", 20)])
        with self.assertRaises(DomainError) as refused:
            self.draft(row)
        self.assertEqual(refused.exception.code, "draft_exists")
        self.assertEqual(str(refused.exception.message), "本单位已有一份预案草稿，请先启用或删除它。")
        row.refresh_from_db()
        self.assertEqual((row.status, row.plan_id), ("review", None))
        self.assertEqual(EmergencyPlan.objects.filter(organization=self.unit).count(), 2)

    def test_two_different_items_with_one_name_are_refused_and_nothing_is_made(self) -> None:
        row = make_import(self.unit, [clock("口头报告", "oral_report", 20), clock("口头报告", "oral_report", 30)])
        with self.assertRaises(DomainError) as refused:
            self.draft(row)
        self.assertIn("口头报告", str(refused.exception.message))
        self.assertFalse(EmergencyPlan.objects.filter(organization=self.unit, status="draft").exists())
        same = make_import(self.unit, [clock("口头报告", "oral_report", 20), clock("口头报告", "oral_report", 20)])
        self.assertEqual(self.draft(same).deadline_rules.count(), 1)  # the same item found twice

    def test_a_clock_for_a_category_the_draft_lacks_is_refused_on_that_field(self) -> None:
        self.plan.categories.filter(code="constructive").update(code="other")
        row = make_import(self.unit, [clock("采纳建议", "reply", 1440, category="constructive")])
        with self.assertRaises(DomainError) as refused:
            self.draft(row)
        self.assertEqual(refused.exception.field, "category")
        self.assertFalse(EmergencyPlan.objects.filter(organization=self.unit, status="draft").exists())

    def test_a_unit_without_a_plan_gets_a_draft_of_only_what_was_imported(self) -> None:
        unit = Organization.objects.create(name="新设单位", code="new-unit")
        row = make_import(unit, [clock("口头报告", "oral_report", 30), finding(INCIDENT_TYPE, name="网络谣言")])
        draft = services.plan_import_draft(actor=None, import_id=row.pk)
        self.assertEqual((draft.version, draft.based_on_id, draft.title), (1, None, "新设单位网络舆情应急预案"))
        self.assertEqual(draft.levels.count(), 0)
        self.assertEqual(draft.categories.count(), 0)
        self.assertEqual(list(draft.deadline_rules.values_list("name", flat=True)), ["口头报告"])
        self.assertEqual([problem.field for problem in plan_problems(draft)], ["levels"])

    def test_a_drafted_import_is_drafted_again_only_after_its_draft_was_deleted(self) -> None:
        from incidents.services.plans import plan_draft_delete

        row = make_import(self.unit, [clock("口头报告", "oral_report", 20)])
        draft = self.draft(row)
        with self.assertRaises(DomainError):
            self.draft(row)
        plan_draft_delete(actor=self.uma, plan_id=draft.pk)
        again = self.draft(row)
        self.assertEqual(PlanImport.objects.get(pk=row.pk).plan_id, again.pk)


class GroupsOnActivationTests(BaseTestCase):
    def setUp(self) -> None:
        self.nina.first_name = "张三"
        self.nina.save()
        ResponseGroup.objects.filter(organization=self.unit, kind="support").delete()
        self.row = make_import(
            self.unit,
            [
                finding(GROUP, name="网络舆情应急处置工作领导小组", role="leadership", duties="统一领导舆情处置工作"),
                finding(GROUP, name="舆情监测组", role="monitoring", duties=""),
                finding(GROUP, name="后勤保障组", role="support", duties="保障车辆和经费"),
                finding(POSITION, group="网络舆情应急处置工作领导小组", title="组长", position="head", holder="张三"),
                finding(POSITION, group="后勤保障组", title="副组长", position="deputy", holder="张三"),
                finding(
                    POSITION, group="网络舆情应急处置工作领导小组", title="副组长", position="deputy", holder="李四"
                ),
                clock("口头报告", "oral_report", 20),
            ],
        )

    def test_activating_the_draft_applies_the_groups_once(self) -> None:
        leadership = ResponseGroup.objects.get(organization=self.unit, kind="leadership")
        monitoring = ResponseGroup.objects.get(organization=self.unit, kind="monitoring")
        monitoring_duties = monitoring.duties
        draft = services.plan_import_draft(actor=self.uma, import_id=self.row.pk)
        changes, members = groups_plan(PlanImport.objects.get(pk=self.row.pk))
        self.assertEqual([change.action for change in changes], ["update", "keep", "create"])
        self.assertEqual([(m.user, m.position) for m in members], [(self.nina, "head"), (self.nina, "deputy")])
        plan_activate(plan=draft, actor=self.uma)
        leadership.refresh_from_db()
        monitoring.refresh_from_db()
        self.assertEqual(leadership.name, ResponseGroup.objects.get(pk=leadership.pk).name)  # name kept
        self.assertEqual(leadership.duties, "统一领导舆情处置工作")
        self.assertEqual(monitoring.duties, monitoring_duties)  # the import stated none
        support = ResponseGroup.objects.get(organization=self.unit, kind="support")
        self.assertEqual((support.name, support.duties), ("后勤保障组", "保障车辆和经费"))
        self.assertEqual(GroupMember.objects.get(group=leadership, user=self.nina).position, "head")
        self.assertEqual(GroupMember.objects.get(group=support, user=self.nina).position, "deputy")
        self.assertEqual(GroupMember.objects.get(group=leadership, user=self.alice).position, "head")  # untouched
        row = PlanImport.objects.get(pk=self.row.pk)
        self.assertIsNotNone(row.groups_applied_at)
        entry = AuditEntry.objects.get(action="group.import")
        assert entry.after is not None
        self.assertEqual(entry.after["created"], ["后勤保障组"])
        self.assertEqual(entry.after["updated"], [leadership.name])
        self.assertIn("张三", entry.summary)
        # Once: a later run (or another activation) changes nothing the unit has since edited.
        ResponseGroup.objects.filter(pk=leadership.pk).update(duties="已由管理员改写")
        GroupMember.objects.filter(group=support, user=self.nina).delete()
        plan_import_groups_apply(EmergencyPlan.objects.get(pk=draft.pk), self.uma)
        self.assertEqual(ResponseGroup.objects.get(pk=leadership.pk).duties, "已由管理员改写")
        self.assertFalse(GroupMember.objects.filter(group=support, user=self.nina).exists())
        self.assertEqual(AuditEntry.objects.filter(action="group.import").count(), 1)

    def test_a_plan_not_made_by_an_import_leaves_the_groups_alone(self) -> None:
        before = list(ResponseGroup.objects.filter(organization=self.unit).values())
        draft = plan_create_revision(plan=self.plan, change_note="手工修订")
        plan_activate(plan=draft, actor=self.uma)
        self.assertEqual(list(ResponseGroup.objects.filter(organization=self.unit).values()), before)
        self.assertFalse(AuditEntry.objects.filter(action="group.import").exists())

    def test_a_name_shared_by_two_members_adds_neither(self) -> None:
        self.bob.first_name = "张三"
        self.bob.save()
        services.plan_import_draft(actor=self.uma, import_id=self.row.pk)
        _changes, members = groups_plan(PlanImport.objects.get(pk=self.row.pk))
        self.assertEqual(members, [])

    def test_dropped_group_items_are_not_applied(self) -> None:
        services.plan_import_item_update(actor=self.uma, import_id=self.row.pk, index=2, keep=False)
        draft = services.plan_import_draft(actor=self.uma, import_id=self.row.pk)
        plan_activate(plan=draft, actor=self.uma)
        self.assertFalse(ResponseGroup.objects.filter(organization=self.unit, kind="support").exists())

    def test_a_member_already_in_the_group_takes_the_post_the_plan_gives(self) -> None:
        leadership = ResponseGroup.objects.get(organization=self.unit, kind="leadership")
        GroupMember.objects.update_or_create(group=leadership, user=self.nina, defaults={"position": "member"})
        draft = services.plan_import_draft(actor=self.uma, import_id=self.row.pk)
        plan_activate(plan=draft, actor=self.uma)
        self.assertEqual(GroupMember.objects.get(group=leadership, user=self.nina).position, "head")
        self.assertIn("调整其职务", AuditEntry.objects.get(action="group.import").summary)
