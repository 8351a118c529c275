"""`manage.py load_demo` gives `make run` something to see: demo incidents in different states and
clocks, made through the services as the demo users, loaded once."""

from io import StringIO
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse

from incidents.integrity import incident_record_verify
from incidents.management.commands.load_demo import (
    CANTEEN,
    CORPORAL_PUNISHMENT,
    DEMO_INCIDENT_TITLES,
    SCHOOL_BUS,
    SCHOOL_ZONES,
    TUTORING_REFUND,
)
from incidents.models import Deadline, Incident, Statement, TimelineEntry
from notifications.models import Notification
from organizations.models import Organization

PASSWORD = "demo-pass-2026"


class LoadDemoIncidentsTestCase(TestCase):
    def setUp(self) -> None:
        cache.clear()  # the dashboard's statistics are cached per unit id, which tests reuse

    def load(self, *args: str) -> str:
        out = StringIO()
        # The command commits its work: notifications leave on commit, as in `make run`.
        with self.captureOnCommitCallbacks(execute=True):
            call_command("load_demo", *args, password=PASSWORD, stdout=out)
        return out.getvalue()

    def page_as(self, username: str, url: str) -> Any:
        self.client.force_login(get_user_model().objects.get(username=username))
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return response

    def incident(self, title: str) -> Incident:
        return Incident.objects.get(organization__code="demo-district", title=title)


class DashboardTests(LoadDemoIncidentsTestCase):
    def test_it_loads_incidents_in_the_states_the_product_goes_through(self) -> None:
        self.load()
        states = dict(Incident.objects.filter(organization__code="demo-district").values_list("title", "state"))
        self.assertEqual(
            states,
            {
                CANTEEN: "monitoring",
                SCHOOL_ZONES: "assessing",
                TUTORING_REFUND: "assessing",
                CORPORAL_PUNISHMENT: "responding",
                SCHOOL_BUS: "tracking",
            },
        )
        page = self.page_as("leader", reverse("home"))
        table = page.context["active"]
        self.assertEqual(table["total"], 5)
        self.assertEqual(
            dict(zip(table["states"], table["totals"], strict=True)),
            {"监测": 1, "研判": 2, "预警": 0, "处置": 1, "跟踪": 1, "总结": 0},
        )

    def test_the_leader_sees_an_overdue_clock_an_approval_a_warning_and_a_report_to_sign(self) -> None:
        self.load()
        statement = Statement.objects.get(incident__title=CORPORAL_PUNISHMENT)
        page = self.page_as("leader", reverse("home"))

        at_risk = [(d.incident.title, d.name, d.status) for d in page.context["at_risk"]]
        self.assertIn((TUTORING_REFUND, "口头报告", Deadline.Status.MISSED), at_risk)
        self.assertIn((CANTEEN, "口头报告", Deadline.Status.PENDING), at_risk)  # just logged, still counting
        self.assertContains(page, 'class="countdown overdue"')

        self.assertContains(page, "待审定的回应稿")
        self.assertContains(page, statement.title)
        self.assertContains(page, reverse("statement_op", args=[statement.pk, "decide"]))
        self.assertEqual(statement.status, Statement.Status.SUBMITTED)

        self.assertEqual([i.title for i in page.context["waiting"]["warnings"]], [SCHOOL_ZONES])
        self.assertEqual([r.incident.title for r in page.context["waiting"]["sign_offs"]], [CORPORAL_PUNISHMENT])

    def test_the_on_time_rates_count_the_clocks_met_and_the_one_missed(self) -> None:
        self.load()
        page = self.page_as("leader", reverse("home"))
        rates = {rate["kind"]: (rate["met"], rate["total"]) for rate in page.context["rates"]}
        # Oral: bus, video and school zones on time, the tutoring refund missed.
        self.assertEqual(rates, {"oral_report": (3, 4), "written_report": (2, 2), "public_response": (1, 1)})
        self.assertContains(page, "75%")
        self.assertEqual(
            set(self.incident(SCHOOL_BUS).deadlines.values_list("status", flat=True)), {Deadline.Status.MET}
        )

    def test_the_superior_sees_the_incident_reported_up_and_no_other(self) -> None:
        self.load()
        page = self.page_as("superior", reverse("superior_incidents"))
        self.assertContains(page, CORPORAL_PUNISHMENT)
        for title in (SCHOOL_BUS, TUTORING_REFUND, SCHOOL_ZONES, CANTEEN):
            self.assertNotContains(page, title)


class RecordTests(LoadDemoIncidentsTestCase):
    def test_the_miss_is_recorded_by_the_sweeper_and_pages_the_office(self) -> None:
        self.load()
        incident = self.incident(TUTORING_REFUND)
        clock = incident.deadlines.get(name="口头报告")
        self.assertEqual(clock.status, Deadline.Status.MISSED)
        self.assertFalse(clock.late_logged)
        self.assertTrue(incident.timeline.filter(kind="deadline", summary__contains="已逾期").exists())
        paged = Notification.objects.filter(kind="deadline.missed", deadline=clock)
        self.assertEqual(set(paged.values_list("recipient__username", flat=True)), {"office"})

    def test_every_step_is_on_the_timeline_by_the_demo_user_who_took_it_and_the_record_is_intact(self) -> None:
        self.load()
        incident = self.incident(SCHOOL_BUS)
        actors = dict(incident.timeline.exclude(actor=None).values_list("summary", "actor__username"))
        self.assertEqual(actors["转入研判"], "analyst")
        self.assertEqual(actors["处置完成，转入动态跟踪"], "handler")
        self.assertIn("leader", actors.values())
        self.assertIn("spokesperson", actors.values())
        for title in DEMO_INCIDENT_TITLES:
            check = incident_record_verify(incident=self.incident(title))
            self.assertTrue(check.intact, (title, check.first_break))
            self.assertGreater(check.entries, 1)


class IdempotenceTests(LoadDemoIncidentsTestCase):
    def counts(self) -> tuple[int, ...]:
        return (
            Incident.objects.count(),
            TimelineEntry.objects.count(),
            Deadline.objects.count(),
            Statement.objects.count(),
            Notification.objects.count(),
        )

    def test_it_prints_one_line_per_demo_incident_after_the_logins(self) -> None:
        out = self.load()
        self.assertLess(out.index("用户名 admin"), out.index("演示舆情"))
        for title in DEMO_INCIDENT_TITLES:
            incident = self.incident(title)
            line = next(line for line in out.splitlines() if title in line)
            self.assertIn(incident.reference, line)
            self.assertIn(incident.get_state_display(), line)

    def test_a_second_run_adds_no_incident_and_still_lists_them(self) -> None:
        self.load()
        before = self.counts()
        out = self.load()
        self.assertEqual(self.counts(), before)
        self.assertIn("已存在，未重复创建", out)
        self.assertEqual(sum(title in out for title in DEMO_INCIDENT_TITLES), 5)
        self.assertTrue(get_user_model().objects.get(username="leader").check_password(PASSWORD))

    def test_no_incidents_leaves_the_unit_empty(self) -> None:
        out = self.load("--no-incidents")
        unit = Organization.objects.get(code="demo-district")
        self.assertFalse(Incident.objects.filter(organization=unit).exists())
        self.assertNotIn("演示舆情", out)
        self.assertIn("用户名 leader", out)
        self.assertEqual(self.counts()[0], 0)
