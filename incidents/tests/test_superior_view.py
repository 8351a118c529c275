"""The superior unit's view (上级主管部门): what its subordinate units escalated or reported up to it,
with the unit named, the reports sent up and their 签收, missed clocks to acknowledge and counts per
subordinate unit — and nothing else of theirs."""

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents import policies
from incidents.models import Deadline, Incident, Report, TimelineEntry
from incidents.services import incidents as svc
from incidents.services.deadline_clock import deadlines_sweep
from incidents.services.records import report_acknowledge, report_record
from integrations.testing import ApiTestCase
from opinion_ops.errors import InvalidTransition, NotPermitted
from opinion_ops.testing import PASSWORD, make_user, sign_in

PAGE = "/incidents/superior/"


class SuperiorTestCase(ApiTestCase):
    def login(self, user: Any) -> None:
        self.client.logout()
        self.assertTrue(sign_in(self.client, user.username, PASSWORD))

    def report(self, incident: Incident, summary: str, to_superior: bool = True, actor: Any = None) -> Report:
        return report_record(
            incident_id=incident.pk,
            actor=actor or self.olga,
            kind="oral",
            reported_to="区教育局领导小组",
            occurred_at=timezone.now() - timedelta(minutes=1),
            summary=summary,
            to_superior=to_superior,
        )

    def receive(self, report: Report) -> Any:
        return self.client.post(reverse("report_receive", args=[report.pk]))


class PageTests(SuperiorTestCase):
    def test_the_superior_sees_the_reports_marked_for_it_with_the_unit_named(self) -> None:
        incident = self.log_incident(title="网传某校食堂饭菜变质")
        self.report(incident, "已电话报告区领导，正在核查")
        self.login(self.sam)
        response = self.client.get(PAGE)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "已电话报告区领导，正在核查")
        self.assertContains(response, f"{incident.reference} 网传某校食堂饭菜变质")
        self.assertContains(response, "示范区教育局")
        units = {row["unit"].code: row for row in response.context["units"]}
        self.assertEqual(
            {key: units["district"][key] for key in ("incidents", "open", "reports", "waiting", "missed")},
            {"incidents": 1, "open": 1, "reports": 1, "waiting": 1, "missed": 0},
        )
        self.assertEqual(units["other"]["incidents"], 0)
        self.assertEqual([i.pk for i in response.context["incidents"]], [incident.pk])

    def test_it_shows_nothing_else_of_the_subordinate_units(self) -> None:
        escalated = self.log_incident(title="已上报的舆情")
        svc.incident_escalate(incident_id=escalated.pk, actor=self.alice, note="重大")
        self.report(escalated, "只报本单位领导的报告", to_superior=False)
        self.log_incident(title="区里未上报的舆情")
        self.log_incident(user=self.charlie, title="邻区未上报的舆情")
        self.login(self.sam)
        response = self.client.get(PAGE)
        self.assertContains(response, "已上报的舆情")
        self.assertNotContains(response, "只报本单位领导的报告")
        self.assertNotContains(response, "区里未上报的舆情")
        self.assertNotContains(response, "邻区未上报的舆情")
        self.assertEqual(response.context["reports"], [])
        # The unit's own incidents are not on this page either.
        self.log_incident(user=self.sam, title="市局自己的舆情")
        self.assertNotContains(self.client.get(PAGE), "市局自己的舆情")

    def test_a_unit_without_subordinates_sees_an_empty_page(self) -> None:
        self.log_incident(user=self.charlie, title="邻区的舆情")
        self.login(self.charlie)
        response = self.client.get(PAGE)
        self.assertContains(response, "本单位没有直属下级单位。")
        self.assertNotContains(response, "邻区的舆情")
        self.assertNotContains(self.client.get(reverse("incident_list")), reverse("superior_incidents"))
        self.login(self.sam)
        self.assertContains(self.client.get(reverse("incident_list")), reverse("superior_incidents"))

    def test_it_filters_the_incidents_by_subordinate_unit_and_exports_only_those(self) -> None:
        ours = self.log_incident(title="示范区上报")
        svc.incident_escalate(incident_id=ours.pk, actor=self.alice, note="报")
        theirs = self.log_incident(user=self.charlie, title="邻区上报")
        svc.incident_escalate(incident_id=theirs.pk, actor=self.charlie, note="报")
        self.log_incident(user=self.sam, title="市局自己的舆情")
        self.login(self.sam)
        response = self.client.get(PAGE, {"unit": self.other_unit.pk})
        self.assertEqual([i.title for i in response.context["incidents"]], ["邻区上报"])
        self.assertContains(response, "subordinate=true")
        export = self.client.get(reverse("incident_export"), {"subordinate": "true"})
        from io import BytesIO

        from openpyxl import load_workbook

        rows = list(load_workbook(BytesIO(export.content))["舆情台账"].iter_rows(min_row=2, values_only=True))
        self.assertEqual(sorted(row[2] for row in rows), ["示范区上报", "邻区上报"])

    def test_missed_clocks_of_reported_up_incidents_wait_for_acknowledgement(self) -> None:
        incident = self.log_incident(title="口头报告超时")
        svc.incident_escalate(incident_id=incident.pk, actor=self.alice, note="重大")
        clock = Deadline.objects.get(incident=incident, name="口头报告")
        past = timezone.now() - timedelta(minutes=1)
        Deadline.objects.filter(pk=clock.pk).update(due_at=past, next_action_at=past)
        deadlines_sweep()
        self.login(self.sam)
        response = self.client.get(PAGE)
        self.assertContains(response, f'data-testid="clock-{clock.pk}"')
        self.assertContains(response, "确认并督办")
        self.assertEqual(response.context["units"][0]["missed"], 1)
        answer = self.client.post(
            reverse("incident_act", args=[incident.pk, "deadline_acknowledge"]), {"object_id": clock.pk}
        )
        self.assertEqual(answer.status_code, 302)
        self.assertEqual(Deadline.objects.get(pk=clock.pk).acknowledged_by, self.sam)
        self.assertNotContains(self.client.get(PAGE), f'data-testid="clock-{clock.pk}"')

    def test_the_page_does_a_constant_number_of_queries(self) -> None:
        def sent_up(n: int) -> None:
            for i in range(n):
                incident = self.log_incident(title=f"上报{i}")
                self.report(incident, f"报告{i}")

        sent_up(2)
        self.login(self.sam)
        with CaptureQueriesContext(connection) as few:
            self.client.get(PAGE)
        sent_up(6)
        with self.assertNumQueries(len(few.captured_queries)):
            self.client.get(PAGE)


class ReceiptTests(SuperiorTestCase):
    def test_a_superior_leader_signs_for_a_report_once_and_both_units_see_it(self) -> None:
        incident = self.log_incident()
        report = self.report(incident, "书面情况")
        self.login(self.sam)
        response = self.receive(report)
        self.assertRedirects(response, PAGE + "#reports", fetch_redirect_response=False)
        report.refresh_from_db()
        self.assertEqual(report.received_by, self.sam)
        self.assertIsNotNone(report.received_at)
        entry = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
        assert entry is not None
        self.assertEqual(entry.summary, "上级主管部门（示范市教育局）签收口头报告")
        self.assertEqual(entry.actor, self.sam)
        self.assertContains(self.client.get(PAGE), 'data-testid="received"')
        # The subordinate unit reads it on its incident's record.
        self.login(self.alice)
        self.assertContains(self.client.get(reverse("incident_detail", args=[incident.pk])), "签收口头报告")
        # A second 签收 changes nothing and says why.
        self.login(self.sam)
        again = self.client.post(reverse("report_receive", args=[report.pk]), follow=True)
        self.assertContains(again, "该报告已签收。")
        self.assertEqual(TimelineEntry.objects.filter(incident=incident, summary__contains="签收").count(), 1)

    def test_only_the_superior_units_leadership_or_office_may_sign(self) -> None:
        incident = self.log_incident()
        report = self.report(incident, "情况")
        clerk = make_user("clerk", self.superior)  # in the superior unit, in no group
        office = make_user("otto", self.superior, "office")
        self.login(clerk)
        self.assertContains(self.receive(report), "只有上级主管部门的领导小组或其办公室可以签收", status_code=403)
        self.assertNotContains(self.client.get(PAGE), ">签收</button>")
        self.login(self.alice)  # the reporting unit's own leader: not reported up to her
        self.assertEqual(self.receive(report).status_code, 404)
        self.login(self.charlie)
        self.assertEqual(self.receive(report).status_code, 404)
        self.assertIsNone(Report.objects.get(pk=report.pk).received_at)
        with self.assertRaises(NotPermitted):
            report_acknowledge(report_id=report.pk, actor=self.fresh(self.alice))
        self.login(office)
        self.assertContains(self.client.get(PAGE), ">签收</button>")
        self.assertEqual(self.receive(report).status_code, 302)
        self.assertEqual(Report.objects.get(pk=report.pk).received_by, office)

    def test_a_report_not_sent_up_cannot_be_signed_for(self) -> None:
        incident = self.log_incident()
        svc.incident_escalate(incident_id=incident.pk, actor=self.alice, note="重大")
        internal = self.report(incident, "内部报告", to_superior=False)
        self.assertFalse(policies.allows("acknowledge_report", self.fresh(self.sam), incident, internal))
        with self.assertRaises(InvalidTransition):
            report_acknowledge(report_id=internal.pk, actor=self.fresh(self.sam))
        self.login(self.sam)
        self.assertEqual(self.receive(internal).status_code, 404)
        self.assertError(
            self.client_for(self.sam).post(f"/api/v1/reports/{internal.pk}/acknowledge/", {}, format="json"),
            409,
            "invalid_transition",
        )

    def test_the_api_signs_for_a_report_and_lists_what_waits(self) -> None:
        incident = self.log_incident()
        report = self.report(incident, "情况")
        client = self.client_for(self.sam)
        waiting = client.get("/api/v1/reports/", {"to_superior": "true", "received": "false"}).json()["results"]
        self.assertEqual([row["id"] for row in waiting], [report.pk])
        answer = client.post(f"/api/v1/reports/{report.pk}/acknowledge/", {}, format="json")
        self.assertEqual(answer.status_code, 200, answer.content)
        self.assertEqual(answer.json()["received_by"], self.sam.pk)
        self.assertEqual(client.get("/api/v1/reports/", {"received": "false"}).json()["results"], [])
        self.assertError(
            client.post(f"/api/v1/reports/{report.pk}/acknowledge/", {}, format="json"), 409, "invalid_transition"
        )
        self.assertError(
            self.client_for(self.alice).post(f"/api/v1/reports/{report.pk}/acknowledge/", {}, format="json"),
            403,
            "permission_denied",
        )
