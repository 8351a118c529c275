"""The leadership dashboard and the statement approval flow, as leaders and spokespeople use them."""

from datetime import timedelta
from typing import Any
from unittest import mock

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import Statement
from incidents.services import incidents as svc
from incidents.services import statements as st
from incidents.services.statistics import unit_statistics_mark_due, unit_statistics_sweep
from incidents.tests.test_views_incidents import ViewTestCase
from opinion_ops.testing import sign_in


class DashboardTestCase(ViewTestCase):
    def warned(self, **kwargs):  # type: ignore[no-untyped-def]
        incident = self.assessed(**kwargs)
        return svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level2)

    def submitted(self, **kwargs) -> Statement:  # type: ignore[no-untyped-def]
        incident = self.warned(**kwargs)
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        return st.statement_submit(statement_id=statement.pk, actor=self.sara)


class DashboardTests(DashboardTestCase):
    def test_it_shows_a_leader_what_waits_for_them(self) -> None:
        statement = self.submitted(title="食堂舆情")
        assessed = self.assessed(title="待定级的舆情")
        self.login(self.alice)
        page = self.client.get(reverse("home"))
        self.assertContains(page, "待审定的回应稿")
        self.assertContains(page, reverse("statement_op", args=[statement.pk, "decide"]))
        self.assertContains(page, "待定级的舆情")
        self.assertContains(page, reverse("incident_detail", args=[assessed.pk]))

    def test_a_spokesperson_sees_no_approval_buttons(self) -> None:
        statement = self.submitted()
        self.login(self.sara)
        page = self.client.get(reverse("home"))
        self.assertNotContains(page, reverse("statement_op", args=[statement.pk, "decide"]))

    def test_a_leader_approves_in_one_tap_and_the_card_says_so(self) -> None:
        statement = self.submitted()
        self.login(self.alice)
        response = self.client.post(
            reverse("statement_op", args=[statement.pk, "decide"]),
            {"decision": "approve", "expected_version": statement.version},
            HTTP_HX_REQUEST="true",
        )
        self.assertContains(response, "已同意发布。")
        self.assertNotContains(response, "<html")
        statement.refresh_from_db()
        self.assertEqual(statement.status, Statement.Status.APPROVED)

    def test_a_rejection_needs_a_comment_shown_in_the_card(self) -> None:
        statement = self.submitted()
        self.login(self.alice)
        response = self.client.post(
            reverse("statement_op", args=[statement.pk, "decide"]),
            {"decision": "reject", "comment": "", "expected_version": statement.version},
            HTTP_HX_REQUEST="true",
        )
        self.assertContains(response, "退回时请填写修改意见。", status_code=400)
        statement.refresh_from_db()
        self.assertEqual(statement.status, Statement.Status.SUBMITTED)

    def test_a_spokesperson_posting_a_decision_is_refused(self) -> None:
        statement = self.submitted()
        self.login(self.sara)
        response = self.client.post(
            reverse("statement_op", args=[statement.pk, "decide"]),
            {"decision": "approve", "expected_version": statement.version},
        )
        self.assertContains(response, "只有领导小组成员可以审定回应稿。", status_code=403)
        statement.refresh_from_db()
        self.assertEqual(statement.status, Statement.Status.SUBMITTED)

    def test_a_decision_on_a_stale_card_is_not_applied(self) -> None:
        statement = self.submitted()
        seen = statement.version
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=False, comment="请补充数据")
        self.login(self.alice)
        response = self.client.post(
            reverse("statement_op", args=[statement.pk, "decide"]),
            {"decision": "approve", "expected_version": seen},
            HTTP_HX_REQUEST="true",
        )
        self.assertContains(response, "该回应稿已被他人更新", status_code=409)
        statement.refresh_from_db()
        self.assertEqual(statement.status, Statement.Status.REJECTED)

    def test_another_units_statement_is_not_found(self) -> None:
        statement = self.submitted()
        self.login(self.charlie)
        response = self.client.post(reverse("statement_op", args=[statement.pk, "decide"]), {"decision": "approve"})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.client.get(reverse("statement_detail", args=[statement.pk])).status_code, 404)

    def test_publishing_meets_the_response_clock_and_counts_in_the_on_time_rate(self) -> None:
        statement = self.submitted()
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        statement.refresh_from_db()
        self.login(self.sara)
        response = self.client.post(
            reverse("statement_op", args=[statement.pk, "publish"]),
            {
                "channel": "官方微博",
                "url": "https://weibo.com/official/1",
                "published_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "expected_version": statement.version,
            },
        )
        self.assertEqual(response.status_code, 302)
        self.login(self.alice)
        rates = {r["kind"]: r for r in self.client.get(reverse("dashboard_stats")).context["rates"]}
        self.assertEqual((rates["public_response"]["met"], rates["public_response"]["rate"]), (1, 100))
        self.assertIsNotNone(self.client.get(reverse("dashboard_stats")).context["median_minutes"])

    def test_an_edit_of_an_approved_text_needs_a_new_approval(self) -> None:
        statement = self.submitted()
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        statement.refresh_from_db()
        self.login(self.sara)
        self.client.post(
            reverse("statement_op", args=[statement.pk, "revise"]),
            {"text": "经核查，修改后的口径", "expected_version": statement.version},
        )
        statement.refresh_from_db()
        self.assertEqual(statement.status, Statement.Status.DRAFT)
        page = self.client.get(reverse("statement_detail", args=[statement.pk]))
        self.assertContains(page, "经核查……")
        self.assertContains(page, "经核查，修改后的口径")
        detail = self.client.get(reverse("incident_detail", args=[statement.incident_id]))
        self.assertNotContains(detail, reverse("statement_op", args=[statement.pk, "publish"]))

    def test_drills_are_left_out_of_the_statistics(self) -> None:
        self.warned(title="真实舆情")
        self.warned(title="演练舆情", is_drill=True)
        self.login(self.alice)
        page = self.client.get(reverse("home"))
        self.assertEqual(page.context["active"]["total"], 1)
        level_series = page.context["chart_level"]["series"]
        self.assertEqual(sum(sum(s["data"]) for s in level_series), 1)

    def test_overdue_deadlines_show_as_at_risk(self) -> None:
        incident = self.log_incident(minutes_ago=45, title="逾期未报")
        self.login(self.alice)
        page = self.client.get(reverse("dashboard_live"))
        self.assertContains(page, "逾期未报")
        self.assertContains(page, 'class="countdown overdue"')
        self.assertIn(incident.pk, [d.incident_id for d in page.context["at_risk"]])

    def test_the_dashboard_does_a_constant_number_of_queries(self) -> None:
        self.submitted(title="一")
        self.log_incident(minutes_ago=45)
        self.login(self.alice)
        self.client.get(reverse("home"))  # the unit's statistics are counted the first time only
        cache.clear()
        with CaptureQueriesContext(connection) as few:
            self.client.get(reverse("home"))
        for i in range(4):
            self.submitted(title=f"更多{i}")
            self.log_incident(minutes_ago=40 + i, title=f"逾期{i}")
        unit_statistics_sweep(timezone.now() + timedelta(hours=1))  # the worker counts them again
        cache.clear()
        with self.assertNumQueries(len(few.captured_queries)):
            self.client.get(reverse("home"))

    def test_a_user_without_a_unit_gets_an_empty_dashboard(self) -> None:
        from django.contrib.auth import get_user_model

        get_user_model().objects.create_user("stranger", password="pw-stranger-1")
        sign_in(self.client, "stranger", "pw-stranger-1")
        self.assertContains(self.client.get(reverse("home")), "尚未加入任何单位")

    def test_the_english_switch_translates_the_page(self) -> None:
        self.login(self.alice)
        self.client.post(reverse("set_language"), {"language": "en", "next": "/"})
        page = self.client.get(reverse("home"))
        self.assertContains(page, "Waiting for me")
        self.assertNotContains(page, "待我处理")


class DashboardStatisticsTests(DashboardTestCase):
    """The statistics are read from the row the worker keeps (incidents.services.statistics)."""

    def chart_total(self) -> int:
        series = self.client.get(reverse("dashboard_stats")).context["chart_level"]["series"]
        return sum(sum(row["data"]) for row in series)

    def test_a_change_is_counted_by_the_next_sweep_and_not_before(self) -> None:
        self.login(self.alice)
        self.log_incident(minutes_ago=1, title="第一起")
        self.assertEqual(self.chart_total(), 1)  # counted when the dashboard is first opened
        with self.captureOnCommitCallbacks(execute=True):
            self.log_incident(minutes_ago=1, title="第二起")
        self.assertEqual(self.chart_total(), 1)  # the stored counts, until the worker's next sweep
        self.assertEqual(unit_statistics_sweep(), 1)
        self.assertEqual(self.chart_total(), 2)
        self.assertEqual(unit_statistics_sweep(), 0)  # nothing changed since: nothing to count

    def test_without_a_change_they_are_counted_again_once_the_period_has_moved_on(self) -> None:
        import time_machine

        self.login(self.alice)
        with time_machine.travel("2026-11-25 10:00 +0800", tick=False):
            self.log_incident(minutes_ago=1, title="第一起")
            self.assertEqual(self.chart_total(), 1)
            self.assertEqual(unit_statistics_sweep(), 0)
        with time_machine.travel("2026-12-26 10:00 +0800", tick=False):  # outside the 30 days charted
            self.login(self.alice)  # a month on, the session has ended
            self.assertEqual(self.chart_total(), 1)
            self.assertEqual(unit_statistics_sweep(), 1)
            self.assertEqual(self.chart_total(), 0)

    def test_a_change_during_a_count_leaves_the_unit_due(self) -> None:
        from incidents.models import UnitStatistics
        from incidents.services import statistics

        self.login(self.alice)
        self.log_incident(minutes_ago=1, title="第一起")
        self.chart_total()
        unit_statistics_mark_due("incident.created", {"organization_id": self.unit.pk})
        counting = statistics.unit_statistics_count

        def count_while_a_change_arrives(organization_id: int, now: Any = None) -> dict[str, Any]:
            unit_statistics_mark_due("incident.updated", {"organization_id": organization_id})
            return counting(organization_id, now)

        with mock.patch.object(statistics, "unit_statistics_count", count_while_a_change_arrives):
            self.assertEqual(unit_statistics_sweep(), 1)
        row = UnitStatistics.objects.get(organization_id=self.unit.pk)
        self.assertLessEqual(row.refresh_due_at, timezone.now())  # still due: counted again next tick
        self.assertEqual(unit_statistics_sweep(), 1)

    def test_labels_follow_the_readers_language(self) -> None:
        self.login(self.alice)
        self.log_incident(minutes_ago=1, title="未定级的一起")
        self.client.get(reverse("dashboard_stats"))
        self.client.post(reverse("set_language"), {"language": "en", "next": "/"})
        context = self.client.get(reverse("dashboard_stats")).context
        self.assertIn("Oral report", [rate["label"] for rate in context["rates"]])
        self.assertEqual([row["name"] for row in context["chart_level"]["series"]], ["No level"])
