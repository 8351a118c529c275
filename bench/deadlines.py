"""Deadline clocks under load: a real Celery worker and beat (subprocesses) on Redis and PostgreSQL.

With a table of open clocks that are not yet due (100,000; 10,000 with --quick) it plans a burst of
clocks whose reminders and misses fall over a window, lets the worker and beat run them, and
measures at a local webhook receiver: nothing missed, nothing doubled, and how late each reminder
/ miss notice arrived against its planned time (p50, p99). Then:

- chaos: the same burst with the worker killed (SIGKILL) twice and Redis restarted once (a
  redis-server this script starts itself on another port; the machine's Redis is never touched);
- outage: missed clocks whose owners were told, then the worker down for longer than two
  escalation intervals. When it is back, each clock must reach the next rung of its chain
  (group head, then the 领导小组, then the superior unit) one at a time, in order, once, one
  interval (one minute) apart. --quick checks the first rung after the outage and the schedule of
  the next; the full run waits for every rung.

It also prints the sweep query's plan (on its partial index?), the idle tick's cost with and
without the background clocks (it should not grow with them), and the cost of advancing one clock.

    .venv/bin/python bench/deadlines.py [--quick]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1/opinion_ops_bench_a, recreated) and
REDIS_URL (default redis://127.0.0.1:6379/12, flushed). Ends with one key=value summary line.
"""

import argparse
import itertools
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
from collections import defaultdict
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
# The webhook stand-in listens on this machine: the outbound policy must allow it.
os.environ.setdefault("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.1/32")

from opinion_ops.worker_harness import WebhookSink, process_start, process_stop  # noqa: E402

CHAOS_REDIS_PORT = 6391
OUTAGE_CLOCKS = 20
INTERVAL_S = 60  # the shortest escalation interval a plan can have (one minute)
OUTAGE_S = 2.5 * INTERVAL_S  # the worker was down for longer than two intervals


def recreate_database(url: str) -> None:
    """A fresh, migrated database, cloned from a migrated template kept beside it (made again when
    the project's migrations change), so that set-up does not run every migration each time."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit("bench/deadlines.py recreates its database: use a DATABASE_URL whose name contains 'bench'")
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    template = f"{name}_template"
    migrations = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("*/migrations/0*.py"))
    migrations += sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("*/*/migrations/0*.py"))
    stamp = ROOT / "var" / f"{template}.stamp"
    wanted = "\n".join(migrations)
    subprocess.run(["dropdb", "--if-exists", "--force", *args, name], check=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run(["dropdb", "--if-exists", "--force", *args, template], check=True)
        subprocess.run(["createdb", *args, template], check=True)
        env = {**os.environ, "DATABASE_URL": url.replace(f"/{name}", f"/{template}")}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(wanted)
    subprocess.run(["createdb", *args, "-T", template, name], check=True)


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


def _key(kind: str, deadline: Any, point: str | int) -> str:
    return f"deadline:{deadline.pk}:{kind}:{point}:{int(deadline.due_at.timestamp())}"


def plan_burst(n: int, lead: float, window: float, fixtures: dict[str, Any], incident: Any) -> dict[str, datetime]:
    """Half the clocks are reminded one minute before they fall due, half pass unmet; every
    planned reminder or miss lands in [now + lead, now + lead + window]. Returns planned times by
    signal key."""
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
                owner_group=fixtures["office"],
                reminder_minutes=[1] if reminded else [],
                escalation_interval_minutes=60,
                next_action_at=at,
            )
        )
    created = Deadline.objects.bulk_create(rows, batch_size=2000)
    planned = {}
    for deadline in created:
        if deadline.reminder_minutes:
            planned[_key("reminder", deadline, 1)] = deadline.due_at - timedelta(minutes=1)
        else:
            planned[_key("missed", deadline, 0)] = deadline.due_at
    return planned


def plan_background(n: int, fixtures: dict[str, Any]) -> None:
    """Open clocks spread over the next month: in the table, never due during the run."""
    from incidents.models import Deadline, DeadlineRule

    now = datetime.now(UTC)
    incident = fixtures["background_incident"]
    rows = []
    for i in range(n):
        due = now + timedelta(hours=2, seconds=random.uniform(0, 30 * 24 * 3600))
        rows.append(
            Deadline(
                incident=incident,
                kind=DeadlineRule.Kind.OTHER,
                name=f"open-{i}",
                due_at=due,
                owner_group=fixtures["office"],
                reminder_minutes=[10],
                next_action_at=due - timedelta(minutes=10),
            )
        )
    Deadline.objects.bulk_create(rows, batch_size=5000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_deadline")


def worker_env(tmp: Path, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "OPINION_OPS_VAR_DIR": str(tmp),
        "NOTIFICATION_DISPATCH_LEASE_SECONDS": "4",
        "NOTIFICATION_SEND_LEASE_SECONDS": "6",
        "DELIVERY_SWEEP_SECONDS": "2",
        "LOG_LEVEL": "INFO",
    }


WORKER = [CELERY, "-A", "opinion_ops", "worker", "--concurrency=4", "--loglevel=INFO"]
WORKER += ["--without-gossip", "--without-mingle", "--without-heartbeat"]


def received_keys() -> dict[str, list[float]]:
    """Signal key → arrival times at the sink (one per channel the message went to)."""
    by_key: dict[str, list[float]] = defaultdict(list)
    with WebhookSink.lock:
        for key, at in WebhookSink.received:
            by_key[key.rsplit(":c", 1)[0]].append(at)
    return by_key


def tick_figures(log: Path) -> dict[str, float]:
    ticks = [
        (int(m.group(1)), float(m.group(3)), float(m.group(4)))
        for m in re.finditer(
            r"deadline sweep: advanced=(\d+) failed=(\d+) ms=([\d.]+) busy_ms=(\d+)", log.read_text(errors="replace")
        )
    ]
    # A tick may wait for clocks falling due before the next one: its busy time is the work.
    busy = [work for count, _ms, work in ticks if count]
    idle = [ms for count, ms, _work in ticks if not count]
    per_clock = [work / count for count, _ms, work in ticks if count >= 10]  # incl. each batch's fixed cost
    return {
        "tick_ms": statistics.median(busy) if busy else float("nan"),
        "tick_p99_ms": percentile(busy, 99),
        "idle_tick_ms": statistics.median(idle) if idle else float("nan"),
        "tick_ms_per_clock": statistics.median(per_clock) if per_clock else float("nan"),
        "ticks": len(ticks),
    }


def run_burst(
    label: str, n: int, window: float, chaos: bool, fixtures: dict[str, Any], tmp: Path, settle: float = 3.0
) -> dict[str, Any]:
    from django.db import connection

    from incidents.models import DeadlineSignal
    from incidents.services.incidents import incident_create
    from notifications.models import Delivery, Notification

    redis_process = start_redis(tmp) if chaos else None
    redis_url = f"redis://127.0.0.1:{CHAOS_REDIS_PORT}/0" if chaos else os.environ["REDIS_URL"]
    if not chaos:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    env = worker_env(tmp, redis_url)
    incident = incident_create(actor=fixtures["reporter"], title=f"bench {label}", discovered_at=datetime.now(UTC))
    lead = 6.0
    planned = plan_burst(n, lead, window, fixtures, incident)
    WebhookSink.received = []
    worker_log = tmp / f"worker-{label}.log"
    beat_cmd = [CELERY, "-A", "opinion_ops", "beat", "--loglevel=INFO", "-s", str(tmp / f"beat-{label}")]
    worker = process_start(WORKER, env, worker_log)
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
                worker = process_start(WORKER, env, worker_log)
            else:
                assert redis_process is not None
                process_stop(redis_process, signal.SIGKILL)
                time.sleep(1)
                redis_process = start_redis(tmp)
            print(f"  [{label}] t={time.monotonic() - started:5.1f}s {what}", flush=True)
        deadline = started + lead + window + (60 if chaos else 40)
        while time.monotonic() < deadline:
            if len(received_keys().keys() & planned.keys()) >= len(planned):
                break
            time.sleep(0.5)
        time.sleep(settle)  # a doubled message would arrive now
    finally:
        process_stop(beat)
        process_stop(worker)
        if redis_process is not None:
            process_stop(redis_process)
    connection.close()

    arrivals = received_keys()
    late = [arrivals[key][0] - at.timestamp() for key, at in planned.items() if key in arrivals]
    missed = sum(1 for key in planned if key not in arrivals)
    signals = DeadlineSignal.objects.filter(deadline__incident=incident)
    db_duplicates = signals.count() - len(set(signals.values_list("deadline_id", "kind", "step", "rung")))
    # A worker SIGKILLed after the receiver accepted a message and before the database recorded it
    # sends it again with the same idempotency key (at-least-once; the receiver drops it by key).
    interrupted = {
        key.rsplit(":c", 1)[0]
        for key in Delivery.objects.filter(incident=incident, log__error__startswith="发送中断").values_list(
            "idempotency_key", flat=True
        )
    }
    repeats = {key for key, times in arrivals.items() if len(times) > 1}
    resent = repeats & interrupted
    notifications = Notification.objects.filter(incident=incident)
    inapp = [
        (created - planned[key.rsplit(":u", 1)[0]]).total_seconds()
        for key, created in notifications.values_list("idempotency_key", "created_at")
        if key.rsplit(":u", 1)[0] in planned
    ]
    return {
        "deadlines": n,
        "signals": signals.count(),
        "missed": missed,
        "duplicates": db_duplicates + len(repeats - resent),
        "resent_after_kill": len(resent),
        "notifications": notifications.count(),
        "deliveries_sent": Delivery.objects.filter(incident=incident, status=Delivery.Status.SENT).count(),
        "p50_s": percentile(late, 50),
        "p99_s": percentile(late, 99),
        "max_s": max(late) if late else float("nan"),
        "inapp_p99_s": percentile(inapp, 99),
        **tick_figures(worker_log),
    }


def plan_outage(fixtures: dict[str, Any]) -> list[Any]:
    """Missed clocks whose owners were told, then more than two intervals without a worker: what a
    long outage leaves behind (planned just before a burst run starts its worker)."""
    from incidents.models import Deadline, DeadlineRule, DeadlineSignal
    from incidents.services.incidents import incident_create, incident_escalate

    incident = incident_create(actor=fixtures["reporter"], title="bench outage", discovered_at=datetime.now(UTC))
    incident_escalate(incident_id=incident.pk, actor=fixtures["leader"], note="bench")  # the superior rung applies
    missed_at = datetime.now(UTC) - timedelta(seconds=OUTAGE_S)
    clocks = Deadline.objects.bulk_create(
        [
            Deadline(
                incident=incident,
                kind=DeadlineRule.Kind.OTHER,
                name=f"outage-{i}",
                due_at=missed_at,
                status=Deadline.Status.MISSED,
                missed_at=missed_at,
                owner_group=fixtures["office"],
                escalation_interval_minutes=INTERVAL_S // 60,
                escalation_rung="owner",
                last_escalated_at=missed_at,
                next_action_at=missed_at + timedelta(seconds=INTERVAL_S),
            )
            for i in range(OUTAGE_CLOCKS)
        ]
    )
    DeadlineSignal.objects.bulk_create(
        [
            DeadlineSignal(
                deadline=d, kind="missed", step=0, rung="owner", key=_key("missed", d, 0), planned_at=missed_at
            )
            for d in clocks
        ]
    )
    return clocks


def outage_figures(clocks: list[Any], full: bool) -> dict[str, Any]:
    """After the run: each clock reached the rungs after the owner in order, once, one interval apart
    (--quick: the first of them, with the next planned one interval later and not reached yet)."""
    from incidents.models import Deadline, DeadlineSignal

    expected = ["group_head", "leadership", "superior"]
    want = expected if full else expected[:1]
    reached: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for key, times in received_keys().items():
        parts = key.split(":")
        if parts[2] == "escalation" and int(parts[1]) in {c.pk for c in clocks}:
            reached[int(parts[1])].append((parts[3], min(times)))
    signals = DeadlineSignal.objects.filter(deadline__in=clocks)
    duplicates = signals.count() - len(set(signals.values_list("deadline_id", "kind", "rung")))
    ok = 0
    gaps: list[float] = []
    for deadline in Deadline.objects.filter(pk__in=[d.pk for d in clocks]):
        steps = sorted(reached[deadline.pk], key=lambda item: item[1])
        spacing = [b[1] - a[1] for a, b in itertools.pairwise(steps)]
        gaps += spacing
        in_order = [code for code, _at in steps] == want
        spaced = all(gap >= INTERVAL_S - 1.5 for gap in spacing)  # one interval apart, less tick jitter
        scheduled = full or (
            deadline.next_action_at is not None
            and deadline.last_escalated_at is not None
            and abs((deadline.next_action_at - deadline.last_escalated_at).total_seconds() - INTERVAL_S) < 1
        )
        ok += int(in_order and spaced and scheduled)
    return {
        "clocks": len(clocks),
        "outage_s": OUTAGE_S,
        "rungs_checked": len(want),
        "outage_rungs_ok": f"{ok}/{len(clocks)}",
        "outage_duplicates": duplicates,
        "min_gap_s": min(gaps) if gaps else float("nan"),
    }


def advance_cost(fixtures: dict[str, Any], n: int = 200) -> float:
    """Milliseconds to advance one clock (a miss: signal, timeline entry, notification, delivery),
    in-process, over a batch of `n` due clocks — the sweeper's own cost, without queue waits."""
    from unittest import mock

    from incidents.models import Deadline, DeadlineRule
    from incidents.services.deadline_clock import deadlines_sweep
    from incidents.services.incidents import incident_create

    incident = incident_create(actor=fixtures["reporter"], title="bench cost", discovered_at=datetime.now(UTC))
    due = datetime.now(UTC) - timedelta(seconds=1)
    Deadline.objects.bulk_create(
        [
            Deadline(
                incident=incident,
                kind=DeadlineRule.Kind.OTHER,
                name=f"cost-{i}",
                due_at=due,
                owner_group=fixtures["office"],
                escalation_interval_minutes=600,
                next_action_at=due,
            )
            for i in range(n)
        ]
    )
    with mock.patch("notifications.services.deliveries_dispatch"):  # no broker: the sweep itself
        started = time.perf_counter()
        result = deadlines_sweep()
        elapsed = time.perf_counter() - started
    from notifications.models import Delivery

    Delivery.objects.filter(incident=incident).delete()  # measured, not to be sent during the runs
    return elapsed * 1000 / max(result["advanced"], 1)


def idle_sweep_ms(repeat: int = 200) -> float:
    """The in-process cost of one sweep that finds nothing due (median of `repeat`)."""
    from incidents.services.deadline_clock import deadlines_sweep

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        deadlines_sweep()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def sweep_query_plan() -> tuple[bool, str]:
    """EXPLAIN of the sweeper's claim query exactly as it runs."""
    from django.db import connection, transaction

    from incidents.services.deadline_clock import deadlines_claimable

    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = deadlines_claimable(datetime.now(UTC), 50).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return "deadline_next_action" in plan, plan


def setup_fixtures() -> dict[str, Any]:
    """A unit under a superior unit with someone on every rung of the chain, each reached by webhook."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, skip_checks=True)  # nothing to do on a cloned template
    from incidents.services.incidents import incident_create
    from notifications.models import NotificationChannel
    from opinion_ops.testing import make_unit, make_user
    from organizations.models import ResponseGroup

    superior = make_unit("压测上级单位", "bench-city")
    unit = make_unit("压测单位", "bench", parent=superior)
    reporter = make_user("bench-monitor", unit, "monitoring")
    people = [
        make_user("bench-office", unit, "office"),
        make_user("bench-office-head", unit, "office", position="head"),
        make_user("bench-leader", unit, "leadership", position="head"),
        make_user("bench-superior", superior, "leadership", position="head"),
    ]
    server = ThreadingHTTPServer(("127.0.0.1", 0), WebhookSink)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for person in people:
        NotificationChannel.objects.create(
            user=person, kind="webhook", target=f"http://127.0.0.1:{server.server_address[1]}/robot"
        )
    background = incident_create(actor=reporter, title="bench background", discovered_at=datetime.now(UTC))
    return {
        "reporter": reporter,
        "leader": people[2],
        "office": ResponseGroup.objects.get(organization=unit, kind="office"),
        "background_incident": background,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller load that runs in about a minute")
    parser.add_argument("--deadlines", type=int, help="clocks in the burst (default 10000, quick 400)")
    parser.add_argument("--window", type=float, help="seconds over which the burst falls due (default 600, quick 10)")
    parser.add_argument("--open", type=int, help="open clocks in the table besides (default 100000, quick 10000)")
    args = parser.parse_args()
    n = args.deadlines or (400 if args.quick else 10_000)
    window = args.window or (10.0 if args.quick else 600.0)
    background = args.open if args.open is not None else (10_000 if args.quick else 100_000)
    if not shutil.which("redis-server"):
        sys.exit("redis-server is needed for the Redis-restart run")
    random.seed(7)
    phase = time.monotonic()
    recreate_database(os.environ["DATABASE_URL"])
    fixtures = setup_fixtures()
    print(f"  set-up: {time.monotonic() - phase:.1f}s", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-deadlines-"))
    print(f"deadlines bench: {background} open clocks, bursts of {n} over {window:.0f}s; logs in {tmp}", flush=True)

    idle_empty = idle_sweep_ms()
    plan_background(background, fixtures)
    idle_full = idle_sweep_ms()
    on_index, plan = sweep_query_plan()
    per_clock = advance_cost(fixtures)
    print(f"  idle sweep in-process: {idle_empty:.2f} ms empty, {idle_full:.2f} ms with {background} open clocks")
    print(f"  advancing one clock in-process (a miss with its notice and delivery): {per_clock:.2f} ms")
    print(f"  sweep query uses index deadline_next_action: {on_index}")
    print("  " + plan.replace("\n", "\n  "))

    results = {}
    settle = 2.0 if args.quick else 3.0
    for label, chaos in (("steady", False), ("chaos", True)):
        phase = time.monotonic()
        outage_clocks = plan_outage(fixtures) if not chaos else []  # the outage is over as the steady run starts
        results[label] = run_burst(label, n, window, chaos, fixtures, tmp, settle)
        results[label]["run_s"] = time.monotonic() - phase
        print(f"  [{label}] " + " ".join(f"{k}={_fmt(v)}" for k, v in results[label].items()), flush=True)
        if outage_clocks:
            outage = outage_figures(outage_clocks, full=not args.quick)
            print("  [outage] " + " ".join(f"{k}={_fmt(v)}" for k, v in outage.items()), flush=True)
    steady, chaos_result = results["steady"], results["chaos"]
    summary = {
        "open_clocks": background,
        "deadlines": n,
        "missed": steady["missed"] + chaos_result["missed"],
        "duplicates": steady["duplicates"] + chaos_result["duplicates"] + outage["outage_duplicates"],
        "p50_s": steady["p50_s"],
        "p99_s": steady["p99_s"],
        "chaos_p99_s": chaos_result["p99_s"],
        "chaos_resent_after_kill": chaos_result["resent_after_kill"],
        "tick_ms": steady["tick_ms"],
        "ms_per_clock": per_clock,
        "idle_tick_ratio": idle_full / idle_empty if idle_empty else float("nan"),
        "sweep_on_index": on_index,
        "outage_rungs_ok": outage["outage_rungs_ok"],
    }
    print(" ".join(f"{k}={_fmt(v)}" for k, v in summary.items()))


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
