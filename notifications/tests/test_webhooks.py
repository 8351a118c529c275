"""Signed webhooks to other systems are one more transport of the one outbox: events become
Delivery rows of the unit's subscribed channels, sent signed, claimed once, retried with the same
backoff and logged in the same attempt log as every other message; "send again" re-queues."""

import json
import time
from datetime import timedelta
from typing import Any
from unittest import mock

import requests
from django.test import override_settings
from django.utils import timezone

from incidents import events
from incidents.services import incidents as svc
from integrations.testing import ApiTestCase
from notifications import routing, services
from notifications.channels import delivery_resend, subscription_create
from notifications.models import Delivery, NotificationChannel
from notifications.transports import sign, verify
from opinion_ops.api.models import IdempotencyRecord
from opinion_ops.api.tasks import forget_idempotency_records_task
from opinion_ops.errors import NotPermitted


class FakeResponse:
    def __init__(self, status_code: int, text: str = "ok") -> None:
        self.status_code = status_code
        self.text = text


class WebhookTestCase(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.enqueued: list[int] = []
        patcher = mock.patch.object(
            services, "deliveries_dispatch", side_effect=lambda delivery_ids: self.enqueued.extend(delivery_ids)
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def subscribe(self, *event_names: str, unit: Any = None) -> NotificationChannel:
        return subscription_create(
            organization=unit or self.unit,
            actor=self.superuser(),
            name="值班系统",
            target_url="https://hooks.example.com/opinion",
            event_names=list(event_names or ["incident.created"]),
        )

    def superuser(self) -> Any:
        from django.contrib.auth import get_user_model

        user, _ = get_user_model().objects.get_or_create(username="root", defaults={"is_superuser": True})
        return user

    def log_with_events(self, **kwargs: Any) -> Any:
        with self.captureOnCommitCallbacks(execute=True):
            return self.log_incident(**kwargs)

    def webhook_deliveries(self) -> Any:
        return Delivery.objects.filter(channel__kind=NotificationChannel.Kind.SIGNED_WEBHOOK)


class SignatureTests(WebhookTestCase):
    def test_it_signs_timestamp_and_body_with_hmac_sha256(self) -> None:
        header = sign("s3cret", b'{"a":1}', 1_700_000_000)
        self.assertRegex(header, r"^t=1700000000,v1=[0-9a-f]{64}$")
        self.assertTrue(verify("s3cret", b'{"a":1}', header, now=1_700_000_010))
        self.assertFalse(verify("other", b'{"a":1}', header, now=1_700_000_010))
        self.assertFalse(verify("s3cret", b'{"a":2}', header, now=1_700_000_010))
        self.assertFalse(verify("s3cret", b'{"a":1}', header, now=1_700_000_000 + 3600))  # replayed later
        self.assertFalse(verify("s3cret", b'{"a":1}', "garbage"))


class DeliveryTests(WebhookTestCase):
    def test_it_creates_a_delivery_for_each_subscribed_endpoint_of_the_unit(self) -> None:
        wanted = self.subscribe("incident.created")
        self.subscribe("statement.published")
        self.subscribe("incident.created", unit=self.other_unit)
        incident = self.log_with_events()
        delivery = self.webhook_deliveries().get()
        self.assertEqual((delivery.channel, delivery.kind), (wanted, "incident.created"))
        self.assertEqual(delivery.payload["incident_id"], incident.pk)
        self.assertEqual(delivery.payload["reference"], incident.reference)
        self.assertIn(delivery.pk, self.enqueued)

    def test_it_delivers_a_transition_event_with_states(self) -> None:
        self.subscribe("incident.transitioned")
        incident = self.log_incident()
        with self.captureOnCommitCallbacks(execute=True):
            svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        payload = self.webhook_deliveries().get().payload
        self.assertEqual((payload["from_state"], payload["to_state"]), ("monitoring", "assessing"))

    def test_it_makes_one_row_per_subscription_and_event(self) -> None:
        self.subscribe("incident.created")
        incident = self.log_incident()
        message = services.Message(
            key="incident:created:1",
            kind="incident.created",
            organization_id=self.unit.pk,
            payload={"organization_id": self.unit.pk, "incident_id": incident.pk},
        )
        services.notifications_send_many(messages=[message])
        services.notifications_send_many(messages=[message])
        self.assertEqual(self.webhook_deliveries().filter(idempotency_key__startswith="incident:created:1").count(), 1)

    def test_a_missed_clock_escalated_and_acknowledged_reach_a_subscribed_system(self) -> None:
        from incidents.models import Deadline
        from incidents.services.deadline_clock import deadline_acknowledge, deadlines_sweep

        self.subscribe("deadline.missed", "deadline.escalated", "deadline.acknowledged")
        incident = self.log_incident(minutes_ago=31)
        oral = Deadline.objects.get(incident=incident, name="口头报告")
        deadlines_sweep()
        Deadline.objects.filter(pk=oral.pk).update(next_action_at=timezone.now())
        deadlines_sweep()
        deadline_acknowledge(deadline_id=oral.pk, actor=self.alice)
        kinds = list(self.webhook_deliveries().order_by("id").values_list("kind", flat=True))
        self.assertEqual(kinds, ["deadline.missed", "deadline.escalated", "deadline.acknowledged"])
        escalated = self.webhook_deliveries().get(kind="deadline.escalated").payload
        self.assertEqual(escalated["rung"], "leadership")  # the office has no head: the next rung with people
        self.assertEqual(escalated["incident_reference"], incident.reference)
        self.assertIn(self.alice.pk, escalated["recipients"])

    def test_it_posts_signed_json_that_the_receiver_can_verify(self) -> None:
        subscription = self.subscribe("incident.created")
        self.log_with_events()
        delivery = self.webhook_deliveries().get()
        with mock.patch.object(requests.Session, "post", return_value=FakeResponse(204)) as post:
            self.assertEqual(services.delivery_attempt(delivery_id=delivery.pk), "sent")
        (target,), kwargs = post.call_args
        self.assertEqual(target, subscription.target)
        headers, body = kwargs["headers"], kwargs["data"]
        self.assertTrue(verify(subscription.secret, body, headers["X-OpinionOps-Signature"], now=time.time()))
        envelope = json.loads(body)
        self.assertEqual((envelope["type"], envelope["id"]), ("incident.created", str(delivery.event_id)))
        self.assertEqual(headers["X-OpinionOps-Delivery"], str(delivery.event_id))
        delivery.refresh_from_db()
        self.assertEqual((delivery.status, delivery.attempts, delivery.next_attempt_at), ("sent", 1, None))
        self.assertEqual(delivery.log.get().response_status, 204)
        with mock.patch.object(requests.Session, "post") as post:
            self.assertEqual(services.delivery_attempt(delivery_id=delivery.pk), "skipped")  # a duplicate task
        post.assert_not_called()

    def test_it_retries_failures_with_growing_backoff_then_gives_up(self) -> None:
        self.subscribe("incident.created")
        self.log_with_events()
        delivery = self.webhook_deliveries().get()
        delays = []
        with mock.patch.object(requests.Session, "post", side_effect=requests.ConnectionError("refused")):
            for _ in range(services.MAX_ATTEMPTS):
                before = timezone.now()
                services.delivery_attempt(delivery_id=delivery.pk)
                result = Delivery.objects.get(pk=delivery.pk)
                if result.next_attempt_at:
                    delays.append((result.next_attempt_at - before).total_seconds())
        delivery.refresh_from_db()
        self.assertEqual((delivery.status, delivery.attempts), ("dead", services.MAX_ATTEMPTS))
        self.assertEqual(delays, sorted(delays))
        self.assertGreaterEqual(delays[0], 25)
        self.assertEqual(delivery.log.count(), services.MAX_ATTEMPTS)
        self.assertIn("无法连接到该地址", delivery.last_error)

    def test_it_treats_a_non_2xx_answer_as_a_failure(self) -> None:
        self.subscribe("incident.created")
        self.log_with_events()
        delivery = self.webhook_deliveries().get()
        with mock.patch.object(requests.Session, "post", return_value=FakeResponse(500, "boom")):
            services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        self.assertEqual((delivery.status, delivery.last_response_status), ("failed", 500))
        self.assertGreater(delivery.next_attempt_at, timezone.now())
        self.assertEqual(delivery.log.get().response_body, "boom")


class SweeperTests(WebhookTestCase):
    def test_the_one_delivery_sweeper_queues_due_webhook_rows(self) -> None:
        self.subscribe("incident.created")
        for n in range(3):
            self.log_with_events(title=f"t{n}")
        due, _later, done = self.webhook_deliveries().order_by("id")
        Delivery.objects.filter(pk=due.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        Delivery.objects.filter(pk=done.pk).update(status="sent", next_attempt_at=None)
        self.enqueued.clear()
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(services.deliveries_sweep(), 1)
        self.assertEqual(self.enqueued, [due.pk])
        self.assertEqual(services.deliveries_sweep(), 0)  # leased: a second sweeper gets nothing
        self.assertGreater(Delivery.objects.get(pk=due.pk).next_attempt_at, timezone.now())

    def test_it_forgets_idempotency_records_after_a_day(self) -> None:
        old = IdempotencyRecord.objects.create(principal="user:1", key="a", request_fingerprint="x")
        IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
        IdempotencyRecord.objects.create(principal="user:1", key="b", request_fingerprint="x")
        forget_idempotency_records_task()
        self.assertEqual(list(IdempotencyRecord.objects.values_list("key", flat=True)), ["b"])


class WebhookApiTests(WebhookTestCase):
    def admin_client(self) -> Any:
        from organizations.models import Membership

        Membership.objects.filter(user=self.olga).update(is_unit_admin=True)
        return self.client_for(self.olga)

    def test_it_lets_unit_admins_subscribe_and_returns_the_secret_once(self) -> None:
        body = {"name": "值班", "target_url": "https://hooks.example.com/x", "events": ["incident.created"]}
        self.assertError(self.client_for(self.alice).post("/api/v1/webhooks/", body), 403, "permission_denied")
        client = self.admin_client()
        response = client.post("/api/v1/webhooks/", body)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(len(response.json()["secret"]), 64)
        detail = client.get(f"/api/v1/webhooks/{response.json()['id']}/").json()
        self.assertNotIn("secret", detail)
        # Another unit's administrator: "not found", the same answer as for an id that does not exist.
        self.assertError(self.client_for(self.carl).get(f"/api/v1/webhooks/{detail['id']}/"), 404, "not_found")
        self.assertError(self.client_for(self.carl).get("/api/v1/webhooks/999999/"), 404, "not_found")
        # Not an administrator: refused before any lookup, whatever the id (the targets stay private).
        for pk in (detail["id"], 999999):
            self.assertError(self.client_for(self.alice).get(f"/api/v1/webhooks/{pk}/"), 403, "permission_denied")

    def test_an_operator_without_a_unit_is_refused(self) -> None:
        """An operator belongs to no unit: there is no unit to subscribe to, said as a refusal."""
        client = self.session_client(self.superuser())
        body = {"name": "值班", "target_url": "https://hooks.example.com/x", "events": ["incident.created"]}
        self.assertError(client.post("/api/v1/webhooks/", body), 403, "permission_denied")
        self.assertFalse(NotificationChannel.objects.filter(kind="signed_webhook").exists())

    def test_it_accepts_only_http_and_https_targets_and_known_events(self) -> None:
        client = self.admin_client()
        for target in ["ftp://example.com/x", "javascript:alert(1)", "file:///etc/passwd", "example.com"]:
            body = {"name": "x", "target_url": target, "events": ["incident.created"]}
            self.assertError(client.post("/api/v1/webhooks/", body), 400, "invalid", field="target_url")
        body = {"name": "x", "target_url": "http://example.com/x", "events": ["incident.deleted"]}
        self.assertError(client.post("/api/v1/webhooks/", body), 400, "invalid", field="events.0")
        self.assertFalse(NotificationChannel.objects.filter(kind="signed_webhook").exists())

    def test_it_sends_a_delivery_again_on_request(self) -> None:
        self.subscribe("incident.created")
        self.log_with_events()
        delivery = self.webhook_deliveries().get()
        Delivery.objects.filter(pk=delivery.pk).update(status="dead", next_attempt_at=None)
        self.assertError(
            self.client_for(self.alice).post(f"/api/v1/webhook-deliveries/{delivery.pk}/send-again/"),
            403,
            "permission_denied",
        )
        self.enqueued.clear()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.admin_client().post(f"/api/v1/webhook-deliveries/{delivery.pk}/send-again/")
        self.assertEqual(response.json()["status"], "pending")
        self.assertEqual(self.enqueued, [delivery.pk])

    @override_settings(ROOT_URLCONF="opinion_ops.urls")
    def test_it_sends_again_from_the_admin(self) -> None:
        self.subscribe("incident.created")
        self.log_with_events()
        delivery = self.webhook_deliveries().get()
        Delivery.objects.filter(pk=delivery.pk).update(status="dead", next_attempt_at=None)
        user = self.superuser()
        user.is_staff = True
        user.save()
        self.client.force_login(user)
        self.client.post("/admin/notifications/delivery/", {"action": "retry", "_selected_action": [delivery.pk]})
        self.assertEqual(Delivery.objects.get(pk=delivery.pk).status, "failed")  # due again, one more round
        self.assertEqual(Delivery.objects.get(pk=delivery.pk).attempts, 0)

    def test_resend_requires_a_unit_admin(self) -> None:
        self.subscribe("incident.created")
        self.log_with_events()
        with self.assertRaises(NotPermitted):
            delivery_resend(delivery_id=self.webhook_deliveries().get().pk, actor=self.alice)


class EventNameTests(WebhookTestCase):
    def test_every_subscribable_event_is_routed(self) -> None:
        for name in routing.WEBHOOK_EVENTS:
            self.assertIn(routing.route, events._in_transaction[name])

    def test_escalation_and_acknowledgement_can_be_subscribed(self) -> None:
        self.assertIn("deadline.escalated", routing.WEBHOOK_EVENTS)
        self.assertIn("deadline.acknowledged", routing.WEBHOOK_EVENTS)
