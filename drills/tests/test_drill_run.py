"""A whole drill at ×60: scheduled, injected by the sweeper at its time, its clocks due at the plan's
offsets / 60, a missed clock escalating one (fast) interval at a time, the steps done through the
ordinary services, closed, and scored. And the same at ×1: the plan's own times."""

from datetime import timedelta

from drills.models import Drill
from drills.scoring import drill_report
from drills.services import drills_sweep
from drills.tests.base import MIN, SEC, START, DrillTestCase
from incidents.models import Deadline, DeadlineSignal, Incident, TimelineEntry
from incidents.services import incidents as svc
from incidents.services import statements as st
from incidents.services.records import report_record
from monitoring.models import Mention
from notifications.models import Notification
from organizations.models import AuditEntry

T0 = START + 10 * MIN  # the drill's start


class DrillRunTests(DrillTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.drill = self.schedule(self.scenario(), at=T0, speed=60)

    def deadline(self, name: str) -> Deadline:
        return Deadline.objects.get(incident=self.refresh().incident, name=name)

    def refresh(self) -> Drill:
        self.drill.refresh_from_db()
        return self.drill

    def test_it_is_injected_at_its_time_once_as_a_fast_drill_incident(self) -> None:
        self.at(T0 - SEC)
        self.assertEqual(self.refresh().status, Drill.Status.SCHEDULED)
        self.assertFalse(Incident.objects.exists())
        self.at(T0)
        self.at(T0 + SEC)  # a second tick (or a second worker) injects nothing more
        drill = self.refresh()
        self.assertEqual(drill.status, Drill.Status.RUNNING)
        self.assertEqual(Incident.objects.count(), 1)
        incident = drill.incident
        assert incident is not None
        self.assertTrue(incident.is_drill)
        self.assertEqual(incident.clock_speed, 60)
        self.assertTrue(incident.title.startswith("【演练】"))
        self.assertEqual(incident.discovered_at, T0)
        self.assertEqual(incident.category.code, "inquiry")
        self.assertEqual(incident.reporter, self.alice)
        # The first post is there from the start, marked as a drill post; the later ones are not yet.
        posts = list(Mention.objects.filter(incident=incident))
        self.assertEqual(len(posts), 1)
        self.assertTrue(posts[0].text.startswith(f"【演练 {incident.reference}】网友爆料"))
        self.assertIsNotNone(posts[0].matched_at)  # no keyword alert from a drill post
        timeline = list(TimelineEntry.objects.filter(incident=incident).values_list("summary", flat=True))
        self.assertTrue(any("应急演练开始" in s and "×60" in s for s in timeline), timeline)
        self.assertTrue(any("关联微博信息" in s for s in timeline), timeline)
        self.assertEqual(AuditEntry.objects.filter(action="drill.inject", target_id=str(drill.pk)).count(), 1)
        # The unit was told through the ordinary notifications, and the message says it is a drill.
        created = Notification.objects.filter(incident=incident, kind="incident.created")
        self.assertTrue(created.exists())
        self.assertTrue(all("演练" in n.title for n in created))

    def test_its_clocks_are_due_at_the_plan_offsets_divided_by_sixty(self) -> None:
        self.at(T0)
        self.assertEqual(self.deadline("口头报告").due_at, T0 + 30 * SEC)
        self.assertEqual(self.deadline("书面报告").due_at, T0 + 90 * SEC)
        self.assertEqual(self.deadline("公开回应").due_at, T0 + 180 * SEC)
        # Same day (17:30 here) is 8 h 20 min away: 500 s at ×60.
        self.assertEqual(self.deadline("当日答复诉求").due_at, T0 + 500 * SEC)
        # The reminders 10 and 2 plan minutes before: 10 s and 2 s before.
        self.assertEqual(self.deadline("口头报告").next_action_at, T0 + 20 * SEC)

    def test_posts_appear_at_their_drill_minute(self) -> None:
        self.at(T0)
        incident = self.refresh().incident
        self.at(T0 + 19 * SEC)
        self.assertEqual(Mention.objects.filter(incident=incident).count(), 1)
        self.at(T0 + 20 * SEC)  # drill minute 20
        self.assertEqual(Mention.objects.filter(incident=incident).count(), 2)
        self.at(T0 + 50 * SEC)
        self.assertEqual(Mention.objects.filter(incident=incident).count(), 3)
        self.assertIsNone(self.refresh().next_action_at)
        self.assertEqual(self.drill.posts_released, 3)

    def test_a_missed_clock_reminds_misses_and_climbs_one_fast_interval_at_a_time(self) -> None:
        self.at(T0)
        self.at(T0 + 20 * SEC)
        # The reminder says the real lead time: the plan's 10 minutes are 10 seconds at ×60.
        self.assertIn("10 秒后到期", Notification.objects.filter(recipient=self.olga).first().title)
        self.at(T0 + 30 * SEC)
        oral = self.deadline("口头报告")
        self.assertEqual(oral.status, Deadline.Status.MISSED)
        rungs = lambda: list(  # noqa: E731
            DeadlineSignal.objects.filter(deadline=oral)
            .exclude(kind="reminder")
            .order_by("id")
            .values_list("rung", flat=True)
        )
        self.assertEqual(rungs(), ["owner"])
        self.at(T0 + 44 * SEC)  # the plan's 15-minute interval is 15 s at ×60
        self.assertEqual(rungs(), ["owner"])
        self.at(T0 + 45 * SEC)
        self.assertEqual(rungs(), ["owner", "group_head"])
        self.at(T0 + 60 * SEC)
        self.assertEqual(rungs(), ["owner", "group_head", "leadership"])
        self.assertTrue(
            Notification.objects.filter(recipient=self.alice, deadline=oral, title__contains="逾期升级").exists()
        )

    def test_a_whole_drill_run_is_scored_against_the_plan(self) -> None:
        self.at(T0)
        incident = self.refresh().incident
        assert incident is not None
        pk = incident.pk
        # 研判 and 预警 within the first drill minutes.
        self.clock_to(T0 + 5 * SEC)
        svc.incident_start_assessment(incident_id=pk, actor=self.ann)
        svc.assessment_record(
            incident_id=pk,
            actor=self.ann,
            nature="饭菜质量",
            scope="本校",
            trend="rising",
            risk="medium",
            proposed_level=self.level2,
        )
        svc.incident_issue_warning(incident_id=pk, actor=self.alice, level=self.level2)
        # The oral report is forgotten: the sweeper records it missed at 30 s and climbs the chain.
        self.at(T0 + 31 * SEC)
        self.at(T0 + 46 * SEC)
        oral = self.deadline("口头报告")
        self.assertEqual(oral.status, Deadline.Status.MISSED)
        self.assertEqual(oral.escalation_rung, "group_head")
        # Then made, late (drill minute 50); the written report on time (drill minute 80).
        self.clock_to(T0 + 50 * SEC)
        report_record(
            incident_id=pk,
            actor=self.olga,
            kind="oral",
            reported_to="Alice",
            occurred_at=T0 + 50 * SEC,
            summary="电话报告",
        )
        self.clock_to(T0 + 80 * SEC)
        report_record(
            incident_id=pk,
            actor=self.olga,
            kind="written",
            reported_to="领导小组",
            occurred_at=T0 + 80 * SEC,
            summary="书面报告",
            cause="网帖",
            facts="正在核实",
            measures_taken="已约谈食堂",
        )
        # A statement drafted, approved and published at drill minute 150 (the 180-minute clock).
        self.clock_to(T0 + 120 * SEC)
        statement = st.statement_create(incident_id=pk, actor=self.sara, title="情况通报", text="学校已介入调查。")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        self.clock_to(T0 + 150 * SEC)
        st.statement_publish(statement_id=statement.pk, actor=self.sara, channel="官方微博")
        svc.incident_start_response(incident_id=pk, actor=self.hank)
        svc.incident_start_tracking(incident_id=pk, actor=self.hank)
        # The same-day reply clock is still counting: the leader waives it moving on to 总结.
        self.at(T0 + 200 * SEC)
        incident.refresh_from_db()
        svc.incident_start_review(incident_id=pk, actor=self.alice, clocks=self.waive_all(incident, "演练中未安排答复"))
        svc.review_record(incident_id=pk, actor=self.alice, summary="演练总结", evaluation="口头报告迟报")

        running = drill_report(self.refresh())
        self.assertFalse(running.final)
        svc.incident_archive(incident_id=pk, actor=self.alice)
        self.at(T0 + 210 * SEC)
        drill = self.refresh()
        self.assertEqual(drill.status, Drill.Status.FINISHED)
        report = drill_report(drill)
        self.assertTrue(report.final)
        clocks = {c.name: c for c in report.clocks}
        self.assertEqual(clocks["口头报告"].status, Deadline.Status.LATE)
        self.assertFalse(clocks["口头报告"].passed)
        self.assertEqual(clocks["口头报告"].plan_minutes, 30)
        self.assertEqual(clocks["口头报告"].drill_minutes_taken, 50)
        self.assertEqual(clocks["口头报告"].real_seconds_taken, 50)
        self.assertEqual(clocks["口头报告"].margin_drill_minutes, -20)
        self.assertIn("逾期 20 分钟后完成", clocks["口头报告"].verdict)
        self.assertTrue(clocks["书面报告"].passed)
        self.assertEqual(clocks["书面报告"].margin_drill_minutes, 10)
        self.assertTrue(clocks["公开回应"].passed)
        self.assertEqual(clocks["公开回应"].drill_minutes_taken, 150)
        self.assertFalse(clocks["当日答复诉求"].passed)
        self.assertEqual(clocks["当日答复诉求"].status, Deadline.Status.WAIVED)
        steps = {s.key: s for s in report.steps}
        self.assertTrue(all(s.passed for s in steps.values()), [(s.key, s.detail) for s in steps.values()])
        self.assertEqual(steps["assessment"].drill_minutes, 5)
        self.assertIn("与预期一致", steps["level"].detail)
        # 2 of 4 clocks and 7 of 7 steps: 9 of 11.
        self.assertEqual((report.passed, report.scored, report.score), (9, 11, 82))
        self.assertEqual(drill.score, 82)
        self.assertEqual(AuditEntry.objects.filter(action="drill.finish").count(), 1)

    def test_a_wrong_level_costs_the_level_step(self) -> None:
        self.at(T0)
        pk = self.refresh().incident_id
        svc.incident_start_assessment(incident_id=pk, actor=self.ann)
        svc.assessment_record(incident_id=pk, actor=self.ann, nature="n", scope="s", trend="stable", risk="low")
        svc.incident_issue_warning(incident_id=pk, actor=self.alice, level=self.level3)
        step = {s.key: s for s in drill_report(self.refresh()).steps}["level"]
        self.assertFalse(step.passed)
        self.assertIn("低于预期", step.detail)

    def clock_to(self, when: object) -> None:
        self.clock.move_to(when)


class RealSpeedDrillTests(DrillTestCase):
    def test_at_speed_one_the_clocks_are_the_plans_own(self) -> None:
        drill = self.schedule(self.scenario(), at=T0, speed=1)
        self.at(T0)
        drill.refresh_from_db()
        oral = Deadline.objects.get(incident=drill.incident, name="口头报告")
        self.assertEqual(drill.incident.clock_speed, 1)
        self.assertEqual(oral.due_at, T0 + 30 * MIN)
        self.assertEqual(oral.next_action_at, T0 + 20 * MIN)
        self.assertEqual(
            Deadline.objects.get(incident=drill.incident, name="当日答复诉求").due_at,
            T0 + timedelta(hours=8, minutes=20),
        )
        # The second post comes 20 real minutes in.
        self.at(T0 + 19 * MIN)
        self.assertEqual(Mention.objects.filter(incident=drill.incident).count(), 1)
        self.at(T0 + 20 * MIN)
        self.assertEqual(Mention.objects.filter(incident=drill.incident).count(), 2)
        self.at(T0 + 30 * MIN)
        oral.refresh_from_db()
        self.assertEqual(oral.status, Deadline.Status.MISSED)
        self.at(T0 + 44 * MIN)
        self.assertFalse(DeadlineSignal.objects.filter(deadline=oral, kind="escalation").exists())
        self.at(T0 + 45 * MIN)
        self.assertTrue(DeadlineSignal.objects.filter(deadline=oral, kind="escalation").exists())

    def test_a_sweep_with_nothing_due_does_nothing(self) -> None:
        self.schedule(self.scenario(), at=T0, speed=10)
        self.assertEqual(drills_sweep(), {"advanced": 0, "failed": 0})
