"""Records over the API — assessments, tasks, reports, measures, statements and approvals,
deadlines, response groups, plans, mentions — with the same roles as the browser and unit isolation."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from incidents.models import Deadline, EmergencyPlan, Incident, State, Statement
from incidents.services import incidents as svc
from integrations.testing import ApiTestCase
from monitoring.models import Mention
from organizations.models import Membership


def ago(minutes: int = 1) -> str:
    return (timezone.now() - timedelta(minutes=minutes)).isoformat()


class RecordTestCase(ApiTestCase):
    def responding(self) -> Incident:
        incident = self.log_incident(minutes_ago=30)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="n", scope="s", trend="rising", risk="low"
        )
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level3)
        svc.incident_start_response(incident_id=incident.pk, actor=self.hank)
        return Incident.objects.get(pk=incident.pk)


class StatementApiTests(RecordTestCase):
    def act(self, user: Any, statement_id: int, action: str, body: dict[str, Any] | None = None) -> Any:
        return self.client_for(user).post(f"/api/v1/statements/{statement_id}/{action}/", body or {})

    def test_it_runs_draft_submit_reject_revise_approve_publish(self) -> None:
        incident = self.responding()
        response = self.client_for(self.sara).post(
            "/api/v1/statements/", {"incident": incident.pk, "title": "情况通报", "text": "第一稿"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        sid = response.json()["id"]
        self.assertEqual(self.act(self.sara, sid, "submit").json()["status"], "submitted")
        self.assertError(self.act(self.sara, sid, "approve"), 403, "permission_denied")
        self.assertError(self.act(self.alice, sid, "reject", {}), 400, "invalid", field="comment")
        self.assertEqual(self.act(self.alice, sid, "reject", {"comment": "措辞"}).json()["status"], "rejected")
        self.assertError(self.act(self.sara, sid, "publish", {"channel": "官网"}), 409, "invalid_transition")
        self.assertEqual(self.act(self.sara, sid, "revise", {"text": "第二稿"}).json()["status"], "draft")
        self.act(self.sara, sid, "submit")
        body = self.act(self.alice, sid, "approve").json()
        self.assertEqual((body["status"], len(body["versions"])), ("approved", 2))
        self.assertError(self.act(self.sara, sid, "publish", {"channel": "官网", "version": 1}), 409, "stale")
        body = self.act(self.sara, sid, "publish", {"channel": "官网", "version": body["version"]}).json()
        self.assertEqual(body["status"], "published")
        self.assertEqual(incident.deadlines.get(kind="public_response").status, Deadline.Status.MET)

    def test_it_refuses_drafting_to_roles_that_may_not(self) -> None:
        incident = self.responding()
        body = {"incident": incident.pk, "title": "t", "text": "x"}
        self.assertError(self.client_for(self.bob).post("/api/v1/statements/", body), 403, "permission_denied")
        self.assertError(self.client_for(self.charlie).post("/api/v1/statements/", body), 400, "invalid", "incident")
        self.assertFalse(Statement.objects.exists())


class RecordApiTests(RecordTestCase):
    def test_it_records_tasks_and_lets_the_assignee_complete_them(self) -> None:
        incident = self.responding()
        hank_group = self.unit.response_groups.get(kind="handling")
        body = {"incident": incident.pk, "title": "联系平台", "assignee_group": hank_group.pk}
        self.assertError(self.client_for(self.hank).post("/api/v1/tasks/", body), 403, "permission_denied")
        response = self.client_for(self.olga).post("/api/v1/tasks/", body)
        self.assertEqual(response.status_code, 201, response.content)
        task_url = f"/api/v1/tasks/{response.json()['id']}/complete/"
        self.assertError(self.client_for(self.sara).post(task_url, {"result": "done"}), 403, "permission_denied")
        self.assertEqual(self.client_for(self.hank).post(task_url, {"result": "已删帖"}).json()["status"], "done")
        self.assertError(self.client_for(self.hank).post(task_url, {"result": "again"}), 409, "invalid_transition")
        self.assertError(self.client_for(self.charlie).get(f"/api/v1/tasks/{response.json()['id']}/"), 404, "not_found")

    def test_it_records_reports_and_measures(self) -> None:
        incident = self.responding()
        oral = {"incident": incident.pk, "kind": "oral", "reported_to": "组长", "occurred_at": ago(), "summary": "s"}
        self.assertEqual(self.client_for(self.bob).post("/api/v1/reports/", oral).status_code, 201)
        written = {**oral, "kind": "written"}
        self.assertError(self.client_for(self.bob).post("/api/v1/reports/", written), 400, "invalid", field="cause")
        measure = {"incident": incident.pk, "kind": "takedown", "description": "请求删帖", "taken_at": ago()}
        self.assertError(self.client_for(self.bob).post("/api/v1/measures/", measure), 403, "permission_denied")
        self.assertEqual(self.client_for(self.lee).post("/api/v1/measures/", measure).status_code, 201)
        listed = self.client_for(self.bob).get(f"/api/v1/reports/?incident={incident.pk}").json()
        self.assertEqual(listed["count"], 1)
        self.assertEqual(self.client_for(self.charlie).get("/api/v1/reports/").json()["count"], 0)

    def test_it_lets_only_a_leader_waive_a_deadline(self) -> None:
        incident = self.log_incident()
        deadline = incident.deadlines.get(kind="oral_report")
        waive = f"/api/v1/deadlines/{deadline.pk}/waive/"
        self.assertError(self.client_for(self.olga).post(waive, {"reason": "x"}), 403, "permission_denied")
        self.assertError(self.client_for(self.alice).post(waive, {}), 400, "invalid", field="reason")
        self.assertError(self.client_for(self.charlie).post(waive, {"reason": "x"}), 404, "not_found")
        self.assertEqual(self.client_for(self.alice).post(waive, {"reason": "已电话报告"}).json()["status"], "waived")
        rows = self.client_for(self.bob).get(f"/api/v1/deadlines/?incident={incident.pk}&status=pending").json()
        self.assertNotIn(deadline.pk, [row["id"] for row in rows["results"]])

    def test_it_lists_the_units_response_groups_only(self) -> None:
        rows = self.client_for(self.bob).get("/api/v1/response-groups/?page_size=50").json()["results"]
        self.assertEqual({row["organization"] for row in rows}, {self.unit.pk})
        self.assertIn(self.alice.pk, next(row["members"] for row in rows if row["kind"] == "leadership"))


class PlanApiTests(ApiTestCase):
    def test_it_shows_plans_to_members_and_lets_only_unit_admins_change_them(self) -> None:
        client = self.client_for(self.ann)
        rows = client.get("/api/v1/plans/").json()["results"]
        self.assertEqual([row["id"] for row in rows], [self.plan.pk])
        self.assertEqual(len(rows[0]["levels"]), 3)
        revise = f"/api/v1/plans/{self.plan.pk}/create-revision/"
        self.assertError(client.post(revise, {}), 403, "permission_denied")
        Membership.objects.filter(user=self.olga).update(is_unit_admin=True)
        admin = self.client_for(self.olga)
        draft = admin.post(revise, {"change_note": "总结后修订"})
        self.assertEqual((draft.status_code, draft.json()["status"]), (201, "draft"))
        self.assertError(admin.post(revise, {}), 400, "draft_exists")
        self.assertError(self.client_for(self.olga, scope="read").post(revise, {}), 403, "token_scope")
        activated = admin.post(f"/api/v1/plans/{draft.json()['id']}/activate/", {})
        self.assertEqual(activated.json()["status"], "active")
        self.assertEqual(EmergencyPlan.objects.get(pk=self.plan.pk).status, "superseded")
        self.assertError(self.client_for(self.charlie).get(f"/api/v1/plans/{self.plan.pk}/"), 404, "not_found")


class MentionApiTests(ApiTestCase):
    def test_it_ingests_mentions_with_an_ingest_token_and_refuses_duplicates(self) -> None:
        client = self.client_for(self.bob, scope="ingest")
        body = {"platform": "weibo", "text": "某校食堂出现异物", "url": "https://weibo.com/1"}
        self.assertEqual(client.post("/api/v1/mentions/", body).status_code, 201)
        self.assertError(client.post("/api/v1/mentions/", body), 400, "duplicate", field="text")
        self.assertError(client.get("/api/v1/mentions/"), 403, "token_scope")
        self.assertError(client.post("/api/v1/mentions/", {**body, "platform": "x"}), 400, "invalid", "platform")
        self.assertEqual(Mention.objects.count(), 1)

    def test_it_attaches_a_mention_to_an_incident_of_the_unit(self) -> None:
        incident = self.log_incident()
        theirs = self.log_incident(user=self.charlie)
        client = self.client_for(self.bob)
        mention = client.post("/api/v1/mentions/", {"platform": "weibo", "text": "帖子"}).json()
        attach = f"/api/v1/mentions/{mention['id']}/attach/"
        self.assertError(client.post(attach, {"incident": theirs.pk}), 400, "invalid", field="incident")
        self.assertEqual(client.post(attach, {"incident": incident.pk}).json()["incident"], incident.pk)
        self.assertEqual(self.client_for(self.charlie).get("/api/v1/mentions/").json()["count"], 0)
        self.assertError(self.client_for(self.charlie).post(attach, {"incident": theirs.pk}), 404, "not_found")
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.MONITORING)
