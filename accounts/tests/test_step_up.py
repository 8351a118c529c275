"""Step-up: sensitive actions ask for a second factor verified within STEP_UP_WINDOW_SECONDS — from
the pages, the API with a session, the API with a token — and never from a worker or command."""

from datetime import timedelta
from typing import Any

import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.stepup import user_mark_session
from accounts.testing import authenticator_bind, code_for, sign_in_verified, verify
from incidents.models import Deadline, Incident, State, Statement, TimelineEntry
from incidents.services import incidents as svc
from incidents.services import statements as st
from integrations.testing import ApiTestCase
from opinion_ops.errors import SecondFactorRequired

VERIFY = reverse("second_factor_verify")
WINDOW = 15 * 60


@override_settings(TWO_FACTOR_REQUIRED=True, STEP_UP_WINDOW_SECONDS=WINDOW)
class StepUpTestCase(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        traveller = time_machine.travel(timezone.now(), tick=False)
        self.clock = traveller.start()
        self.addCleanup(traveller.stop)
        self.device, _codes = authenticator_bind(self.alice)
        self.later()

    def later(self, seconds: int = 30) -> None:
        self.clock.shift(timedelta(seconds=seconds))

    def submitted(self) -> Statement:
        incident = self.log_incident()
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="谣言", scope="本地论坛", trend="rising",
            risk="medium", proposed_level=self.level2,
        )  # fmt: skip
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level2)
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        return st.statement_submit(statement_id=statement.pk, actor=self.sara)

    def decide(self, statement: Statement, **headers: Any) -> Any:
        """The approve button on the incident page, as the browser posts it."""
        page = f"http://testserver{reverse('incident_detail', args=[statement.incident_id])}"
        return self.client.post(
            reverse("statement_op", args=[statement.pk, "decide"]),
            {"decision": "approve", "comment": "", "expected_version": statement.version},
            HTTP_REFERER=page,
            **headers,
        )

    def status_of(self, statement: Statement) -> str:
        return Statement.objects.get(pk=statement.pk).status


class PageStepUpTests(StepUpTestCase):
    def test_a_leader_approving_after_the_window_verifies_again_and_then_approves(self) -> None:
        statement = self.submitted()
        sign_in_verified(self.client, self.alice, self.device)
        self.later(WINDOW + 60)
        timeline = TimelineEntry.objects.filter(incident_id=statement.incident_id).count()

        response = self.decide(statement)
        incident_page = reverse("incident_detail", args=[statement.incident_id])
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], f"{VERIFY}?next={incident_page.replace('/', '%2F')}")
        self.assertEqual(self.status_of(statement), Statement.Status.SUBMITTED)  # nothing changed
        self.assertEqual(TimelineEntry.objects.filter(incident_id=statement.incident_id).count(), timeline)
        page = self.client.get(response["Location"])
        self.assertContains(page, "再次验证身份")
        self.assertContains(page, "验证后重新提交刚才的操作")

        verified = self.client.post(VERIFY, {"code": code_for(self.device), "next": incident_page})
        self.assertRedirects(verified, incident_page)
        self.assertEqual(self.decide(statement).status_code, 302)
        self.assertEqual(self.status_of(statement), Statement.Status.APPROVED)

    def test_within_the_window_the_leader_is_not_asked_again(self) -> None:
        statement = self.submitted()
        sign_in_verified(self.client, self.alice, self.device)
        self.later(WINDOW - 60)
        response = self.decide(statement)
        self.assertRedirects(
            response,
            reverse("incident_detail", args=[statement.incident_id]) + f"#statement-{statement.pk}",
            fetch_redirect_response=False,
        )
        self.assertEqual(self.status_of(statement), Statement.Status.APPROVED)

    def test_the_dashboard_card_is_sent_to_verify_with_hx_redirect(self) -> None:
        statement = self.submitted()
        sign_in_verified(self.client, self.alice, self.device)
        self.later(WINDOW + 60)
        response = self.decide(statement, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/")
        self.assertEqual(response["HX-Redirect"], f"{VERIFY}?next=%2F")
        self.assertEqual(self.status_of(statement), Statement.Status.SUBMITTED)

    @override_settings(TWO_FACTOR_REQUIRED=False)
    def test_an_authenticator_bound_by_choice_is_asked_for_too(self) -> None:
        statement = self.submitted()
        sign_in_verified(self.client, self.alice, self.device)
        self.later(WINDOW + 60)
        self.assertEqual(self.decide(statement)["Location"].split("?")[0], VERIFY)
        self.assertEqual(self.status_of(statement), Statement.Status.SUBMITTED)

    @override_settings(TWO_FACTOR_REQUIRED=False)
    def test_a_leader_without_an_authenticator_is_not_asked_when_it_is_optional(self) -> None:
        statement = self.submitted()
        self.device.delete()
        self.login(self.alice)
        self.later(WINDOW + 60)
        self.decide(statement)
        self.assertEqual(self.status_of(statement), Statement.Status.APPROVED)

    def login(self, user: Any) -> None:
        from opinion_ops.testing import sign_in

        self.assertTrue(sign_in(self.client, user.username))


class ApiStepUpTests(StepUpTestCase):
    def approve(self, client: APIClient, statement: Statement) -> Any:
        return client.post(f"/api/v1/statements/{statement.pk}/approve/", {"version": statement.version})

    def test_an_api_token_cannot_approve_when_its_user_must_use_a_second_factor(self) -> None:
        statement = self.submitted()
        error = self.assertError(self.approve(self.client_for(self.alice), statement), 403, "second_factor_required")
        self.assertIn("浏览器", error["message"])
        self.assertEqual(self.status_of(statement), Statement.Status.SUBMITTED)

    @override_settings(TWO_FACTOR_REQUIRED=False)
    def test_an_api_token_approves_when_two_factor_is_not_required(self) -> None:
        statement = self.submitted()
        self.assertEqual(self.approve(self.client_for(self.alice), statement).status_code, 200)
        self.assertEqual(self.status_of(statement), Statement.Status.APPROVED)

    def test_a_session_call_after_the_window_gets_403_second_factor_required(self) -> None:
        statement = self.submitted()
        client = APIClient()
        sign_in_verified(client, self.alice, self.device)
        self.later(WINDOW + 60)
        self.assertError(self.approve(client, statement), 403, "second_factor_required")
        self.assertEqual(self.status_of(statement), Statement.Status.SUBMITTED)
        self.later()
        self.assertEqual(verify(client, self.device).status_code, 302)
        self.assertEqual(self.approve(client, statement).status_code, 200)


class NoRequestTests(StepUpTestCase):
    def test_a_service_called_without_a_request_is_allowed(self) -> None:
        statement = self.submitted()
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True, comment="")
        self.assertEqual(self.status_of(statement), Statement.Status.APPROVED)

    def test_waiving_clocks_while_starting_the_review_asks_too(self) -> None:
        statement = self.submitted()
        incident = Incident.objects.get(pk=statement.incident_id)
        svc.incident_start_response(incident_id=incident.pk, actor=self.hank)
        svc.incident_start_tracking(incident_id=incident.pk, actor=self.hank)
        clocks = self.waive_all(incident)
        self.assertTrue(clocks)
        alice = self.fresh(self.alice)
        user_mark_session(alice, timezone.now() - timedelta(seconds=WINDOW + 1))  # a stale browser session
        with self.assertRaises(SecondFactorRequired):
            svc.incident_start_review(incident_id=incident.pk, actor=alice, clocks=clocks)
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.TRACKING)
        self.assertEqual(Deadline.objects.filter(incident=incident, status__in=Deadline.OPEN).count(), len(clocks))
        user_mark_session(alice, timezone.now())
        svc.incident_start_review(incident_id=incident.pk, actor=alice, clocks=clocks)
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.REVIEWING)
