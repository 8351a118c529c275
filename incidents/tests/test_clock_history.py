"""A miss is history: later records close a missed clock as late, never as on time, until a leader
confirms the earlier time; publication cannot predate approval; re-planning never cancels,
re-creates or re-opens a met or missed clock; an incident cannot leave 处置/跟踪 with clocks still
counting. Seen through the services, the incident page and the API."""

from datetime import timedelta
from typing import Any
from unittest import mock

import time_machine
from django.urls import reverse
from django.utils import timezone

from incidents.models import Deadline, DeadlineRule, Incident, State, TimelineEntry
from incidents.selectors import on_time_rates
from incidents.services import incidents as svc
from incidents.services import statements as st
from incidents.services.deadline_clock import deadlines_sweep
from incidents.services.deadlines import deadline_decide
from incidents.services.records import report_record
from integrations.testing import ApiTestCase
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted
from opinion_ops.testing import PASSWORD, aware, sign_in

START = aware(2025, 3, 3, 9, 0)
MIN = timedelta(minutes=1)


class HistoryTestCase(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        dispatch = mock.patch("notifications.services.deliveries_dispatch")
        dispatch.start()
        self.addCleanup(dispatch.stop)
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        self.addCleanup(self.traveller.stop)
        self.incident = self.log_incident(minutes_ago=0)
        self.oral = Deadline.objects.get(incident=self.incident, name="口头报告")

    def at(self, minutes: int) -> None:
        self.clock.move_to(START + minutes * MIN)
        deadlines_sweep()

    def report(self, occurred_minutes: int) -> Any:
        return report_record(
            incident_id=self.incident.pk,
            actor=self.olga,
            kind="oral",
            reported_to="周组长",
            occurred_at=START + occurred_minutes * MIN,
            summary="电话报告",
        )

    def warned(self, level: Any) -> Incident:
        svc.incident_start_assessment(incident_id=self.incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=self.incident.pk, actor=self.ann, nature="谣言", scope="本地", trend="rising", risk="high"
        )
        return svc.incident_issue_warning(incident_id=self.incident.pk, actor=self.alice, level=level)

    def status(self, deadline: Deadline) -> str:
        return Deadline.objects.get(pk=deadline.pk).status


class MissIsHistoryTests(HistoryTestCase):
    def test_a_back_dated_report_after_the_miss_closes_the_clock_late_not_on_time(self) -> None:
        self.at(30)
        self.clock.move_to(START + 40 * MIN)
        self.report(occurred_minutes=20)  # claims the report was made before the deadline
        self.assertEqual(self.status(self.oral), Deadline.Status.LATE)
        entry = TimelineEntry.objects.filter(incident=self.incident, kind="deadline").last()
        self.assertIn("逾期后完成", entry.summary)
        self.assertIn("确认按时完成", entry.summary)  # says how the earlier time can be confirmed
        rate = next(r for r in on_time_rates(self.unit.pk) if r["kind"] == "oral_report")
        self.assertEqual((rate["met"], rate["late"]), (0, 1))

    def test_only_a_leader_confirms_the_earlier_time_with_a_reason_and_statistics_follow(self) -> None:
        self.at(30)
        self.clock.move_to(START + 40 * MIN)
        self.report(occurred_minutes=20)
        with self.assertRaises(NotPermitted):
            deadline_decide(deadline_id=self.oral.pk, actor=self.olga, action="confirm_deadline", reason="属实")
        with self.assertRaises(DomainError) as ctx:
            deadline_decide(deadline_id=self.oral.pk, actor=self.alice, action="confirm_deadline", reason=" ")
        self.assertEqual(ctx.exception.field, "reason")
        deadline_decide(
            deadline_id=self.oral.pk, actor=self.alice, action="confirm_deadline", reason="经核实 09:20 已电话报告"
        )
        confirmed = Deadline.objects.get(pk=self.oral.pk)
        self.assertEqual((confirmed.status, confirmed.decided_by), (Deadline.Status.MET, self.alice))
        self.assertTrue(TimelineEntry.objects.filter(incident=self.incident, actor=self.alice).exists())
        rate = next(r for r in on_time_rates(self.unit.pk) if r["kind"] == "oral_report")
        self.assertEqual((rate["met"], rate["late"]), (1, 0))

    def test_a_clock_met_after_its_time_cannot_be_confirmed_as_on_time(self) -> None:
        self.at(30)
        self.clock.move_to(START + 40 * MIN)
        self.report(occurred_minutes=35)
        with self.assertRaises(InvalidTransition):
            deadline_decide(deadline_id=self.oral.pk, actor=self.alice, action="confirm_deadline", reason="x")

    def test_a_statement_cannot_be_published_before_it_was_approved(self) -> None:
        self.warned(self.level3)
        statement = st.statement_create(incident_id=self.incident.pk, actor=self.sara, title="情况通报", text="正文")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        self.clock.move_to(START + 50 * MIN)
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        with self.assertRaises(DomainError) as ctx:
            st.statement_publish(
                statement_id=statement.pk, actor=self.sara, channel="官方微博", published_at=START + 20 * MIN
            )
        self.assertEqual(ctx.exception.field, "published_at")
        response = Deadline.objects.get(incident=self.incident, kind="public_response")
        self.assertEqual(self.status(response), Deadline.Status.PENDING)
        st.statement_publish(
            statement_id=statement.pk, actor=self.sara, channel="官方微博", published_at=START + 50 * MIN
        )
        self.assertEqual(self.status(response), Deadline.Status.MET)

    def test_changing_the_level_never_cancels_recreates_or_reopens_a_missed_clock(self) -> None:
        # A clock the plan asks only of 三级 incidents, due 20 minutes after discovery.
        rule = DeadlineRule.objects.create(plan=self.plan, name="三级情况核实", kind="other", offset_minutes=20)
        rule.levels.set([self.level3])
        self.warned(self.level3)
        check = Deadline.objects.get(incident=self.incident, rule=rule)
        self.at(20)
        self.assertEqual(self.status(check), Deadline.Status.MISSED)
        svc.incident_change_level(incident_id=self.incident.pk, actor=self.alice, level=self.level2, reason="扩散")
        self.assertEqual(self.status(check), Deadline.Status.MISSED)  # raising the level keeps the miss
        svc.incident_change_level(incident_id=self.incident.pk, actor=self.alice, level=self.level3, reason="回落")
        self.assertEqual(Deadline.objects.filter(incident=self.incident, rule=rule).count(), 1)  # not re-created
        self.assertEqual(self.status(check), Deadline.Status.MISSED)
        rate = next(r for r in on_time_rates(self.unit.pk) if r["kind"] == "oral_report")
        self.assertEqual(rate["total"], 0)  # (not a statistics kind; the point is nothing else moved)

    def test_a_pending_clock_that_no_longer_applies_is_withdrawn_and_comes_back_if_it_applies_again(self) -> None:
        rule = DeadlineRule.objects.create(plan=self.plan, name="三级情况核实", kind="other", offset_minutes=60)
        rule.levels.set([self.level3])
        self.warned(self.level3)
        check = Deadline.objects.get(incident=self.incident, rule=rule)
        svc.incident_change_level(incident_id=self.incident.pk, actor=self.alice, level=self.level2, reason="扩散")
        self.assertEqual(self.status(check), Deadline.Status.CANCELLED)
        svc.incident_change_level(incident_id=self.incident.pk, actor=self.alice, level=self.level3, reason="回落")
        self.assertEqual(self.status(check), Deadline.Status.PENDING)
        self.assertEqual(Deadline.objects.filter(incident=self.incident, rule=rule).count(), 1)


class LeavingWithOpenClocksTests(HistoryTestCase):
    def tracking(self) -> Incident:
        self.warned(self.level3)
        svc.incident_start_response(incident_id=self.incident.pk, actor=self.hank)
        return svc.incident_start_tracking(incident_id=self.incident.pk, actor=self.hank)

    def test_the_office_cannot_move_on_to_review_while_clocks_count(self) -> None:
        self.tracking()
        with self.assertRaises(InvalidTransition) as ctx:
            svc.incident_start_review(incident_id=self.incident.pk, actor=self.olga)
        self.assertIn("口头报告", str(ctx.exception.message))
        self.assertEqual(Incident.objects.get(pk=self.incident.pk).state, State.TRACKING)

    def test_a_leader_settles_each_open_clock_in_the_same_step_and_the_timeline_says_which(self) -> None:
        self.tracking()
        self.at(30)  # the oral report is missed; the others still pending
        open_clocks = list(Deadline.objects.filter(incident=self.incident, status__in=Deadline.OPEN))
        partial = {open_clocks[0].pk: {"resolution": "waive", "reason": "已当面报告"}}
        with self.assertRaises(InvalidTransition):
            svc.incident_start_review(incident_id=self.incident.pk, actor=self.alice, clocks=partial)
        self.assertEqual(self.status(open_clocks[0]), open_clocks[0].status)  # nothing saved half-way
        settle = {
            clock.pk: {"resolution": "waive" if i == 0 else "not_applicable", "reason": f"理由{i}"}
            for i, clock in enumerate(open_clocks)
        }
        svc.incident_start_review(incident_id=self.incident.pk, actor=self.alice, clocks=settle)
        self.assertEqual(Incident.objects.get(pk=self.incident.pk).state, State.REVIEWING)
        self.assertEqual(self.status(open_clocks[0]), Deadline.Status.WAIVED)
        self.assertEqual(self.status(open_clocks[1]), Deadline.Status.CANCELLED)
        summaries = list(
            TimelineEntry.objects.filter(incident=self.incident, kind="deadline").values_list("summary", flat=True)
        )
        self.assertTrue(any("豁免时限" in s and "理由0" in s for s in summaries))
        self.assertTrue(any("不再适用" in s and "理由1" in s for s in summaries))

    def test_archiving_keeps_every_clock_as_it_was(self) -> None:
        self.tracking()
        self.at(30)
        svc.incident_start_review(incident_id=self.incident.pk, actor=self.alice, clocks=self.waive_all(self.incident))
        svc.review_record(incident_id=self.incident.pk, actor=self.alice, summary="经过", evaluation="及时")
        before = dict(Deadline.objects.filter(incident=self.incident).values_list("pk", "status"))
        svc.incident_archive(incident_id=self.incident.pk, actor=self.alice)
        self.assertEqual(dict(Deadline.objects.filter(incident=self.incident).values_list("pk", "status")), before)

    def test_the_page_offers_a_leader_the_open_clocks_and_settles_them(self) -> None:
        self.tracking()
        sign_in(self.client, "alice", PASSWORD)
        page = self.client.get(reverse("incident_detail", args=[self.incident.pk]))
        form = next(a["form"] for a in page.context["actions"] if a["action"].name == "start_review")
        fields = [name for name in form.fields if name.startswith("clock_")]
        self.assertEqual(len(fields), 3)  # oral, written, public response
        data: dict[str, Any] = {"expected_version": Incident.objects.get(pk=self.incident.pk).version}
        for name in fields:
            data[name] = "waive"
            data[name.replace("clock_", "reason_")] = ""
        response = self.client.post(reverse("incident_act", args=[self.incident.pk, "start_review"]), data)
        self.assertContains(response, "该字段是必填项。", status_code=400)
        for name in fields:
            data[name.replace("clock_", "reason_")] = "已电话报告"
        response = self.client.post(reverse("incident_act", args=[self.incident.pk, "start_review"]), data)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Incident.objects.get(pk=self.incident.pk).state, State.REVIEWING)

    def test_the_page_does_not_offer_the_office_a_step_it_may_not_take(self) -> None:
        self.tracking()
        sign_in(self.client, "olga", PASSWORD)
        page = self.client.get(reverse("incident_detail", args=[self.incident.pk]))
        self.assertNotIn("start_review", [a["action"].name for a in page.context["actions"]])


class ClockPageTests(HistoryTestCase):
    def test_the_incident_page_shows_what_the_system_did_when_a_clock_was_missed(self) -> None:
        self.at(30)
        self.at(45)
        sign_in(self.client, "olga", PASSWORD)
        page = self.client.get(reverse("incident_detail", args=[self.incident.pk]))
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "系统")
        self.assertContains(page, "已逾期")

    def test_the_link_in_a_missed_clock_notice_opens_the_incident(self) -> None:
        from notifications.models import Notification

        self.at(30)
        note = Notification.objects.filter(recipient=self.olga, deadline=self.oral).last()
        sign_in(self.client, "olga", PASSWORD)
        path = note.url.split("://", 1)[1].split("/", 1)[1]
        self.assertEqual(self.client.get("/" + path).status_code, 200)

    def test_the_superior_opens_an_incident_reported_up_to_it_read_only_with_the_unit_named(self) -> None:
        sign_in(self.client, "sam", PASSWORD)
        url = reverse("incident_detail", args=[self.incident.pk])
        self.assertEqual(self.client.get(url).status_code, 404)
        svc.incident_escalate(incident_id=self.incident.pk, actor=self.alice, note="请指导")
        page = self.client.get(url)
        self.assertContains(page, "示范区教育局")
        self.assertEqual(page.context["actions"], [])
        self.at(30)
        self.at(45)
        self.at(60)
        self.at(75)
        page = self.client.get(url)
        row = next(r for r in page.context["deadline_rows"] if r["deadline"].pk == self.oral.pk)
        self.assertTrue(row["may_acknowledge"])
        self.assertEqual(row["decisions"], [])

    def test_the_notification_centre_offers_acknowledgement_only_above_the_owner(self) -> None:
        self.at(30)
        self.at(45)
        sign_in(self.client, "olga", PASSWORD)
        self.assertNotContains(self.client.get(reverse("notifications:list")), "确认并督办")
        sign_in(self.client, "alice", PASSWORD)
        self.at(60)
        self.assertContains(self.client.get(reverse("notifications:list")), "确认并督办")


class ClockApiTests(HistoryTestCase):
    def test_a_deadline_shows_its_miss_its_rung_and_who_acknowledged(self) -> None:
        self.at(30)
        self.at(45)
        self.at(60)
        response = self.client_for(self.alice).post(f"/api/v1/deadlines/{self.oral.pk}/acknowledge/")
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["status"], "missed")
        self.assertEqual(body["missed_at"][:16], (START + 30 * MIN).isoformat()[:16])
        self.assertEqual((body["escalation_rung"], body["escalation_step"]), ("leadership", 1))
        self.assertEqual(body["acknowledged_by"], self.alice.pk)
        self.assertIsNotNone(body["acknowledged_at"])

    def test_the_owner_is_refused_acknowledgement_over_the_api(self) -> None:
        self.at(30)
        response = self.client_for(self.olga).post(f"/api/v1/deadlines/{self.oral.pk}/acknowledge/")
        self.assertError(response, 403, "permission_denied")

    def test_refusals_are_in_the_language_of_the_client(self) -> None:
        incident = self.incident
        response = self.client_for(self.bob).post(
            f"/api/v1/incidents/{incident.pk}/start-assessment/", {}, HTTP_ACCEPT_LANGUAGE="en"
        )
        error = self.assertError(response, 403, "permission_denied")
        self.assertNotRegex(error["message"], r"[\u4e00-\u9fff]")
        response = self.client_for(self.bob).post(f"/api/v1/incidents/{incident.pk}/start-assessment/", {})
        self.assertRegex(self.assertError(response, 403, "permission_denied")["message"], r"[\u4e00-\u9fff]")

    def test_the_api_offers_exactly_the_actions_the_services_allow(self) -> None:
        self.warned(self.level2)
        analyst = self.client_for(self.ann).get(f"/api/v1/incidents/{self.incident.pk}/").json()
        self.assertNotIn("change_level", analyst["available_actions"])  # 二级 needs a leader
        self.assertNotIn("change-level", analyst["available_transitions"])
        leader = self.client_for(self.alice).get(f"/api/v1/incidents/{self.incident.pk}/").json()
        self.assertIn("change_level", leader["available_actions"])

    def test_a_discovery_time_from_1970_is_a_field_error_not_a_fault(self) -> None:
        response = self.client_for(self.bob).post(
            "/api/v1/incidents/", {"title": "旧事", "discovered_at": "1970-01-01T00:00:00Z"}
        )
        self.assertError(response, 400, "invalid", field="discovered_at")

    def test_a_leader_confirms_on_time_over_the_api(self) -> None:
        self.at(30)
        self.clock.move_to(START + 40 * MIN)
        self.report(occurred_minutes=20)
        url = f"/api/v1/deadlines/{self.oral.pk}/confirm-on-time/"
        self.assertError(self.client_for(self.olga).post(url, {"reason": "x"}), 403, "permission_denied")
        response = self.client_for(self.alice).post(url, {"reason": "经核实已按时报告"})
        self.assertEqual(response.json()["status"], "met")
        self.assertEqual(response.json()["decision_reason"], "经核实已按时报告")
        self.assertIsNotNone(timezone.now())
