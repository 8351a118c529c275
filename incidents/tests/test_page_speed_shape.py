"""What keeps the list, the dashboard and the incident page fast as a unit's incidents grow: the
nearest open clock stored on the incident (最近时限) stays true through every change of a clock, the
list sorts and the dashboard finds clocks at risk from it, and each page's number of queries does
not grow with its rows. No timings here: bench/pages.py measures those."""

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import Deadline, Incident, TimelineEntry
from incidents.models.chain import GENESIS
from incidents.selectors import deadlines_at_risk, incidents_by_urgency
from incidents.services import incidents as svc
from incidents.services.deadlines import deadline_decide
from incidents.services.records import report_record
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in


class PageTestCase(BaseTestCase):
    def login(self, user: Any) -> None:
        self.client.logout()
        self.assertTrue(sign_in(self.client, user.username, PASSWORD))

    def nearest_open_due(self, incident: Incident) -> Any:
        """The due time of the incident's nearest open clock, read from the clocks themselves."""
        clocks = Deadline.objects.filter(incident=incident, status__in=Deadline.OPEN).order_by("due_at")
        return clocks.values_list("due_at", flat=True).first()

    def stored(self, incident: Incident) -> Any:
        return Incident.objects.values_list("next_due_at", flat=True).get(pk=incident.pk)

    def clock(self, incident: Incident, name: str) -> Deadline:
        return Deadline.objects.get(incident=incident, name=name)

    def report(self, incident: Incident, kind: str = "oral") -> None:
        extra: dict[str, Any] = (
            {"cause": "起因", "facts": "事实", "measures_taken": "措施"} if kind == "written" else {}
        )
        report_record(
            incident_id=incident.pk,
            actor=self.olga,
            kind=kind,
            reported_to="领导小组",
            occurred_at=timezone.now(),
            summary="已报告",
            **extra,
        )

    def listed(self) -> list[str]:
        response = self.client.get(reverse("incident_list"))
        self.assertEqual(response.status_code, 200)
        return [incident.title for incident in response.context["incidents"]]


class NearestClockTests(PageTestCase):
    def test_logging_an_incident_stores_its_nearest_clock(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        self.assertEqual(self.clock(incident, "口头报告").due_at, incident.discovered_at + timedelta(minutes=30))
        self.assertEqual(self.stored(incident), self.clock(incident, "口头报告").due_at)

    def test_meeting_a_clock_moves_the_nearest_clock_on_to_the_next(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        self.report(incident, "oral")
        self.assertEqual(self.clock(incident, "口头报告").status, Deadline.Status.MET)
        self.assertEqual(self.stored(incident), self.clock(incident, "书面报告").due_at)
        self.assertEqual(self.stored(incident), self.nearest_open_due(incident))

    def test_a_missed_clock_stays_the_nearest_until_it_is_met_late(self) -> None:
        incident = self.log_incident(minutes_ago=45)  # the oral report is 15 minutes late
        oral = self.clock(incident, "口头报告")
        self.assertEqual(self.stored(incident), oral.due_at)
        self.report(incident, "oral")
        self.assertEqual(self.clock(incident, "口头报告").status, Deadline.Status.LATE)
        self.assertEqual(self.stored(incident), self.nearest_open_due(incident))
        self.assertNotEqual(self.stored(incident), oral.due_at)

    def test_a_waived_clock_no_longer_counts_and_the_last_one_settled_leaves_none(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        for clock in Deadline.objects.filter(incident=incident, status__in=Deadline.OPEN).order_by("due_at"):
            self.assertEqual(self.stored(incident), clock.due_at)
            deadline_decide(deadline_id=clock.pk, actor=self.alice, action="waive_deadline", reason="已电话报告")
        self.assertIsNone(self.nearest_open_due(incident))
        self.assertIsNone(self.stored(incident))

    def test_a_corrected_discovery_time_moves_the_nearest_clock_with_it(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        earlier = incident.discovered_at - timedelta(minutes=20)
        svc.incident_update(incident_id=incident.pk, actor=self.bob, discovered_at=earlier, reason="首帖时间核实")
        self.assertEqual(self.stored(incident), earlier + timedelta(minutes=30))
        self.assertEqual(self.stored(incident), self.nearest_open_due(incident))

    def test_leaving_tracking_with_every_clock_settled_leaves_no_nearest_clock(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="谣言", scope="本地", trend="rising", risk="high"
        )
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level2)
        svc.incident_start_response(incident_id=incident.pk, actor=self.alice)
        svc.incident_start_tracking(incident_id=incident.pk, actor=self.alice)
        self.assertIsNotNone(self.stored(incident))
        svc.incident_start_review(incident_id=incident.pk, actor=self.alice, clocks=self.waive_all(incident))
        self.assertIsNone(self.stored(incident))


class ListOrderTests(PageTestCase):
    def test_a_met_clock_sends_its_incident_behind_one_whose_clock_is_nearer(self) -> None:
        first = self.log_incident(title="口头报告先到期", minutes_ago=20)  # oral due in 10 min
        second = self.log_incident(title="口头报告后到期", minutes_ago=10)  # oral due in 20 min
        self.login(self.bob)
        self.assertEqual(self.listed(), [first.title, second.title])
        self.report(first, "oral")  # its nearest clock is now the written report, due in 70 min
        self.assertEqual(self.listed(), [second.title, first.title])

    def test_the_list_shows_the_nearest_open_clock_and_marks_an_overdue_one(self) -> None:
        late = self.log_incident(title="口头报告已超时", minutes_ago=45)
        self.login(self.bob)
        response = self.client.get(reverse("incident_list"))
        row = response.context["incidents"][0]
        self.assertEqual(row.next_due, self.clock(late, "口头报告").due_at)
        self.assertTrue(row.is_overdue)
        self.assertContains(response, 'class="overdue"')

    def test_the_urgency_order_reads_the_stored_clock_not_the_clocks(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        with CaptureQueriesContext(connection) as queries:
            rows = list(incidents_by_urgency(Incident.objects.filter(pk=incident.pk)))
        self.assertEqual(rows[0].next_due, self.clock(incident, "口头报告").due_at)  # type: ignore[attr-defined]
        self.assertEqual(len(queries), 1)
        self.assertNotIn("incidents_deadline", queries[0]["sql"])

    def test_on_postgresql_open_first_and_the_nearest_minute_come_from_the_urgency_index(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("the index is a PostgreSQL expression index")
        self.log_incident(minutes_ago=5)
        page = incidents_by_urgency(Incident.objects.filter(organization=self.unit))
        first_keys = page.order_by(*page.query.order_by[:2]).values("pk")[:26]
        sql, params = first_keys.query.sql_with_params()
        with connection.cursor() as cursor:
            # A handful of rows make any plan cheap: forbid reading the whole table and sorting, to see
            # whether the index gives this order at all (it cannot once its expressions and the query's differ).
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_incremental_sort"):
                cursor.execute(f"SET LOCAL {setting} = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        self.assertIn("Index Scan using incident_unit_urgency", plan)
        self.assertNotIn("Sort", plan)


class DashboardAtRiskTests(PageTestCase):
    def test_it_lists_open_clocks_due_within_half_an_hour_or_overdue_soonest_first(self) -> None:
        overdue = self.log_incident(title="已超时", minutes_ago=45)  # oral 15 min late
        soon = self.log_incident(title="将到期", minutes_ago=10)  # oral due in 20 min
        self.report(self.log_incident(title="尚早", minutes_ago=10), "oral")  # next: written, due in 80 min
        closed = self.log_incident(title="已排除", minutes_ago=50)
        svc.incident_start_assessment(incident_id=closed.pk, actor=self.ann)
        svc.incident_dismiss(incident_id=closed.pk, actor=self.alice, reason="不属实")
        at_risk = deadlines_at_risk(self.unit.pk)
        shown = [(d.incident.title, d.name) for d in at_risk]
        self.assertEqual(shown, [("已超时", "口头报告"), ("将到期", "口头报告")])
        self.assertEqual([d.incident_id for d in at_risk], [overdue.pk, soon.pk])

    def test_a_clock_met_drops_off_the_list_and_the_next_one_comes_on_when_due(self) -> None:
        incident = self.log_incident(minutes_ago=80)  # oral 50 min late, written due in 10 min
        self.assertEqual([d.name for d in deadlines_at_risk(self.unit.pk)], ["口头报告", "书面报告"])
        self.report(incident, "oral")
        self.assertEqual([d.name for d in deadlines_at_risk(self.unit.pk)], ["书面报告"])
        self.report(incident, "written")
        self.assertEqual(deadlines_at_risk(self.unit.pk), [])

    def test_the_dashboard_shows_the_clocks_at_risk_with_their_incidents(self) -> None:
        self.log_incident(title="口头报告已超时", minutes_ago=45)
        self.login(self.alice)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(reverse("home"))
        self.assertContains(response, "口头报告已超时")
        self.assertEqual(len(response.context["at_risk"]), 1)
        self.assertEqual(sum("incidents_deadline" in q["sql"] for q in queries.captured_queries), 3)


class QueryCountTests(PageTestCase):
    """Each page costs the same number of queries with a few rows as with many."""

    def grow(self, n: int, prefix: str) -> list[Incident]:
        return [self.log_incident(title=f"{prefix}{i}", minutes_ago=40 + i) for i in range(n)]

    def queries(self, url: str) -> int:
        self.client.get(url)  # the first request of a session may differ (sign-in bookkeeping)
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(self.client.get(url).status_code, 200)
        return len(captured.captured_queries)

    def test_the_dashboard_and_the_list_cost_the_same_with_more_incidents_and_clocks(self) -> None:
        self.grow(2, "少")
        self.login(self.alice)
        few = {name: self.queries(reverse(name)) for name in ("home", "incident_list")}
        self.grow(30, "多")
        many = {name: self.queries(reverse(name)) for name in ("home", "incident_list")}
        self.assertEqual(few, many)
        self.assertEqual(len(self.client.get(reverse("incident_list")).context["incidents"]), 25)

    def test_the_incident_page_costs_the_same_with_fifty_timeline_entries(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        self.login(self.alice)
        url = reverse("incident_detail", args=[incident.pk])
        few = self.queries(url)
        last = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
        previous, seq = (last.hash, last.seq) if last else (GENESIS, 0)
        for step in range(50):
            entry = TimelineEntry(
                incident=incident,
                kind="edited",
                actor=self.bob,
                summary=f"补充情况 {step}",
                seq=seq + step + 1,
                prev_hash=previous,
                recorded_at=timezone.now(),
                details={},
            )
            entry.hash = previous = entry.compute_hash()
            entry.save()
        response = self.client.get(url)
        self.assertGreaterEqual(len(response.context["timeline"]), 50)
        self.assertEqual(self.queries(url), few)


class CompiledQueryTests(PageTestCase):
    """A page's fixed queries are compiled to SQL once per process (opinion_ops.db.compiled): on a
    later visit Django builds the SQL of only the few queries that name a list of rows read before
    (the people named, the prefetched versions)."""

    def compiled_sql(self, url: str) -> int:
        built = [0]
        as_sql = SQLCompiler.as_sql

        def counting(compiler: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
            built[0] += 1
            return as_sql(compiler, *args, **kwargs)

        self.assertEqual(self.client.get(url).status_code, 200)  # the first visit compiles the page's queries
        with override_settings(COMPILED_QUERIES_VERIFY=False), patch.object(SQLCompiler, "as_sql", counting):
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(self.client.get(url).status_code, 200)
        self.assertGreaterEqual(len(captured.captured_queries), 10)  # built: 27, 16 and 10 of them before
        return built[0]

    def test_the_incident_page_and_the_dashboard_build_few_queries_sql_again(self) -> None:
        incident = self.log_incident(minutes_ago=50)  # its oral report clock is missed: on the dashboard
        self.login(self.alice)
        self.assertLessEqual(self.compiled_sql(reverse("incident_detail", args=[incident.pk])), 3)
        self.assertLessEqual(self.compiled_sql(reverse("home")), 4)
        self.assertLessEqual(self.compiled_sql(reverse("incident_list")), 4)  # the filtered list and its count


class ActionPanelTests(PageTestCase):
    """The incident page draws a closed action panel without its form; opening it fetches the form."""

    def page_url(self, incident: Incident) -> str:
        return reverse("incident_detail", args=[incident.pk])

    def test_a_closed_panel_is_drawn_without_its_form_and_fetches_it_when_opened(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        self.login(self.alice)
        url = self.page_url(incident)
        page = self.client.get(url)
        self.assertContains(page, f'hx-get="{url}?panel=edit" hx-trigger="toggle once"')
        self.assertNotContains(page, 'id="id_edit_title"')
        panel = self.client.get(url, {"panel": "edit"}, headers={"HX-Request": "true"})
        self.assertEqual(panel.status_code, 200)
        self.assertContains(panel, reverse("incident_act", args=[incident.pk, "edit"]))
        self.assertContains(panel, f'<input type="text" name="title" value="{incident.title}"')
        self.assertContains(panel, 'id="id_edit_title"')
        self.assertNotContains(panel, "<html")

    def test_without_script_the_panels_link_opens_the_page_with_that_form_drawn(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        self.login(self.alice)
        url = self.page_url(incident)
        self.assertContains(self.client.get(url), f'href="{url}?panel=edit#act-edit"')
        page = self.client.get(url, {"panel": "edit"})
        self.assertContains(page, '<details class="action " id="act-edit" open>')
        self.assertContains(page, 'id="id_edit_title"')
        self.assertIn("HX-Request", page["Vary"])

    def test_a_panel_the_user_may_not_open_says_why_and_draws_no_form(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        self.login(self.nina)
        url = self.page_url(incident)
        refused = self.client.get(url, {"panel": "edit"}, headers={"HX-Request": "true"})
        self.assertEqual(refused.status_code, 403)
        self.assertNotContains(refused, 'id="id_edit_title"', status_code=403)
        self.assertContains(refused, 'role="alert"', status_code=403)
        self.assertEqual(self.client.get(url, {"panel": "nothing"}, headers={"HX-Request": "true"}).status_code, 404)

    def test_the_page_reads_the_units_choices_for_closed_panels_not_at_all(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        self.login(self.alice)
        self.client.get(self.page_url(incident))
        with CaptureQueriesContext(connection) as queries:
            self.client.get(self.page_url(incident))
        tables = " ".join(q["sql"] for q in queries.captured_queries)
        self.assertNotIn('FROM "incidents_incidenttype"', tables)  # the edit form's 舆情类型 choices
        self.assertNotIn("DECLARE", tables)
