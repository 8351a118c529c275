"""Four-eyes (审定回避) as a plan setting: under a plan that asks for it, the leader who approves a
statement did not draft it or write the version decided on, and the leader who signs a written
report did not make it. Plans without the setting behave as before."""

from typing import Any

from django.utils import timezone

from incidents import policies
from incidents.integrity import incident_record_verify
from incidents.models import Approval, EmergencyPlan, Incident, Report, Statement, StatementVersion
from incidents.services import incidents as svc
from incidents.services import records
from incidents.services.plans import plan_create_revision
from incidents.services.statements import statement_create, statement_decide, statement_revise, statement_submit
from integrations.testing import ApiTestCase
from opinion_ops.errors import NotPermitted
from opinion_ops.testing import make_user


class FourEyesTestCase(ApiTestCase):
    leo: Any

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.leo = make_user("leo", cls.unit, "leadership")  # a second leader

    def four_eyes(self, on: bool = True) -> None:
        EmergencyPlan.objects.filter(pk=self.plan.pk).update(four_eyes=on)

    def responding(self) -> Incident:
        incident = self.log_incident()
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="谣言", scope="本地", trend="rising", risk="low"
        )
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level3)
        svc.incident_start_response(incident_id=incident.pk, actor=self.hank)
        return Incident.objects.get(pk=incident.pk)

    def submitted(self, incident: Incident, drafter: Any) -> Statement:
        statement = statement_create(incident_id=incident.pk, actor=drafter, title="情况通报", text="经核查……")
        return statement_submit(statement_id=statement.pk, actor=drafter)

    def written_report(self, incident: Incident, reporter: Any) -> Report:
        return records.report_record(
            incident_id=incident.pk,
            actor=reporter,
            kind="written",
            reported_to="领导小组",
            occurred_at=timezone.now(),
            summary="书面报告",
            cause="起因",
            facts="事实",
            measures_taken="措施",
        )

    def may(self, action: str, user: Any, incident: Incident, record: Any) -> bool:
        return policies.allows(action, self.fresh(user), Incident.objects.get(pk=incident.pk), record)


class StatementTests(FourEyesTestCase):
    def test_it_refuses_the_leader_who_drafted_the_statement_and_lets_another_approve(self) -> None:
        self.four_eyes()
        incident = self.responding()
        statement = self.submitted(incident, self.alice)
        with self.assertRaises(NotPermitted) as refused:
            statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        self.assertIn("审定回避（四眼原则）", str(refused.exception.message))
        self.assertFalse(Approval.objects.filter(incident=incident).exists())
        self.assertEqual(StatementVersion.objects.get(statement=statement).decided_by, None)
        self.assertFalse(self.may("decide_statement", self.alice, incident, statement))
        self.assertTrue(self.may("decide_statement", self.leo, incident, statement))
        statement_decide(statement_id=statement.pk, actor=self.leo, approve=True)
        self.assertEqual(Approval.objects.get(incident=incident).actor, self.leo)
        self.assertTrue(incident_record_verify(incident=incident).intact)

    def test_it_refuses_the_author_of_the_version_being_decided(self) -> None:
        self.four_eyes()
        incident = self.responding()
        statement = self.submitted(incident, self.sara)
        statement_decide(statement_id=statement.pk, actor=self.alice, approve=False, comment="请补充处置进展")
        statement_revise(statement_id=statement.pk, actor=self.alice, text="经核查……（领导改稿）")
        statement_submit(statement_id=statement.pk, actor=self.sara)
        with self.assertRaises(NotPermitted):
            statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        statement_decide(statement_id=statement.pk, actor=self.leo, approve=True)
        approved = Approval.objects.get(incident=incident, decision="approved")
        self.assertEqual((approved.actor, approved.version_number), (self.leo, 2))

    def test_it_answers_a_refused_approval_over_the_api_with_403_and_the_reason(self) -> None:
        self.four_eyes()
        incident = self.responding()
        statement = self.submitted(incident, self.alice)
        response = self.client_for(self.alice).post(f"/api/v1/statements/{statement.pk}/approve/", {})
        error = self.assertError(response, 403, "permission_denied")
        self.assertIn("四眼原则", error["message"])
        response = self.client_for(self.leo).post(f"/api/v1/statements/{statement.pk}/approve/", {})
        self.assertEqual(response.json()["status"], "approved", response.content)


class ReportTests(FourEyesTestCase):
    def test_it_refuses_a_leader_signing_her_own_report_and_lets_another_sign(self) -> None:
        self.four_eyes()
        incident = self.responding()
        report = self.written_report(incident, self.alice)
        with self.assertRaises(NotPermitted) as refused:
            records.report_sign_off(report_id=report.pk, actor=self.alice)
        self.assertIn("不能审阅自己的报告", str(refused.exception.message))
        self.assertIsNone(Report.objects.get(pk=report.pk).signed_off_by)
        self.assertFalse(self.may("sign_off_report", self.alice, incident, report))
        records.report_sign_off(report_id=report.pk, actor=self.leo)
        self.assertEqual(Report.objects.get(pk=report.pk).signed_off_by, self.leo)
        self.assertEqual(Approval.objects.get(report=report).actor, self.leo)


class PlanTests(FourEyesTestCase):
    def test_it_lets_the_author_approve_and_sign_under_a_plan_without_the_setting(self) -> None:
        self.assertFalse(EmergencyPlan.objects.get(pk=self.plan.pk).four_eyes)
        incident = self.responding()
        statement = self.submitted(incident, self.alice)
        statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        report = self.written_report(incident, self.alice)
        records.report_sign_off(report_id=report.pk, actor=self.alice)
        self.assertEqual(Approval.objects.filter(incident=incident, actor=self.alice).count(), 2)

    def test_it_keeps_the_setting_in_a_revision_of_the_plan(self) -> None:
        self.four_eyes()
        draft = plan_create_revision(plan=EmergencyPlan.objects.get(pk=self.plan.pk), actor=self.uma)
        self.assertTrue(draft.four_eyes)
        self.assertEqual(draft.based_on_id, self.plan.pk)
