"""The plan's clocks on an incident: planned on logging, re-planned on level or category changes,
met by the act they ask for (back-dated reports too), waived only by a leader with a reason."""

from datetime import timedelta
from typing import Any

import time_machine
from django.core.exceptions import ValidationError

from incidents.models import Deadline, DeadlineRule, EmergencyPlan, Report, TimelineEntry
from incidents.services import incidents as svc
from incidents.services.deadlines import deadline_waive
from incidents.services.records import report_record
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted
from opinion_ops.testing import BaseTestCase, aware

MONDAY_9 = aware(2025, 3, 3, 9, 0)


class PlanningTestCase(BaseTestCase):
    def setUp(self) -> None:
        self.traveller = time_machine.travel(MONDAY_9, tick=False)
        self.clock = self.traveller.start()
        self.addCleanup(self.traveller.stop)

    def deadlines(self, incident: Any) -> dict[str, Deadline]:
        return {d.name: d for d in Deadline.objects.filter(incident=incident).exclude(status="cancelled")}

    def warned(self, level: Any) -> Any:
        incident = self.log_incident(minutes_ago=0)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="谣言", scope="本地", trend="rising", risk="high"
        )
        return svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=level)


class PlanTests(PlanningTestCase):
    def test_logging_plans_the_reports_and_response_with_owners_and_reminders(self) -> None:
        incident = self.log_incident(minutes_ago=10)
        planned = self.deadlines(incident)
        self.assertEqual(set(planned), {"口头报告", "书面报告", "公开回应"})
        oral = planned["口头报告"]
        self.assertEqual(oral.due_at, MONDAY_9 + timedelta(minutes=20))
        self.assertEqual(oral.status, Deadline.Status.PENDING)
        self.assertEqual(oral.owner_group.kind, "office")
        self.assertEqual(planned["公开回应"].owner_group.kind, "publicity")
        self.assertEqual(oral.reminder_minutes, [10, 2])
        # Found ten minutes ago: the 10-minute reminder is already due, so it comes first.
        self.assertEqual(oral.next_action_at, MONDAY_9 + timedelta(minutes=10))

    def test_an_inquiry_gets_a_same_day_reply_by_the_end_of_the_working_day(self) -> None:
        incident = self.log_incident(minutes_ago=0, category=self.inquiry)
        self.assertEqual(self.deadlines(incident)["当日答复诉求"].due_at, aware(2025, 3, 3, 17, 30))

    def test_an_inquiry_found_after_hours_is_answered_by_2359_the_same_day(self) -> None:
        self.clock.move_to(aware(2025, 3, 3, 19, 0))
        incident = self.log_incident(minutes_ago=0, category=self.inquiry)
        self.assertEqual(self.deadlines(incident)["当日答复诉求"].due_at, aware(2025, 3, 3, 23, 59))

    def test_a_plan_may_count_the_same_day_to_2359(self) -> None:
        EmergencyPlan.objects.filter(pk=self.plan.pk).update(same_day_cutoff="midnight")
        incident = self.log_incident(minutes_ago=0, category=self.inquiry)
        self.assertEqual(self.deadlines(incident)["当日答复诉求"].due_at, aware(2025, 3, 3, 23, 59))

    def test_changing_the_category_plans_and_cancels_the_reply_clock(self) -> None:
        incident = self.log_incident(minutes_ago=0)
        self.assertNotIn("当日答复诉求", self.deadlines(incident))
        svc.incident_update(incident_id=incident.pk, actor=self.bob, category=self.inquiry)
        self.assertIn("当日答复诉求", self.deadlines(incident))
        hype = self.plan.categories.get(code="hype")
        svc.incident_update(incident_id=incident.pk, actor=self.bob, category=hype)
        reply = Deadline.objects.get(incident=incident, name="当日答复诉求")
        self.assertEqual(reply.status, Deadline.Status.CANCELLED)
        self.assertIsNone(reply.next_action_at)

    def test_a_level_change_replans_the_clocks_it_affects_and_the_timeline_says_so(self) -> None:
        rule = DeadlineRule.objects.create(
            plan=self.plan, name="报上级主管部门", kind="written_report", anchor="warning", offset_minutes=60
        )
        rule.levels.set([self.level1])
        incident = self.warned(self.level2)
        self.assertNotIn("报上级主管部门", self.deadlines(incident))
        self.clock.move_to(MONDAY_9 + timedelta(minutes=5))
        svc.incident_change_level(incident_id=incident.pk, actor=self.alice, level=self.level1, reason="热度上升")
        upward = self.deadlines(incident)["报上级主管部门"]
        self.assertEqual(upward.due_at, MONDAY_9 + timedelta(minutes=60))
        entry = TimelineEntry.objects.filter(incident=incident, kind="deadline").latest("id")
        self.assertIn("级别调整", entry.summary)
        self.assertEqual(entry.details["changes"][0]["change"], "planned")
        svc.incident_change_level(incident_id=incident.pk, actor=self.alice, level=self.level2, reason="回落")
        upward.refresh_from_db()
        self.assertEqual(upward.status, Deadline.Status.CANCELLED)

    def test_a_corrected_discovery_time_moves_the_due_times(self) -> None:
        incident = self.log_incident(minutes_ago=0)
        svc.incident_update(
            incident_id=incident.pk,
            actor=self.bob,
            discovered_at=MONDAY_9 - timedelta(minutes=20),
            reason="首帖时间核实",
        )
        oral = self.deadlines(incident)["口头报告"]
        self.assertEqual(oral.due_at, MONDAY_9 + timedelta(minutes=10))
        self.assertEqual(oral.next_action_at, MONDAY_9 + timedelta(minutes=8))
        entry = TimelineEntry.objects.filter(incident=incident, kind="deadline").latest("id")
        self.assertEqual(entry.details["changes"][0]["change"], "replanned")


class MeetTests(PlanningTestCase):
    def report(self, incident: Any, kind: str, at: Any, **extra: Any) -> Report:
        if kind == "written":
            extra.update(cause="起因", facts="事实", measures_taken="措施")
        return report_record(
            incident_id=incident.pk,
            actor=self.olga,
            kind=kind,
            reported_to="领导小组",
            occurred_at=at,
            summary="报告",
            **extra,
        )

    def test_a_report_in_time_meets_its_clock_and_a_late_one_is_marked_late(self) -> None:
        incident = self.log_incident(minutes_ago=0)
        self.clock.move_to(MONDAY_9 + timedelta(minutes=25))
        self.report(incident, "oral", MONDAY_9 + timedelta(minutes=25))
        self.clock.move_to(MONDAY_9 + timedelta(minutes=100))
        self.report(incident, "written", MONDAY_9 + timedelta(minutes=100))
        planned = {d.name: d for d in Deadline.objects.filter(incident=incident)}
        self.assertEqual(planned["口头报告"].status, Deadline.Status.MET)
        self.assertEqual(planned["书面报告"].status, Deadline.Status.LATE)
        self.assertEqual(planned["公开回应"].status, Deadline.Status.PENDING)
        self.assertIsNone(planned["口头报告"].next_action_at)

    def test_a_written_report_needs_cause_facts_and_measures(self) -> None:
        incident = self.log_incident(minutes_ago=0)
        with self.assertRaises(DomainError) as ctx:
            report_record(
                incident_id=incident.pk,
                actor=self.olga,
                kind="written",
                reported_to="领导小组",
                occurred_at=MONDAY_9,
                summary="报告",
                cause="起因",
            )
        self.assertEqual(ctx.exception.field, "facts")
        self.assertEqual(Deadline.objects.get(incident=incident, name="书面报告").status, Deadline.Status.PENDING)

    def test_a_back_dated_report_meets_the_clock_and_the_timeline_keeps_both_times(self) -> None:
        incident = self.log_incident(minutes_ago=30)
        self.report(incident, "oral", MONDAY_9 - timedelta(minutes=20))  # phoned in before it was logged
        oral = Deadline.objects.get(incident=incident, name="口头报告")
        self.assertEqual(oral.status, Deadline.Status.MET)
        self.assertEqual(oral.met_at, MONDAY_9 - timedelta(minutes=20))
        entry = TimelineEntry.objects.filter(incident=incident, kind="report").get()
        self.assertEqual(entry.occurred_at, MONDAY_9 - timedelta(minutes=20))
        self.assertEqual(entry.recorded_at, MONDAY_9)

    def test_no_report_on_a_dismissed_incident(self) -> None:
        incident = self.log_incident(minutes_ago=0)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.incident_dismiss(incident_id=incident.pk, actor=self.ann, reason="非舆情")
        with self.assertRaises(InvalidTransition):
            self.report(incident, "oral", MONDAY_9)
        self.assertFalse(Report.objects.filter(incident=incident).exists())


class WaiveTests(PlanningTestCase):
    def test_only_a_leader_waives_and_only_with_a_reason(self) -> None:
        incident = self.log_incident(minutes_ago=0)
        oral = Deadline.objects.get(incident=incident, name="口头报告")
        with self.assertRaises(DomainError) as ctx:
            deadline_waive(deadline_id=oral.pk, actor=self.alice, reason="  ")
        self.assertEqual(ctx.exception.field, "reason")
        with self.assertRaises(NotPermitted):
            deadline_waive(deadline_id=oral.pk, actor=self.hank, reason="已当面报告")
        with self.assertRaises(NotPermitted):
            deadline_waive(deadline_id=oral.pk, actor=self.charlie, reason="已当面报告")
        self.assertEqual(Deadline.objects.get(pk=oral.pk).status, Deadline.Status.PENDING)
        waived = deadline_waive(deadline_id=oral.pk, actor=self.alice, reason="已当面报告")
        self.assertEqual((waived.status, waived.decided_by), (Deadline.Status.WAIVED, self.alice))
        self.assertIsNone(Deadline.objects.get(pk=oral.pk).next_action_at)
        self.assertTrue(TimelineEntry.objects.filter(incident=incident, summary__contains="已当面报告").exists())
        with self.assertRaises(DomainError):
            deadline_waive(deadline_id=oral.pk, actor=self.alice, reason="再次")


class RuleValidationTests(BaseTestCase):
    def errors(self, **fields: Any) -> set[str]:
        fields.setdefault("reminder_minutes", [10, 2])
        rule = DeadlineRule(plan=self.plan, name="x", kind="other", **fields)
        try:
            rule.clean()
        except ValidationError as exc:
            return set(exc.message_dict)
        return set()

    def test_it_accepts_sensible_rules(self) -> None:
        self.assertEqual(self.errors(offset_minutes=30), set())
        self.assertEqual(self.errors(same_day=True, reminder_minutes=[60]), set())

    def test_it_refuses_negative_zero_and_absurd_offsets(self) -> None:
        for offset in (-5, 0, 30 * 24 * 60 + 1, 10**9):
            with self.subTest(offset=offset):
                self.assertIn("offset_minutes", self.errors(offset_minutes=offset))
        self.assertEqual(self.errors(offset_minutes=None), {"offset_minutes"})
        self.assertEqual(self.errors(offset_minutes=30, same_day=True), {"offset_minutes"})

    def test_it_refuses_reminders_at_or_after_the_offset_and_bad_lists(self) -> None:
        for reminders in ([30], [45, 2], [0], [-1], [2, 2], ["10"], "10", [True]):
            with self.subTest(reminders=reminders):
                self.assertEqual(self.errors(offset_minutes=30, reminder_minutes=reminders), {"reminder_minutes"})
