"""Degraded, not down: with Redis unreachable, pages and the API keep serving (rate limits and caches
fail open with one log line); writes that queue work still commit, and the work is in the database
for the sweepers when the broker is back."""

from typing import Any
from unittest import mock

from django.test import override_settings
from kombu.exceptions import OperationalError as BrokerDown

from integrations.testing import ApiTestCase
from notifications import services
from notifications.models import Delivery, NotificationChannel
from opinion_ops.cache import FailOpenRedisCache
from opinion_ops.testing import PASSWORD

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
            self.client.login(username="alice", password=PASSWORD)
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
