"""The incident API: listing, creating and moving incidents over HTTP obeys exactly the rules of the
browser (the services), keeps units apart, and answers every client error with the error shape."""

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident, State, TimelineEntry
from incidents.services import incidents as svc
from integrations.testing import ApiTestCase

LIST = "/api/v1/incidents/"


def url(incident: Incident, action: str = "") -> str:
    return f"/api/v1/incidents/{incident.pk}/" + (f"{action}/" if action else "")


def new_incident_body(**overrides: Any) -> dict[str, Any]:
    body = {"title": "网传某校收费不规范", "discovered_at": (timezone.now() - timedelta(minutes=3)).isoformat()}
    body.update(overrides)
    return body


class IncidentReadTests(ApiTestCase):
    def test_it_lists_only_incidents_of_the_callers_unit(self) -> None:
        ours = self.log_incident()
        theirs = self.log_incident(user=self.charlie, title="邻区舆情")
        ids = [row["id"] for row in self.client_for(self.bob).get(LIST).json()["results"]]
        self.assertEqual(ids, [ours.pk])
        ids = [row["id"] for row in self.client_for(self.charlie).get(LIST).json()["results"]]
        self.assertEqual(ids, [theirs.pk])

    def test_it_hides_another_units_incident_with_404_everywhere(self) -> None:
        incident = self.log_incident()
        client = self.client_for(self.charlie)
        self.assertError(client.get(url(incident)), 404, "not_found")
        self.assertError(client.post(url(incident, "start-assessment"), {}), 404, "not_found")
        self.assertError(client.patch(url(incident), {"title": "改"}), 404, "not_found")
        self.assertError(client.get(url(incident, "timeline")), 404, "not_found")
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.MONITORING)

    def test_it_shows_the_superior_unit_only_escalated_incidents(self) -> None:
        hidden = self.log_incident(title="未上报")
        escalated = self.log_incident(title="已上报")
        svc.incident_escalate(incident_id=escalated.pk, actor=self.alice, note="重大")
        client = self.client_for(self.sam)
        ids = [row["id"] for row in client.get(LIST).json()["results"]]
        self.assertEqual(ids, [escalated.pk])
        self.assertError(client.get(url(hidden)), 404, "not_found")
        # Seeing is not acting: the superior holds no role in the subordinate unit.
        self.assertError(client.post(url(escalated, "start-assessment"), {}), 403, "permission_denied")

    def test_it_filters_searches_orders_and_paginates(self) -> None:
        first = self.log_incident(title="食堂饭菜问题", minutes_ago=30)
        second = self.log_incident(title="校车超载传闻", minutes_ago=20, platform="weibo")
        third = self.log_incident(title="食堂卫生投诉", minutes_ago=10)
        svc.incident_start_assessment(incident_id=third.pk, actor=self.ann)
        client = self.client_for(self.bob)

        def ids(query: str) -> list[int]:
            response = client.get(LIST + query)
            self.assertEqual(response.status_code, 200, response.content)
            return [row["id"] for row in response.json()["results"]]

        self.assertEqual(ids("?q=食堂"), [third.pk, first.pk])
        self.assertEqual(ids("?state=assessing"), [third.pk])
        self.assertEqual(ids("?state=monitoring&state=assessing&platform=weibo"), [second.pk])
        self.assertEqual(ids("?ordering=discovered_at"), [first.pk, second.pk, third.pk])
        page = client.get(LIST + "?page_size=2&page=2").json()
        self.assertEqual((page["count"], [row["id"] for row in page["results"]]), (3, [first.pk]))

    def test_it_refuses_bad_filter_values_with_field_errors(self) -> None:
        client = self.client_for(self.bob)
        self.assertError(client.get(LIST + "?state=bogus"), 400, "invalid", field="state")
        self.assertError(client.get(LIST + "?discovered_after=yesterday"), 400, "invalid", field="discovered_after")
        self.assertError(client.get(LIST + "?page=99"), 404, "not_found")

    def test_it_lists_in_a_bounded_number_of_queries(self) -> None:
        client = self.client_for(self.bob)
        self.log_incident()
        client.get(LIST)  # warm the token's last-used stamp

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(client.get(LIST).status_code, 200)
            return len(queries)

        few = count()
        for n in range(12):
            incident = self.log_incident(title=f"舆情 {n}")
            svc.incident_assign_groups(
                incident_id=incident.pk, actor=self.alice, groups=list(self.unit.response_groups.all()[:2])
            )
        self.assertEqual(count(), few)
        self.assertLessEqual(few, 6)

    def test_it_tells_the_client_which_transitions_it_may_make(self) -> None:
        incident = self.log_incident()
        body = self.client_for(self.ann).get(url(incident)).json()
        self.assertEqual(body["available_transitions"], ["merge", "start-assessment"])
        self.assertEqual(self.client_for(self.bob).get(url(incident)).json()["available_transitions"], [])


class IncidentCreateTests(ApiTestCase):
    def test_it_logs_an_incident_through_the_service(self) -> None:
        response = self.client_for(self.bob).post(LIST, new_incident_body(platform="weibo", category=self.inquiry.pk))
        self.assertEqual(response.status_code, 201, response.content)
        incident = Incident.objects.get(pk=response.json()["id"])
        self.assertEqual((incident.reporter, incident.category, incident.platform), (self.bob, self.inquiry, "weibo"))
        self.assertTrue(TimelineEntry.objects.filter(incident=incident, kind="created").exists())
        self.assertEqual(incident.deadlines.count(), 4)  # the plan's clocks started, as in the browser

    def test_it_refuses_a_user_without_a_role(self) -> None:
        self.assertError(self.client_for(self.nina).post(LIST, new_incident_body()), 403, "permission_denied")
        self.assertFalse(Incident.objects.exists())

    def test_it_refuses_unknown_fields_wrong_types_and_out_of_range_values(self) -> None:
        client = self.client_for(self.bob)
        self.assertError(client.post(LIST, new_incident_body(state="archived")), 400, "invalid", field="state")
        self.assertError(client.post(LIST, new_incident_body(title=["x"])), 400, "invalid", field="title")
        self.assertError(client.post(LIST, new_incident_body(title="x" * 201)), 400, "invalid", field="title")
        self.assertError(client.post(LIST, new_incident_body(platform="myspace")), 400, "invalid", field="platform")
        self.assertError(client.post(LIST, new_incident_body(is_drill="perhaps")), 400, "invalid", field="is_drill")
        future = (timezone.now() + timedelta(days=1)).isoformat()
        self.assertError(client.post(LIST, new_incident_body(discovered_at=future)), 400, "invalid", "discovered_at")
        self.assertError(client.post(LIST, new_incident_body(category=999999)), 400, "invalid", field="category")
        other_category = self.other_unit.plans.get(status="active").categories.first()
        self.assertError(client.post(LIST, new_incident_body(category=other_category.pk)), 400, "invalid", "category")
        self.assertError(client.post(LIST, [1, 2]), 400, "invalid")
        self.assertFalse(Incident.objects.exists())

    def test_it_refuses_malformed_json_other_media_types_and_oversized_bodies(self) -> None:
        client = self.client_for(self.bob)
        self.assertError(client.post(LIST, "{not json", content_type="application/json"), 400, "parse_error")
        self.assertError(client.post(LIST, '{"title": NaN}', content_type="application/json"), 400, "parse_error")
        self.assertError(client.post(LIST, "title=x", content_type="text/plain"), 415, "unsupported_media_type")
        huge = new_incident_body(description="字" * 1_000_000)
        self.assertError(client.post(LIST, huge), 413, "request_too_large")
        self.assertError(client.delete(LIST), 405, "method_not_allowed")
        self.assertFalse(Incident.objects.exists())

    def test_it_replays_a_retried_create_with_the_same_idempotency_key(self) -> None:
        client = self.client_for(self.bob)
        body = new_incident_body()
        first = client.post(LIST, body, HTTP_IDEMPOTENCY_KEY="abc-1")
        again = client.post(LIST, body, HTTP_IDEMPOTENCY_KEY="abc-1")
        self.assertEqual((first.status_code, again.status_code), (201, 201))
        self.assertEqual(first.json(), again.json())
        self.assertEqual(again["Idempotent-Replayed"], "true")
        self.assertEqual(Incident.objects.count(), 1)
        self.assertError(
            client.post(LIST, new_incident_body(title="另一件"), HTTP_IDEMPOTENCY_KEY="abc-1"),
            422,
            "idempotency_key_reused",
        )
        self.assertEqual(Incident.objects.count(), 1)

    def test_it_does_not_keep_the_key_of_a_failed_write(self) -> None:
        client = self.client_for(self.bob)
        self.assertEqual(client.post(LIST, new_incident_body(title=" "), HTTP_IDEMPOTENCY_KEY="k").status_code, 400)
        self.assertEqual(client.post(LIST, new_incident_body(), HTTP_IDEMPOTENCY_KEY="k").status_code, 201)

    def test_it_scopes_idempotency_keys_to_the_caller(self) -> None:
        body = new_incident_body()
        self.assertEqual(self.client_for(self.bob).post(LIST, body, HTTP_IDEMPOTENCY_KEY="same").status_code, 201)
        self.assertEqual(self.client_for(self.ann).post(LIST, body, HTTP_IDEMPOTENCY_KEY="same").status_code, 201)
        self.assertEqual(Incident.objects.count(), 2)

    def test_it_edits_with_optimistic_locking(self) -> None:
        incident = self.log_incident()
        client = self.client_for(self.bob)
        response = client.patch(url(incident), {"title": "新标题", "version": incident.version})
        self.assertEqual((response.status_code, response.json()["title"]), (200, "新标题"))
        self.assertError(client.patch(url(incident), {"title": "再改", "version": incident.version}), 409, "stale")
        self.assertError(client.patch(url(incident), {"state": "archived"}), 400, "invalid", field="state")
        self.assertError(client.put(url(incident), new_incident_body()), 405, "method_not_allowed")


class IncidentTransitionTests(ApiTestCase):
    def post(self, user: Any, incident: Incident, action: str, body: dict[str, Any] | None = None) -> Any:
        return self.client_for(user).post(url(incident, action), body or {})

    def test_it_walks_the_whole_lifecycle_over_the_api(self) -> None:
        incident = self.log_incident()
        self.assertEqual(self.post(self.ann, incident, "start-assessment").json()["state"], "assessing")
        response = self.client_for(self.ann).post(
            "/api/v1/assessments/",
            {"incident": incident.pk, "nature": "谣言", "scope": "本地", "trend": "rising", "risk": "medium"},
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.post(self.alice, incident, "issue-warning", {"level": self.level2.pk}).status_code, 200)
        self.assertEqual(self.post(self.hank, incident, "start-response").json()["state"], "responding")
        self.assertEqual(self.post(self.hank, incident, "start-tracking").json()["state"], "tracking")
        self.assertEqual(self.post(self.bob, incident, "rebound", {"reason": "再次发酵"}).json()["state"], "responding")
        self.post(self.hank, incident, "start-tracking")
        refused = self.assertError(self.post(self.alice, incident, "start-review"), 409, "invalid_transition", "clocks")
        self.assertIn("口头报告", refused["message"])  # the clocks still counting are named
        clocks = [
            {"deadline": pk, "resolution": "waive", "reason": "已当面报告"}
            for pk in incident.deadlines.filter(status__in=["pending", "missed"]).values_list("pk", flat=True)
        ]
        self.assertEqual(
            self.post(self.alice, incident, "start-review", {"clocks": clocks}).json()["state"], "reviewing"
        )
        self.assertError(self.post(self.alice, incident, "archive"), 409, "invalid_transition")  # no review yet
        response = self.client_for(self.alice).post(
            "/api/v1/reviews/", {"incident": incident.pk, "summary": "经过", "evaluation": "及时"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.post(self.alice, incident, "archive").json()["state"], "archived")
        moves = TimelineEntry.objects.filter(incident=incident, kind="transition").count()
        self.assertEqual(moves, 8)

    def test_it_enforces_the_same_roles_as_the_browser(self) -> None:
        incident = self.log_incident()
        self.assertError(self.post(self.bob, incident, "start-assessment"), 403, "permission_denied")
        self.assertError(self.post(self.nina, incident, "start-assessment"), 403, "permission_denied")
        self.post(self.ann, incident, "start-assessment")
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="n", scope="s", trend="rising", risk="low"
        )
        # Level 二级 needs a leader; the analyst may only issue 三级.
        self.assertError(
            self.post(self.ann, incident, "issue-warning", {"level": self.level2.pk}), 403, "permission_denied", "level"
        )
        self.assertEqual(self.post(self.ann, incident, "issue-warning", {"level": self.level3.pk}).status_code, 200)
        self.assertError(self.post(self.sara, incident, "start-response"), 403, "permission_denied")
        self.assertError(self.post(self.hank, incident, "escalate", {"note": "x"}), 403, "permission_denied")
        self.assertError(self.post(self.hank, incident, "assign-groups", {"groups": []}), 403, "permission_denied")

    def test_it_answers_409_for_transitions_the_state_does_not_allow(self) -> None:
        incident = self.log_incident()
        body = self.assertError(self.post(self.alice, incident, "start-response"), 409, "invalid_transition")
        self.assertIn("监测", body["message"])
        self.assertError(
            self.post(self.alice, incident, "change-level", {"level": self.level1.pk, "reason": "r"}),
            409,
            "invalid_transition",
        )
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.MONITORING)

    def test_it_answers_409_stale_for_an_old_version(self) -> None:
        incident = self.log_incident()
        svc.incident_update(incident_id=incident.pk, actor=self.bob, title="别人改过")
        self.assertError(self.post(self.ann, incident, "start-assessment", {"version": incident.version}), 409, "stale")
        self.assertEqual(
            self.post(self.ann, incident, "start-assessment", {"version": incident.version + 1}).status_code, 200
        )

    def test_it_requires_the_inputs_of_each_transition(self) -> None:
        incident = self.log_incident()
        self.post(self.ann, incident, "start-assessment")
        self.assertError(self.post(self.ann, incident, "dismiss", {}), 400, "invalid", field="reason")
        self.assertError(self.post(self.ann, incident, "dismiss", {"reason": "  "}), 400, "invalid", field="reason")
        self.assertError(self.post(self.ann, incident, "issue-warning", {}), 400, "invalid", field="level")
        self.assertError(
            self.post(self.ann, incident, "dismiss", {"reason": "x", "version": "one"}), 400, "invalid", "version"
        )
        self.assertError(
            self.post(self.ann, incident, "dismiss", {"reason": "x", "version": 0}), 400, "invalid", "version"
        )
        self.assertError(self.post(self.ann, incident, "dismiss", {"reason": "x", "why": 1}), 400, "invalid", "why")
        self.assertEqual(self.post(self.ann, incident, "dismiss", {"reason": "不属实"}).json()["state"], "dismissed")

    def test_it_escalates_assigns_and_changes_level(self) -> None:
        incident = self.log_incident()
        groups = [g.pk for g in self.unit.response_groups.filter(kind__in=["handling", "publicity"])]
        response = self.post(self.olga, incident, "assign-groups", {"groups": groups})
        self.assertEqual(sorted(response.json()["assigned_groups"]), sorted(groups))
        other_group = self.other_unit.response_groups.first()
        self.assertError(
            self.post(self.olga, incident, "assign-groups", {"groups": [other_group.pk]}), 400, "invalid", "groups.0"
        )
        self.assertIsNotNone(self.post(self.alice, incident, "escalate", {"note": "请上级关注"}).json()["escalated_at"])
        self.assertError(self.post(self.alice, incident, "escalate", {}), 409, "invalid_transition")
        self.post(self.ann, incident, "start-assessment")
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="n", scope="s", trend="rising", risk="low"
        )
        self.post(self.ann, incident, "issue-warning", {"level": self.level3.pk})
        response = self.post(self.alice, incident, "change-level", {"level": self.level2.pk, "reason": "热度上升"})
        self.assertEqual(response.json()["level_name"], "二级")

    def test_it_keeps_the_timeline_read_only(self) -> None:
        incident = self.log_incident()
        client = self.client_for(self.bob)
        entries = client.get(url(incident, "timeline")).json()
        self.assertEqual([e["kind"] for e in entries][:1], ["created"])
        self.assertError(client.post(url(incident, "timeline"), {}), 405, "method_not_allowed")
