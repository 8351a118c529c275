"""Degraded, not down: with Redis unreachable, pages and the API keep serving (rate limits and caches
fail open with one log line); writes that queue work still commit, and the work is in the database
for the sweepers when the broker is back."""

from typing import Any
from unittest import mock

from django.test import TransactionTestCase, override_settings
from kombu.exceptions import OperationalError as BrokerDown

from integrations.testing import ApiTestCase
from notifications import services
from notifications.models import Delivery, NotificationChannel
from opinion_ops.cache import FailOpenRedisCache
from opinion_ops.testing import PASSWORD, sign_in

# Port 1 on loopback: nothing listens, the connection is refused at once.
DEAD_REDIS = {
    "default": {
        "BACKEND": "opinion_ops.cache.FailOpenRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


class RedisDownTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        FailOpenRedisCache._last_logged = 0.0

    @override_settings(CACHES=DEAD_REDIS)
    def test_the_api_and_the_pages_keep_serving_and_say_so_once(self) -> None:
        with self.assertLogs("opinion_ops.cache", "WARNING") as logs:
            client = self.client_for(self.bob)
            self.assertEqual(client.get("/api/v1/incidents/").status_code, 200)
            response = client.post("/api/v1/incidents/", _recent_incident())
            self.assertEqual(response.status_code, 201, response.content)
            sign_in(self.client, "alice", PASSWORD)
            self.assertEqual(self.client.get("/").status_code, 200)  # the dashboard's statistics cache
            self.assertEqual(self.client.get("/incidents/").status_code, 200)
        self.assertEqual(len(logs.records), 1, [r.getMessage() for r in logs.records])


def _recent_incident() -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    return {"title": "网传某校收费", "discovered_at": (timezone.now() - timedelta(minutes=5)).isoformat()}


class BrokerDownTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        services._broker_paused_until = 0.0
        self.addCleanup(setattr, services, "_broker_paused_until", 0.0)

    def test_a_message_is_written_and_left_for_the_sweeper_when_the_broker_is_down(self) -> None:
        NotificationChannel.objects.create(user=self.olga, kind="webhook", target="https://hooks.example.cn/x")
        from celery import current_app

        with mock.patch.object(current_app, "send_task", side_effect=BrokerDown("down")) as send:
            with self.assertLogs("notifications.services", "WARNING") as logs:
                with self.captureOnCommitCallbacks(execute=True):
                    services.notifications_send(key="k1", kind="test", title="一", recipients=[self.olga])
                with self.captureOnCommitCallbacks(execute=True):
                    services.notifications_send(key="k2", kind="test", title="二", recipients=[self.olga])
        self.assertEqual(send.call_count, 1)  # after the first refusal, no more tries for a while
        self.assertEqual(len(logs.records), 1)
        pending = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__isnull=False)
        self.assertEqual(pending.count(), 2)  # both due in the database: the sweeper sends them


def deadlock() -> Exception:
    """What Django raises when PostgreSQL chose this transaction as a deadlock's victim."""
    from django.db import OperationalError

    cause = type("DeadlockDetected", (Exception,), {"sqlstate": "40P01"})("deadlock detected")
    error = OperationalError("deadlock detected")
    error.__cause__ = cause
    return error


class RetryTests(TransactionTestCase):
    """Outside any transaction (as a request or a task calls it), a service that loses a deadlock is
    run again as a whole."""

    def test_the_service_is_run_again_after_a_deadlock(self) -> None:
        from django.utils import timezone

        from incidents.services import incidents as svc
        from opinion_ops.testing import make_unit, make_user

        unit = make_unit("示范区教育局", "district")
        bob, ann = make_user("bob", unit, "monitoring"), make_user("ann", unit, "analysis")
        incident = svc.incident_create(actor=bob, title="重试", discovered_at=timezone.now())
        real = svc.incident_lock
        calls: list[int] = []

        def lose_once(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) == 1:
                raise deadlock()
            return real(*args, **kwargs)

        with mock.patch.object(svc, "incident_lock", side_effect=lose_once):
            svc.incident_start_assessment(incident_id=incident.pk, actor=ann)
        self.assertEqual(len(calls), 2)
        self.assertEqual(type(incident).objects.get(pk=incident.pk).state, "assessing")


class DeadlockTests(ApiTestCase):
    """A write that keeps losing to concurrent changes is answered "busy" (API 503, page 503) — never a 500."""

    def test_the_api_and_the_page_answer_busy_when_it_keeps_losing(self) -> None:
        from incidents.services import incidents as svc

        incident = self.log_incident()
        with mock.patch.object(svc, "incident_lock", side_effect=deadlock()):
            response = self.client_for(self.ann).post(f"/api/v1/incidents/{incident.pk}/start-assessment/")
            self.assertError(response, 503, "busy")
            self.assertEqual(response["Retry-After"], "1")
            sign_in(self.client, "ann", PASSWORD)
            page = self.client.post(f"/incidents/{incident.pk}/act/start_assessment/")
            self.assertContains(page, "系统繁忙", status_code=503)
        self.assertEqual(type(incident).objects.get(pk=incident.pk).state, "monitoring")
