"""Deadline clocks under load: a real Celery worker and beat (subprocesses) on Redis and PostgreSQL.

Plans N open deadlines whose reminders and due times fall over a window, lets the worker and beat
run them, and measures at a local webhook receiver: nothing missed, nothing doubled, and how late
each reminder / miss notice arrived against its planned time. Then the same run again with the
worker killed (SIGKILL) twice and Redis restarted once (a redis-server this script starts itself
on another port; the machine's Redis is never touched).

    .venv/bin/python bench/deadlines.py [--quick]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1/opinion_ops_bench_a, recreated) and
REDIS_URL (default redis://127.0.0.1:6379/12, flushed). Ends with one key=value summary line.
"""

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CELERY = str(Path(sys.executable).with_name("celery"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1/opinion_ops_bench_a")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_ops.settings")

from opinion_ops.worker_harness import WebhookSink, process_start, process_stop  # noqa: E402

CHAOS_REDIS_PORT = 6391


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    subprocess.run(["dropdb", "--if-exists", "--force", *args, name], check=True)
    subprocess.run(["createdb", *args, name], check=True)


def start_redis(tmp: Path) -> subprocess.Popen[bytes]:
    process = process_start(
        ["redis-server", "--port", str(CHAOS_REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        dict(os.environ),
        tmp / "redis.log",
    )
    import redis

    client = redis.Redis(port=CHAOS_REDIS_PORT)
    for _ in range(50):
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("bench redis-server did not start")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def plan_deadlines(n: int, lead: float, window: float, owner_group: Any, incident: Any) -> dict[str, datetime]:
    """Half the clocks are reminded one minute before they fall due, half pass unmet; every
    planned reminder or miss lands in [now + lead, now + lead + window]. Returns planned times by
    signal-key prefix."""
    from incidents.models import Deadline, DeadlineRule

    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        at = now + timedelta(seconds=lead + random.uniform(0, window))
        reminded = i % 2 == 0
        due = at + timedelta(minutes=1) if reminded else at
        rows.append(
            Deadline(
                incident=incident,
                kind=DeadlineRule.Kind.OTHER,
                name=f"bench-{i}",
                due_at=due,
                owner_group=owner_group,
                reminder_minutes=[1] if reminded else [],
                escalation_interval_minutes=60,
                next_action_at=at,
            )
        )
    created = Deadline.objects.bulk_create(rows, batch_size=2000)
    planned = {}
    for deadline in created:
        kind, step, at = (
            ("reminder", 1, deadline.due_at - timedelta(minutes=1))
            if deadline.reminder_minutes
            else ("missed", 0, deadline.due_at)
        )
        planned[f"deadline:{deadline.pk}:{kind}:{step}:{int(deadline.due_at.timestamp())}"] = at
    return planned


def run(label: str, n: int, window: float, chaos: bool, fixtures: dict[str, Any], tmp: Path) -> dict[str, Any]:
    from django.db import connection

    from incidents.models import Deadline, DeadlineSignal
    from incidents.services.incidents import incident_create
    from notifications.models import Delivery, Notification

    redis_process = start_redis(tmp) if chaos else None
    redis_url = f"redis://127.0.0.1:{CHAOS_REDIS_PORT}/0" if chaos else os.environ["REDIS_URL"]
    if not chaos:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "OPINION_OPS_VAR_DIR": str(tmp),
        "NOTIFICATION_DISPATCH_LEASE_SECONDS": "4",
        "NOTIFICATION_SEND_LEASE_SECONDS": "6",
        "DELIVERY_SWEEP_SECONDS": "2",
        "LOG_LEVEL": "INFO",
    }
    incident = incident_create(actor=fixtures["reporter"], title=f"bench {label}", discovered_at=datetime.now(UTC))
    lead = 6.0
    planned = plan_deadlines(n, lead, window, fixtures["office"], incident)
    open_clocks = Deadline.objects.filter(next_action_at__isnull=False).count()
    WebhookSink.received = []
    worker_log = tmp / f"worker-{label}.log"
    worker_cmd = [CELERY, "-A", "opinion_ops", "worker", "--concurrency=4", "--loglevel=INFO"]
    worker_cmd += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    beat_cmd = [CELERY, "-A", "opinion_ops", "beat", "--loglevel=INFO"]
    beat_cmd += ["-s", str(tmp / f"beat-{label}")]
    worker = process_start(worker_cmd, env, worker_log)
    beat = process_start(beat_cmd, env, tmp / f"beat-{label}.log")
    started = time.monotonic()
    events = []
    if chaos:
        events = [(lead + window * 0.3, "kill"), (lead + window * 0.5, "redis"), (lead + window * 0.7, "kill")]
    try:
        for at, what in events:
            time.sleep(max(0.0, started + at - time.monotonic()))
            if what == "kill":
                process_stop(worker, signal.SIGKILL)
                time.sleep(1)
                worker = process_start(worker_cmd, env, worker_log)
            else:
                assert redis_process is not None
                process_stop(redis_process, signal.SIGKILL)
                time.sleep(1)
                redis_process = start_redis(tmp)
            print(f"  [{label}] t={time.monotonic() - started:5.1f}s {what}", flush=True)
        deadline = started + lead + window + (60 if chaos else 40)
        while time.monotonic() < deadline:
            with WebhookSink.lock:
                keys = {key.rsplit(":c", 1)[0] for key, _ in WebhookSink.received}
            if len(keys & planned.keys()) >= len(planned):
                break
            time.sleep(0.5)
        time.sleep(3)  # a doubled message would arrive now
    finally:
        process_stop(beat)
        process_stop(worker)
        if redis_process is not None:
            process_stop(redis_process)
    connection.close()

    first: dict[str, float] = {}
    counts: Counter[str] = Counter()
    with WebhookSink.lock:
        for key, at in WebhookSink.received:
            signal_key = key.rsplit(":c", 1)[0]
            counts[signal_key] += 1
            first.setdefault(signal_key, at)
    late = [first[key] - planned_at.timestamp() for key, planned_at in planned.items() if key in first]
    missed = sum(1 for key in planned if key not in first)
    signals = DeadlineSignal.objects.filter(deadline__incident=incident)
    db_duplicates = signals.count() - len(set(signals.values_list("deadline_id", "kind", "step")))
    notifications = Notification.objects.filter(incident=incident)
    inapp = [
        (created - planned[key.rsplit(":u", 1)[0]]).total_seconds()
        for key, created in notifications.values_list("idempotency_key", "created_at")
        if key.rsplit(":u", 1)[0] in planned
    ]
    ticks = [
        (int(m.group(1)), float(m.group(2)))
        for m in re.finditer(r"deadline sweep: advanced=(\d+) ms=([\d.]+)", worker_log.read_text(errors="replace"))
    ]
    busy = [ms for count, ms in ticks if count]
    idle = [ms for count, ms in ticks if not count]
    result = {
        "deadlines": n,
        "open_clocks": open_clocks,
        "signals": signals.count(),
        "missed": missed,
        "duplicates": db_duplicates + sum(1 for c in counts.values() if c > 1),
        "sink_repeats": sum(c - 1 for c in counts.values() if c > 1),
        "notifications": notifications.count(),
        "deliveries_sent": Delivery.objects.filter(incident=incident, status=Delivery.Status.SENT).count(),
        "p50_s": percentile(late, 50),
        "p99_s": percentile(late, 99),
        "max_s": max(late) if late else float("nan"),
        "inapp_p99_s": percentile(inapp, 99),
        "tick_ms": statistics.median(busy) if busy else float("nan"),
        "tick_p99_ms": percentile(busy, 99),
        "idle_tick_ms": statistics.median(idle) if idle else float("nan"),
        "ticks": len(ticks),
    }
    return result


def setup_fixtures() -> dict[str, Any]:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, skip_checks=True)
    from incidents.models import ResponseGroup
    from notifications.models import NotificationChannel
    from opinion_ops.testing import make_unit, make_user

    unit = make_unit("压测单位", "bench")
    reporter = make_user("bench-monitor", unit, "monitoring")
    owner = make_user("bench-office", unit, "office")
    server = ThreadingHTTPServer(("127.0.0.1", 0), WebhookSink)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    NotificationChannel.objects.create(
        user=owner, kind="webhook", target=f"http://127.0.0.1:{server.server_address[1]}/robot"
    )
    return {"reporter": reporter, "office": ResponseGroup.objects.get(organization=unit, kind="office")}


def sweep_query_uses_index() -> bool:
    from django.db import connection
    from django.utils import timezone

    from incidents.models import Deadline

    with connection.cursor() as cursor:
        sql, params = (
            Deadline.objects.filter(next_action_at__lte=timezone.now())
            .order_by("next_action_at")[:200]
            .query.sql_with_params()
        )
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return "deadline_next_action" in plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller load that runs in under a minute")
    parser.add_argument("--deadlines", type=int, help="open deadlines per run (default 10000, quick 400)")
    parser.add_argument("--window", type=float, help="seconds over which they fall due (default 600, quick 10)")
    args = parser.parse_args()
    n = args.deadlines or (400 if args.quick else 10_000)
    window = args.window or (10.0 if args.quick else 600.0)
    if not shutil.which("redis-server"):
        sys.exit("redis-server is needed for the Redis-restart run")
    random.seed(7)
    recreate_database(os.environ["DATABASE_URL"])
    fixtures = setup_fixtures()
    tmp = Path(tempfile.mkdtemp(prefix="bench-deadlines-"))
    print(f"deadlines bench: {n} deadlines over {window:.0f}s per run; logs in {tmp}", flush=True)
    results = {}
    for label, chaos in (("steady", False), ("chaos", True)):
        results[label] = run(label, n, window, chaos, fixtures, tmp)
        print(f"  [{label}] " + " ".join(f"{k}={_fmt(v)}" for k, v in results[label].items()), flush=True)
    print(f"  sweep query uses index deadline_next_action: {sweep_query_uses_index()}")
    steady, chaos_result = results["steady"], results["chaos"]
    summary = {
        "deadlines": n,
        "missed": steady["missed"],
        "duplicates": steady["duplicates"],
        "p50_s": steady["p50_s"],
        "p99_s": steady["p99_s"],
        "tick_ms": steady["tick_ms"],
        "idle_tick_ms": steady["idle_tick_ms"],
        "chaos_missed": chaos_result["missed"],
        "chaos_duplicates": chaos_result["duplicates"],
        "chaos_p99_s": chaos_result["p99_s"],
    }
    print(" ".join(f"{k}={_fmt(v)}" for k, v in summary.items()))


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
