"""A real Celery worker and beat enforce the clocks: every reminder and miss reaches the owner's
webhook exactly once, even when the worker is killed (SIGKILL) mid-run and started again."""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from incidents import events
from incidents.models import Deadline, DeadlineRule, DeadlineSignal
from incidents.services.incidents import incident_create
from notifications.models import Delivery, Notification, NotificationChannel
from opinion_ops.testing import make_unit, make_user
from opinion_ops.worker_harness import WebhookSink, process_start, process_stop
from organizations.models import ResponseGroup

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))
REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not REDIS_URL.startswith("redis://"), reason="needs REDIS_URL pointing at Redis"),
]


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return process_start([CELERY, "-A", "opinion_ops", *args], env, log)


def test_it_delivers_every_reminder_and_miss_exactly_once_across_a_killed_worker(transactional_db: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # stale tasks of an earlier run refer to rows that are gone
    server = ThreadingHTTPServer(("127.0.0.1", 0), WebhookSink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    WebhookSink.received = []

    unit = make_unit("示范区教育局", "district")
    bob = make_user("bob", unit, "monitoring")
    olga = make_user("olga", unit, "office")
    NotificationChannel.objects.create(
        user=olga, kind="webhook", target=f"http://127.0.0.1:{server.server_address[1]}/hook"
    )
    incident = incident_create(actor=bob, title="网传某校食堂饭菜质量问题", discovered_at=timezone.now())
    office = ResponseGroup.objects.get(organization=unit, kind="office")
    now = timezone.now()
    rows = []
    for i in range(10):
        # Ten clocks due in 63–72 s, each reminded one minute before (in 3–12 s) …
        due = now + timedelta(seconds=63 + i)
        rows.append(
            Deadline(
                incident=incident,
                kind=DeadlineRule.Kind.OTHER,
                name=f"提醒{i}",
                due_at=due,
                owner_group=office,
                reminder_minutes=[1],
                next_action_at=due - timedelta(minutes=1),
            )
        )
        # … and ten that pass unmet in 3–12 s.
        due = now + timedelta(seconds=3 + i)
        rows.append(
            Deadline(
                incident=incident,
                kind=DeadlineRule.Kind.OTHER,
                name=f"逾期{i}",
                due_at=due,
                owner_group=office,
                reminder_minutes=[],
                next_action_at=due,
            )
        )
    Deadline.objects.bulk_create(rows)

    # The office is also told of the new incident itself (waiting for 研判): only the clocks' messages count here.
    clock_deliveries = Delivery.objects.filter(kind__in=[events.DEADLINE_REMINDER, events.DEADLINE_MISSED])
    tmp = Path(tempfile.mkdtemp(prefix="worker-test-"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "OPINION_OPS_VAR_DIR": str(tmp),
        "NOTIFICATION_DISPATCH_LEASE_SECONDS": "3",
        "NOTIFICATION_SEND_LEASE_SECONDS": "8",
        "DB_CONN_MAX_AGE": "0",
        # The webhook stand-in listens on this machine: the outbound policy must allow it.
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
    }
    worker_args = ["worker", "--concurrency=2", "--loglevel=INFO", "--without-heartbeat", "--without-gossip"]
    worker = start(worker_args, env, tmp / "worker.log")
    beat = start(["beat", "--loglevel=INFO", "-s", str(tmp / "beat-schedule")], env, tmp / "beat.log")
    try:
        time.sleep(7)  # mid-run: some clocks handled, some due, some still ahead
        process_stop(worker, signal.SIGKILL)
        worker = start(worker_args, env, tmp / "worker.log")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if clock_deliveries.filter(status=Delivery.Status.SENT).count() >= 20:
                break
            time.sleep(1)
        time.sleep(3)  # anything doubled would arrive now
    finally:
        process_stop(beat)
        process_stop(worker)
        server.shutdown()

    ours = Deadline.objects.filter(kind=DeadlineRule.Kind.OTHER)
    signals = DeadlineSignal.objects.filter(deadline__in=ours)
    assert Counter(signals.values_list("kind", flat=True)) == {"reminder": 10, "missed": 10}, tmp / "worker.log"
    assert Notification.objects.filter(recipient=olga, deadline__in=ours).count() == 20
    assert clock_deliveries.filter(status=Delivery.Status.SENT).count() == 20
    expected = set(clock_deliveries.values_list("idempotency_key", flat=True))
    received = Counter(key for key, _at in WebhookSink.received)
    assert expected <= set(received)
    assert [key for key, count in received.items() if count > 1] == []


def _server_sessions() -> int:
    """Sessions PostgreSQL has opened for this database so far (its statistics, read fresh)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def test_a_worker_keeps_its_database_connections_from_task_to_task(transactional_db: Any) -> None:
    # Celery closes the task's database connection after every task: without the pool each task
    # started a PostgreSQL server process of its own, which under load made clocks seconds late.
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")
    import redis
    from celery import current_app

    redis.Redis.from_url(REDIS_URL).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="worker-test-"))
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": REDIS_URL, "OPINION_OPS_VAR_DIR": str(tmp)}
    log = tmp / "worker.log"
    worker = start(["worker", "--pool=threads", "--concurrency=2", "--loglevel=INFO", "--without-gossip"], env, log)
    tasks = 40
    try:
        deadline = time.monotonic() + 60
        while "ready" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        before = _server_sessions()
        for _ in range(tasks):
            current_app.send_task("notifications.tasks.sweep_deliveries_task")
        while log.read_text().count("sweep_deliveries_task") < 2 * tasks and time.monotonic() < deadline:
            time.sleep(0.2)
        opened = _server_sessions() - before
    finally:
        process_stop(worker)
    assert log.read_text().count("succeeded") >= tasks, log
    assert opened <= 3, f"{opened} database sessions for {tasks} tasks"
