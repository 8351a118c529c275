"""Outbound webhooks: events become signed deliveries, sent with retries and backoff, at most one
row per (subscription, event); the sweeper claims only due rows; "send again" re-queues."""

import json
import time
import uuid
from datetime import timedelta
from typing import Any
from unittest import mock

import requests
from django.test import override_settings
from django.utils import timezone

from incidents import events
from incidents.services import incidents as svc
from integrations import webhooks
from integrations.models import IdempotencyRecord, WebhookDelivery, WebhookSubscription
from integrations.tasks import sweep_webhook_deliveries_task
from integrations.testing import ApiTestCase
from integrations.webhooks import (
    MAX_ATTEMPTS,
    sign,
    verify,
    webhook_deliveries_claim_due,
    webhook_delivery_resend,
    webhook_delivery_send,
    webhook_subscription_create,
)


class FakeResponse:
    def __init__(self, status_code: int, text: str = "ok") -> None:
        self.status_code = status_code
        self.text = text


class WebhookTestCase(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.enqueued: list[int] = []
        patcher = mock.patch.object(webhooks, "_enqueue", side_effect=self.enqueued.extend)
        patcher.start()
        self.addCleanup(patcher.stop)

    def subscribe(self, *event_names: str, unit: Any = None) -> WebhookSubscription:
        return webhook_subscription_create(
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
        delivery = WebhookDelivery.objects.get()
        self.assertEqual((delivery.subscription, delivery.event), (wanted, "incident.created"))
        self.assertEqual(delivery.payload["incident_id"], incident.pk)
        self.assertEqual(self.enqueued, [delivery.pk])

    def test_it_delivers_a_transition_event_with_states(self) -> None:
        self.subscribe("incident.transitioned")
        incident = self.log_incident()
        with self.captureOnCommitCallbacks(execute=True):
            svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        payload = WebhookDelivery.objects.get().payload
        self.assertEqual((payload["from_state"], payload["to_state"]), ("monitoring", "assessing"))

    def test_it_makes_one_row_per_subscription_and_event_id(self) -> None:
        self.subscribe("incident.created")
        event_id = uuid.uuid4()
        payload = {"organization_id": self.unit.pk, "incident_id": 1}
        webhooks.webhook_deliveries_create(event="incident.created", payload=payload, event_id=event_id)
        webhooks.webhook_deliveries_create(event="incident.created", payload=payload, event_id=event_id)
        self.assertEqual(WebhookDelivery.objects.count(), 1)

    def test_it_posts_signed_json_that_the_receiver_can_verify(self) -> None:
        subscription = self.subscribe("incident.created")
        self.log_with_events()
        delivery = WebhookDelivery.objects.get()
        with mock.patch.object(requests, "post", return_value=FakeResponse(204)) as post:
            webhook_delivery_send(delivery_id=delivery.pk)
        (target,), kwargs = post.call_args
        self.assertEqual(target, subscription.target_url)
        headers, body = kwargs["headers"], kwargs["data"]
        self.assertTrue(verify(subscription.secret, body, headers["X-OpinionOps-Signature"], now=time.time()))
        envelope = json.loads(body)
        self.assertEqual((envelope["type"], envelope["id"]), ("incident.created", str(delivery.event_id)))
        self.assertEqual(headers["X-OpinionOps-Delivery"], str(delivery.event_id))
        delivery.refresh_from_db()
        self.assertEqual((delivery.status, delivery.attempts, delivery.next_attempt_at), ("delivered", 1, None))
        self.assertEqual(delivery.attempt_log.get().response_status, 204)
        with mock.patch.object(requests, "post") as post:
            self.assertIsNone(webhook_delivery_send(delivery_id=delivery.pk))  # a duplicate task sends nothing
        post.assert_not_called()

    def test_it_retries_failures_with_growing_backoff_then_gives_up(self) -> None:
        self.subscribe("incident.created")
        self.log_with_events()
        delivery = WebhookDelivery.objects.get()
        delays = []
        with mock.patch.object(requests, "post", side_effect=requests.ConnectionError("refused")):
            for _ in range(MAX_ATTEMPTS):
                before = timezone.now()
                result = webhook_delivery_send(delivery_id=delivery.pk)
                assert result is not None
                if result.next_attempt_at:
                    delays.append((result.next_attempt_at - before).total_seconds())
        delivery.refresh_from_db()
        self.assertEqual((delivery.status, delivery.attempts), ("failed", MAX_ATTEMPTS))
        self.assertEqual(delays, sorted(delays))
        self.assertGreaterEqual(delays[0], 25)
        self.assertEqual(delivery.attempt_log.count(), MAX_ATTEMPTS)
        self.assertIn("ConnectionError", delivery.last_error)

    def test_it_treats_a_non_2xx_answer_as_a_failure(self) -> None:
        self.subscribe("incident.created")
        self.log_with_events()
        with mock.patch.object(requests, "post", return_value=FakeResponse(500, "boom")):
            delivery = webhook_delivery_send(delivery_id=WebhookDelivery.objects.get().pk)
        assert delivery is not None
        self.assertEqual((delivery.status, delivery.last_response_status), ("pending", 500))
        self.assertGreater(delivery.next_attempt_at, timezone.now())


class SweeperTests(WebhookTestCase):
    def test_it_claims_only_due_pending_rows_and_leases_them(self) -> None:
        self.subscribe("incident.created")
        for n in range(3):
            self.log_with_events(title=f"t{n}")
        due, _later, done = WebhookDelivery.objects.order_by("id")
        WebhookDelivery.objects.filter(pk=due.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        WebhookDelivery.objects.filter(pk=done.pk).update(status="delivered", next_attempt_at=None)
        self.enqueued.clear()
        self.assertEqual(sweep_webhook_deliveries_task(), 1)
        self.assertEqual(self.enqueued, [due.pk])
        self.assertEqual(webhook_deliveries_claim_due(), [])  # leased: a second sweeper gets nothing
        self.assertGreater(WebhookDelivery.objects.get(pk=due.pk).next_attempt_at, timezone.now())

    def test_it_forgets_idempotency_records_after_a_day(self) -> None:
        old = IdempotencyRecord.objects.create(principal="user:1", key="a", request_fingerprint="x")
        IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
        IdempotencyRecord.objects.create(principal="user:1", key="b", request_fingerprint="x")
        sweep_webhook_deliveries_task()
        self.assertEqual(list(IdempotencyRecord.objects.values_list("key", flat=True)), ["b"])


class WebhookApiTests(WebhookTestCase):
    def admin_client(self) -> Any:
        from incidents.models import Membership

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
        self.assertError(self.client_for(self.charlie).get(f"/api/v1/webhooks/{detail['id']}/"), 404, "not_found")

    def test_it_accepts_only_http_and_https_targets_and_known_events(self) -> None:
        client = self.admin_client()
        for target in ["ftp://example.com/x", "javascript:alert(1)", "file:///etc/passwd", "example.com"]:
            body = {"name": "x", "target_url": target, "events": ["incident.created"]}
            self.assertError(client.post("/api/v1/webhooks/", body), 400, "invalid", field="target_url")
        body = {"name": "x", "target_url": "http://example.com/x", "events": ["incident.deleted"]}
        self.assertError(client.post("/api/v1/webhooks/", body), 400, "invalid", field="events.0")
        self.assertFalse(WebhookSubscription.objects.exists())

    def test_it_sends_a_delivery_again_on_request(self) -> None:
        self.subscribe("incident.created")
        self.log_with_events()
        delivery = WebhookDelivery.objects.get()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
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
        delivery = WebhookDelivery.objects.get()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="delivered", next_attempt_at=None)
        self.client.force_login(self.superuser())
        user = self.superuser()
        user.is_staff = True
        user.save()
        self.client.post(
            "/admin/integrations/webhookdelivery/", {"action": "send_again", "_selected_action": [delivery.pk]}
        )
        self.assertEqual(WebhookDelivery.objects.get(pk=delivery.pk).status, "pending")

    def test_resend_requires_a_unit_admin(self) -> None:
        self.subscribe("incident.created")
        self.log_with_events()
        from incidents.errors import NotPermitted

        with self.assertRaises(NotPermitted):
            webhook_delivery_resend(delivery_id=WebhookDelivery.objects.get().pk, actor=self.alice)


class EventNameTests(WebhookTestCase):
    def test_it_subscribes_to_every_webhook_event_of_the_domain(self) -> None:
        for name in webhooks.WEBHOOK_EVENTS:
            self.assertIn(webhooks.on_domain_event, events._in_transaction[name])
