"""Plans: the default from the seed plans, frozen versions, revisions and validation."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from incidents.models import DeadlineRule, EmergencyPlan, Incident
from incidents.services.plans import plan_activate, plan_create_revision
from opinion_ops.errors import DomainError
from opinion_ops.testing import BaseTestCase


class DefaultPlanTests(BaseTestCase):
    def test_it_has_the_three_levels_most_severe_first_with_warning_colours(self) -> None:
        levels = list(
            self.plan.levels.order_by("rank").values_list("name", "color", "response_tier", "requires_leader")
        )
        self.assertEqual(
            levels,
            [
                ("一级", "#cf1322", "superior", True),
                ("二级", "#d46b08", "leadership", True),
                ("三级", "#d4b106", "department", False),
            ],
        )

    def test_it_has_the_seed_plans_clocks(self) -> None:
        rules = {r.kind: r for r in self.plan.deadline_rules.all()}
        self.assertEqual(rules["oral_report"].offset_minutes, 30)
        self.assertEqual(rules["written_report"].offset_minutes, 90)
        self.assertEqual(rules["public_response"].offset_minutes, 180)
        self.assertTrue(rules["reply"].same_day)
        self.assertEqual([c.code for c in rules["reply"].categories.all()], ["inquiry"])
        self.assertEqual(rules["oral_report"].reminder_minutes, [10, 2])

    def test_it_has_the_four_handling_categories_with_measures(self) -> None:
        codes = list(self.plan.categories.values_list("code", flat=True))
        self.assertEqual(codes, ["inquiry", "hype", "fabrication", "constructive"])
        self.assertIn("统一回复", self.plan.categories.get(code="inquiry").measures)

    def test_a_unit_has_only_one_active_plan(self) -> None:
        with self.assertRaises(IntegrityError), transaction.atomic():
            EmergencyPlan.objects.create(organization=self.unit, version=99, title="x", status="active")


class RevisionTests(BaseTestCase):
    def test_a_revision_copies_everything_into_a_new_draft_version(self) -> None:
        draft = plan_create_revision(plan=self.plan, actor=self.uma, change_note="根据演练修订")
        self.assertEqual(draft.status, "draft")
        self.assertEqual(draft.version, self.plan.version + 1)
        self.assertEqual(draft.levels.count(), 3)
        self.assertEqual(draft.deadline_rules.count(), 4)
        reply = draft.deadline_rules.get(kind="reply")
        self.assertEqual([c.plan_id for c in reply.categories.all()], [draft.pk])

    def test_an_incident_keeps_the_plan_version_it_started_under(self) -> None:
        incident = self.log_incident()
        draft = plan_create_revision(plan=self.plan, actor=self.uma)
        rule = draft.deadline_rules.get(kind="oral_report")
        rule.offset_minutes = 20
        rule.save()
        plan_activate(plan=draft, actor=self.uma)
        incident = Incident.objects.get(pk=incident.pk)
        self.assertEqual(incident.plan_id, self.plan.pk)
        self.assertEqual(EmergencyPlan.objects.get(pk=self.plan.pk).status, "superseded")
        new_incident = self.log_incident()
        self.assertEqual(new_incident.plan_id, draft.pk)
        oral = new_incident.deadlines.get(kind="oral_report")
        self.assertEqual((oral.due_at - new_incident.discovered_at).total_seconds(), 20 * 60)

    def test_only_one_draft_at_a_time(self) -> None:
        plan_create_revision(plan=self.plan)
        with self.assertRaises(DomainError):
            plan_create_revision(plan=self.plan)

    def test_it_refuses_to_activate_a_plan_with_an_invalid_rule(self) -> None:
        draft = plan_create_revision(plan=self.plan)
        DeadlineRule.objects.filter(plan=draft, kind="oral_report").update(offset_minutes=999_999)
        with self.assertRaises(DomainError) as ctx:
            plan_activate(plan=draft)
        self.assertIn("口头报告", str(ctx.exception.message))
        self.assertEqual(ctx.exception.field, "offset_minutes")
        self.assertEqual(EmergencyPlan.objects.get(pk=draft.pk).status, "draft")
        self.assertEqual(EmergencyPlan.objects.get(pk=self.plan.pk).status, "active")

    def test_it_refuses_to_activate_an_active_plan_again(self) -> None:
        with self.assertRaises(DomainError):
            plan_activate(plan=self.plan)


class DeadlineRuleValidationTests(BaseTestCase):
    def rule(self, **kwargs: object) -> DeadlineRule:
        values: dict[str, object] = {"plan": self.plan, "name": "测试", "kind": "other", "offset_minutes": 60}
        values.update(kwargs)
        return DeadlineRule(**values)

    def errors(self, rule: DeadlineRule) -> dict[str, list[str]]:
        try:
            rule.full_clean()
        except ValidationError as exc:
            return exc.message_dict
        return {}

    def test_it_accepts_a_sensible_rule(self) -> None:
        self.assertEqual(self.errors(self.rule(reminder_minutes=[10, 2])), {})

    def test_it_refuses_absurd_offsets(self) -> None:
        self.assertIn("offset_minutes", self.errors(self.rule(offset_minutes=0)))
        self.assertIn("offset_minutes", self.errors(self.rule(offset_minutes=60 * 24 * 31)))
        self.assertIn("offset_minutes", self.errors(self.rule(offset_minutes=None)))

    def test_it_refuses_reminders_that_are_not_before_the_deadline(self) -> None:
        self.assertIn("reminder_minutes", self.errors(self.rule(reminder_minutes=[60])))
        self.assertIn("reminder_minutes", self.errors(self.rule(reminder_minutes=[-5])))
        self.assertIn("reminder_minutes", self.errors(self.rule(reminder_minutes=["ten"])))
        self.assertIn("reminder_minutes", self.errors(self.rule(reminder_minutes=[5, 5])))

    def test_a_same_day_rule_takes_no_minutes(self) -> None:
        self.assertIn("offset_minutes", self.errors(self.rule(same_day=True, offset_minutes=30)))
        self.assertEqual(self.errors(self.rule(same_day=True, offset_minutes=None)), {})
