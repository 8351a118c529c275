"""Whose turn it is: each step of the plan reaches the people who must act next, in their
notification centre and through their groups' channels — and not the person who just acted."""

from typing import Any
from unittest import mock

from django.utils import timezone

from incidents import events
from incidents.models import EmergencyPlan, Incident
from incidents.services import incidents as svc
from incidents.services import records
from incidents.services import statements as st
from notifications.models import Delivery, Notification, NotificationChannel
from opinion_ops.testing import BaseTestCase, make_user
from organizations.models import ResponseGroup


class TurnTestCase(BaseTestCase):
    leo: Any

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.leo = make_user("leo", cls.unit, "leadership")  # a second leader

    def setUp(self) -> None:
        dispatch = mock.patch("notifications.services.deliveries_dispatch")
        dispatch.start()
        self.addCleanup(dispatch.stop)

    def group(self, kind: str) -> ResponseGroup:
        return ResponseGroup.objects.get(organization=self.unit, kind=kind)

    def told(self, event: str, user: Any = None) -> list[Notification]:
        notes = Notification.objects.filter(kind=event)
        return list(notes.filter(recipient=user) if user is not None else notes)

    def who_was_told(self, event: str) -> set[str]:
        return set(Notification.objects.filter(kind=event).values_list("recipient__username", flat=True))

    def assessed(self) -> Incident:
        incident = self.log_incident()
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="谣言", scope="本地", trend="rising", risk="low"
        )
        return incident

    def responding(self) -> Incident:
        incident = self.assessed()
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level3)
        svc.incident_start_response(incident_id=incident.pk, actor=self.hank)
        return Incident.objects.get(pk=incident.pk)

    def plan_settings(self, **values: bool) -> None:
        EmergencyPlan.objects.filter(pk=self.plan.pk).update(**values)


class NewIncidentTests(TurnTestCase):
    def test_it_tells_the_analysts_and_the_office_on_duty_of_a_new_incident(self) -> None:
        NotificationChannel.objects.create(
            group=self.group("analysis"), kind="webhook", target="https://hooks.example.cn/analysis"
        )
        incident = self.log_incident(user=self.bob, title="网传某校校服收费")
        self.assertEqual(self.who_was_told(events.INCIDENT_CREATED), {"ann", "olga"})
        note = self.told(events.INCIDENT_CREATED, self.ann)[0]
        self.assertIn("待研判", note.title)
        self.assertIn("网传某校校服收费", note.title)
        self.assertIn("示范区教育局", note.body)
        self.assertIn(f"/incidents/{incident.pk}/", note.url)
        self.assertTrue(Delivery.objects.filter(kind=events.INCIDENT_CREATED, channel__group__kind="analysis").exists())

    def test_the_analyst_who_logs_it_is_not_told_of_their_own_incident(self) -> None:
        self.log_incident(user=self.ann)
        self.assertEqual(self.who_was_told(events.INCIDENT_CREATED), {"olga"})


class WarningNoticeTests(TurnTestCase):
    def test_the_warning_reaches_the_groups_it_assigns_with_its_text_and_their_requirement(self) -> None:
        incident = self.assessed()
        svc.incident_issue_warning(
            incident_id=incident.pk,
            actor=self.alice,
            level=self.level2,
            text="网传食堂问题经核实部分属实，须于今日内统一回应。",
            groups=[(self.group("handling"), "联系平台删除不实帖文"), (self.group("publicity"), "起草情况通报")],
        )
        self.assertEqual(self.who_was_told(events.INCIDENT_WARNING_ISSUED), {"hank", "sara"})
        note = self.told(events.INCIDENT_WARNING_ISSUED, self.hank)[0]
        self.assertIn("二级预警", note.title)
        self.assertIn("网传食堂问题经核实部分属实", note.body)
        self.assertIn("舆情处置组：联系平台删除不实帖文", note.body)
        self.assertIn("起草情况通报", note.body)

    def test_a_level_change_with_a_notice_reaches_the_groups_already_assigned(self) -> None:
        incident = self.responding()
        svc.incident_assign_groups(incident_id=incident.pk, actor=self.alice, groups=[self.group("handling")])
        svc.incident_change_level(
            incident_id=incident.pk, actor=self.alice, level=self.level2, reason="扩散", text="转发量破万，提级处置"
        )
        note = self.told(events.INCIDENT_WARNING_ISSUED, self.hank)[0]
        self.assertIn("预警级别调整为二级", note.title)
        self.assertIn("转发量破万，提级处置", note.body)


class StatementTests(TurnTestCase):
    def test_a_submitted_statement_reaches_the_leaders_who_may_approve_it(self) -> None:
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        self.assertEqual(self.who_was_told(events.STATEMENT_SUBMITTED), {"alice", "leo"})

    def test_under_four_eyes_the_drafting_leader_is_not_asked_to_approve_their_own_draft(self) -> None:
        self.plan_settings(four_eyes=True)
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.alice, title="情况通报", text="经核查……")
        st.statement_submit(statement_id=statement.pk, actor=self.alice)
        self.assertEqual(self.who_was_told(events.STATEMENT_SUBMITTED), {"leo"})

    def test_under_legal_review_the_legal_group_is_asked_first_then_the_leaders(self) -> None:
        self.plan_settings(legal_review=True)
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        self.assertEqual(self.who_was_told(events.STATEMENT_SUBMITTED), {"lee"})
        self.assertIn("待法律审核", self.told(events.STATEMENT_SUBMITTED, self.lee)[0].title)
        st.statement_legal_review(statement_id=statement.pk, actor=self.lee, approve=True, comment="表述合法")
        self.assertEqual(self.who_was_told(events.STATEMENT_LEGAL_APPROVED), {"alice", "leo"})
        self.assertIn("表述合法", self.told(events.STATEMENT_LEGAL_APPROVED, self.alice)[0].body)

    def test_a_legal_return_reaches_the_drafter_with_the_comment(self) -> None:
        self.plan_settings(legal_review=True)
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        st.statement_legal_review(statement_id=statement.pk, actor=self.lee, approve=False, comment="涉及未成年人信息")
        self.assertEqual(self.who_was_told(events.STATEMENT_LEGAL_REJECTED), {"sara"})
        self.assertIn("涉及未成年人信息", self.told(events.STATEMENT_LEGAL_REJECTED, self.sara)[0].body)

    def test_a_decision_reaches_the_drafter_and_the_author_with_the_comment(self) -> None:
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        st.statement_revise(statement_id=statement.pk, actor=self.hank, text="经核查，情况如下……")
        st.statement_submit(statement_id=statement.pk, actor=self.hank)
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=False, comment="请补充处理结果")
        self.assertEqual(self.who_was_told(events.STATEMENT_REJECTED), {"sara", "hank"})
        self.assertIn("请补充处理结果", self.told(events.STATEMENT_REJECTED, self.sara)[0].body)

    def test_a_withdrawal_tells_the_leaders_there_is_nothing_to_decide(self) -> None:
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        st.statement_withdraw(statement_id=statement.pk, actor=self.sara)
        self.assertEqual(self.who_was_told(events.STATEMENT_WITHDRAWN), {"alice", "leo"})


class ReportTests(TurnTestCase):
    def written(self, incident: Incident, reporter: Any, **kwargs: Any) -> Any:
        return records.report_record(
            incident_id=incident.pk,
            actor=reporter,
            kind="written",
            reported_to="领导小组",
            occurred_at=timezone.now(),
            summary="书面报告",
            cause="网传视频",
            facts="系旧闻",
            measures_taken="已澄清",
            **kwargs,
        )

    def test_a_written_report_reaches_the_leaders_who_sign_it(self) -> None:
        incident = self.log_incident()
        self.written(incident, self.olga)
        self.assertEqual(self.who_was_told(events.REPORT_RECORDED), {"alice", "leo"})
        self.assertIn("待审阅", self.told(events.REPORT_RECORDED, self.alice)[0].title)

    def test_an_oral_report_asks_no_one_to_sign(self) -> None:
        incident = self.log_incident()
        records.report_record(
            incident_id=incident.pk,
            actor=self.olga,
            kind="oral",
            reported_to="周组长",
            occurred_at=timezone.now(),
            summary="电话报告",
        )
        self.assertEqual(self.who_was_told(events.REPORT_RECORDED), set())

    def test_a_report_sent_up_reaches_the_leaders_and_the_superior_unit_by_name(self) -> None:
        incident = self.log_incident()
        self.written(incident, self.olga, to_superior=True)
        self.assertEqual(self.who_was_told(events.REPORT_RECORDED), {"alice", "leo", "sam"})
        superior = self.told(events.REPORT_RECORDED, self.sam)[0]
        self.assertIn("示范区教育局", superior.title)
        self.assertIn("下级单位", superior.title)

    def test_a_sign_off_tells_the_reporter_with_the_instruction(self) -> None:
        incident = self.log_incident()
        report = self.written(incident, self.olga)
        records.report_sign_off(report_id=report.pk, actor=self.alice, comment="同意，请持续跟踪")
        note = self.told(events.REPORT_SIGNED_OFF, self.olga)[0]
        self.assertIn("同意，请持续跟踪", note.body)
        self.assertEqual(self.who_was_told(events.REPORT_SIGNED_OFF), {"olga"})


class EscalationTests(TurnTestCase):
    def test_an_escalation_reaches_the_superior_unit_with_the_units_name(self) -> None:
        incident = self.log_incident()
        svc.incident_escalate(incident_id=incident.pk, actor=self.alice, note="涉及多校")
        note = self.told(events.INCIDENT_ESCALATED, self.sam)[0]
        self.assertIn("示范区教育局", note.title)
        self.assertIn("涉及多校", note.body)
        self.assertFalse(self.told(events.INCIDENT_ESCALATED, self.charlie))
