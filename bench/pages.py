"""Page budgets: server time (p95) and SQL queries of the dashboard, the list and an incident page.

    DATABASE_URL=postgres://postgres@127.0.0.1/opinion_ops_bench_b .venv/bin/python bench/pages.py [--quick] [--reuse]

Fills a dedicated bench database (its name must contain "bench": the script wipes it) with 50,000
incidents (5,000 with --quick), deadlines, timeline entries and statements for a realistic subset,
then requests each page in-process with django.test.Client as a logged-in leader. The incident page
measured is an open incident with three clocks and 50 timeline entries.

Warm: the same page requested again and again. Cold: Django's cache (cached sessions, rate limits)
and the process memo of frozen plan parts are emptied before each request. The dashboard's
statistics are the row per unit that the worker recounts after a change; what one recount costs
the worker is printed as `recount_ms`. For each page the slowest query is shown with what its
PostgreSQL plan reads (node types and index names). Goal: p95 <= 50 ms.

This machine's speed varies from minute to minute (a shared virtual machine): `cpu_check_ms`, a
fixed pure-Python loop timed before and after the pages, says how fast it was during the run, so
two runs can be compared. The last line holds the figures, e.g. for a script to compare runs.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_ops.settings")

BATCH = 5_000
GOAL_MS = 50
PAGE_TIMELINE = 50  # timeline entries of the measured incident


def setup_django() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("bench/pages.py wipes its database: set DATABASE_URL to a database whose name contains 'bench'")
    os.environ.setdefault("DEBUG", "false")
    # The leader's session is signed in with force_login: what is timed is the page, not the sign-in
    # (with two-factor sign-in on, every page would answer with the redirect to verify).
    os.environ.setdefault("TWO_FACTOR_REQUIRED", "false")
    import django

    django.setup()


def reset_database() -> None:
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)


def fill(total: int, seed: int = 2026) -> dict[str, Any]:
    """Bulk-create `total` incidents over a year: most closed, some open, a few drills."""
    from django.db.models import OuterRef, Subquery
    from django.utils import timezone

    from incidents.models import (
        Assessment,
        Deadline,
        Incident,
        State,
        Statement,
        StatementVersion,
        TimelineEntry,
    )
    from incidents.models.chain import GENESIS
    from opinion_ops.testing import make_unit, make_user

    rng = random.Random(seed)
    superior = make_unit("基准市教育局", "bench-city")
    unit = make_unit("基准区教育局", "bench-district", parent=superior)
    sibling = make_unit("基准邻区教育局", "bench-other", parent=superior)
    leader = make_user("bench-leader", unit, "leadership", position="head")
    other = make_user("bench-other", sibling, "leadership")
    sara = make_user("bench-sara", unit, "publicity")
    plans = {u.pk: u.plans.get(status="active") for u in (unit, sibling)}
    levels = {pk: list(plan.levels.order_by("rank")) for pk, plan in plans.items()}
    categories = {pk: list(plan.categories.all()) for pk, plan in plans.items()}
    now = timezone.now()
    open_states = [State.MONITORING, State.ASSESSING, State.WARNING, State.RESPONDING, State.TRACKING, State.REVIEWING]

    created = 0
    while created < total:
        rows: list[Any] = []
        for _ in range(min(BATCH, total - created)):
            org = unit if rng.random() < 0.9 else sibling
            age = timedelta(minutes=rng.randint(1, 365 * 24 * 60))
            recent = age < timedelta(days=2)
            state = (
                rng.choice(open_states)
                if recent or rng.random() < 0.03
                else rng.choice([State.ARCHIVED] * 8 + [State.DISMISSED] * 2)
            )
            level = rng.choice(levels[org.pk]) if state not in (State.MONITORING, State.ASSESSING) else None
            rows.append(
                Incident(
                    organization=org,
                    plan=plans[org.pk],
                    title=f"基准舆情 {created + len(rows)}：网传某校{rng.choice(['食堂', '收费', '校车', '招生'])}问题",
                    description="基准测试数据",
                    platform=rng.choice(["weibo", "wechat", "douyin", "forum"]),
                    discovered_at=now - age,
                    reporter=leader if org == unit else other,
                    level=level,
                    category=rng.choice(categories[org.pk]) if level else None,
                    state=state,
                    is_drill=rng.random() < 0.02,
                    warning_issued_at=(now - age + timedelta(minutes=20)) if level else None,
                    closed_at=(now - age + timedelta(days=3)) if state in (State.ARCHIVED, State.DISMISSED) else None,
                )
            )
        Incident.objects.bulk_create(rows, batch_size=1000)
        created += len(rows)

    # Deadlines, timeline and statements for the incidents of the last 90 days and all open ones.
    subset = list(
        Incident.objects.filter(discovered_at__gte=now - timedelta(days=90)).values_list(
            "pk", "discovered_at", "state", "organization_id"
        )
    )
    # The incident page measured: the unit's newest incident in 处置 (every incident of the subset has clocks).
    responding = [
        (discovered, pk) for pk, discovered, state, org in subset if state == State.RESPONDING and org == unit.pk
    ]
    page_pk = max(responding)[1]
    deadlines, entries, statements = [], [], []
    for pk, discovered, state, _org in subset:
        is_open = state not in (State.ARCHIVED, State.DISMISSED)
        for kind, name, minutes in (
            ("oral_report", "口头报告", 30),
            ("written_report", "书面报告", 90),
            ("public_response", "公开回应", 180),
        ):
            due = discovered + timedelta(minutes=minutes)
            if is_open and due > now:
                status, met_at = Deadline.Status.PENDING, None
            elif is_open:
                status, met_at = rng.choice([Deadline.Status.MISSED, Deadline.Status.MET]), due - timedelta(minutes=5)
            else:
                status = rng.choice([Deadline.Status.MET] * 8 + [Deadline.Status.LATE, Deadline.Status.MISSED])
                met_at = due + timedelta(minutes=rng.randint(-minutes + 1, 60))
            deadlines.append(Deadline(incident_id=pk, kind=kind, name=name, due_at=due, status=status, met_at=met_at))
        previous = GENESIS
        for step in range(PAGE_TIMELINE if pk == page_pk else 6):
            entry = TimelineEntry(
                incident_id=pk,
                kind="edited",
                actor=leader,
                summary=f"基准记录 {step}",
                seq=step + 1,
                prev_hash=previous,
                recorded_at=now,
                details={},
            )
            entry.hash = previous = entry.compute_hash()  # the record's hash chain, as the services write it
            entries.append(entry)
        if rng.random() < 0.5:
            published = discovered + timedelta(minutes=rng.randint(30, 400))
            statements.append(
                Statement(
                    incident_id=pk,
                    title="情况通报",
                    status=Statement.Status.PUBLISHED if published < now else Statement.Status.SUBMITTED,
                    created_by=sara,
                    published_at=published if published < now else None,
                    published_channel="官方微博" if published < now else "",
                )
            )
    Deadline.objects.bulk_create(deadlines, batch_size=2000)
    # bulk_create bypasses the services that keep 最近时限 current: fill it as migration 0013 does.
    nearest = Deadline.objects.filter(incident=OuterRef("pk"), status__in=Deadline.OPEN).order_by("due_at")
    Incident.objects.update(next_due_at=Subquery(nearest.values("due_at")[:1]))
    TimelineEntry.objects.bulk_create(entries, batch_size=2000)
    Statement.objects.bulk_create(statements, batch_size=2000)
    StatementVersion.objects.bulk_create(
        [StatementVersion(statement=s, number=1, text="经核查……", author=sara) for s in statements], batch_size=2000
    )
    assessing = list(Incident.objects.filter(organization=unit, state=State.ASSESSING).values_list("pk", flat=True))
    Assessment.objects.bulk_create(
        [
            Assessment(incident_id=pk, author=leader, nature="谣言", scope="本地", trend="rising", risk="medium")
            for pk in assessing
        ]
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    page_incident = Incident.objects.get(pk=page_pk)
    return {"leader": leader, "incident": page_incident, "deadlines": len(deadlines), "timeline": len(entries)}


def reuse(total: int) -> dict[str, Any] | None:
    """The data of an earlier fill of `total` incidents (--reuse), migrated to the current schema, or None."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from incidents.models import Deadline, Incident, State, TimelineEntry

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('incidents_incident')")
        if cursor.fetchone()[0] is None:
            return None
    call_command("migrate", verbosity=0)
    leader = get_user_model().objects.filter(username="bench-leader").first()
    if leader is None or Incident.objects.count() != total:
        return None
    page = (
        TimelineEntry.objects.filter(incident__state=State.RESPONDING, incident__organization__code="bench-district")
        .values("incident_id")
        .annotate(n=Count("id"))
        .filter(n=PAGE_TIMELINE)
        .order_by("-incident_id")
        .first()
    )
    if page is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by now on a live database
    return {
        "leader": leader,
        "incident": Incident.objects.get(pk=page["incident_id"]),
        "deadlines": Deadline.objects.count(),
        "timeline": TimelineEntry.objects.count(),
    }


def cpu_check() -> float:
    """Milliseconds for a fixed pure-Python loop (the median of five): how fast this machine is now."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def recount_ms(organization_id: int, runs: int) -> float:
    """The worker's cost of recounting a unit's dashboard statistics (median)."""
    from incidents.services.statistics import unit_statistics_count

    times = []
    for _ in range(max(3, runs // 4)):
        start = time.perf_counter()
        unit_statistics_count(organization_id)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def clear_caches() -> None:
    """What "cold" means here: the cached dashboard statistics and the memo of frozen plan parts are gone."""
    from django.core.cache import cache

    from incidents.selectors import frozen_plan_parts_forget

    cache.clear()
    frozen_plan_parts_forget()


def measure(client: Any, url: str, runs: int, cold: bool = False) -> dict[str, Any]:
    """Request `url` `runs` times (caches emptied before each request with cold=True): server time,
    the number of queries (the same on every request, or the figure says so) and the slowest query
    (the highest median time over the runs, so one query held up by a busy machine does not count)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm connections, templates and the process's memos
        assert client.get(url).status_code == 200, url
    times = []
    captures = []
    for _ in range(runs):
        if cold:
            clear_caches()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
        captures.append(captured.captured_queries)
    counts = sorted({len(queries) for queries in captures})
    same = [queries for queries in captures if len(queries) == counts[-1]]
    by_position = [
        (statistics.median(float(run[i]["time"]) for run in same), same[0][i]["sql"]) for i in range(counts[-1])
    ]
    selects = [(seconds, sql) for seconds, sql in by_position if sql.lstrip().upper().startswith("SELECT")]
    slowest_time, slowest_sql = max(selects, default=(0.0, ""))
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    queries = counts[0] if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return {
        "p50": statistics.median(times),
        "p95": p95,
        "max": times[-1],
        "queries": queries,
        "slowest": {"time": slowest_time, "sql": slowest_sql},
    }


def plan_summary(sql: str) -> str:
    """What PostgreSQL does for `sql`: its plan's nodes in order, with the index each scan uses."""
    from django.db import connection

    if connection.vendor != "postgresql" or not sql:
        return "(no plan)"
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        name = node["Node Type"]
        if node.get("Index Name"):
            name += f"({node['Index Name']})"
        elif node.get("Relation Name"):
            name += f"({node['Relation Name']})"
        nodes.append(name)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    scanned = sorted({node.split("(")[1].rstrip(")") for node in nodes if node.startswith("Seq Scan(")})
    with connection.cursor() as cursor:  # a whole small table read at once is fine; a large one is not
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s) AND reltuples > 10000", [scanned])
        large = [row[0] for row in cursor.fetchall()]
    uses_index = any("Index" in node for node in nodes)
    verdict = ("uses an index" if uses_index else "NO index") + (f", SEQ SCAN of {', '.join(large)}" if large else "")
    return f"{verdict}: {' > '.join(nodes)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 incidents and fewer runs (< 60 s)")
    parser.add_argument("--incidents", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database when it already holds that many incidents"
    )
    args = parser.parse_args()
    total = args.incidents or (5_000 if args.quick else 50_000)
    runs = args.runs or (12 if args.quick else 60)

    setup_django()
    from django.test import Client
    from django.urls import reverse

    started = time.perf_counter()
    data = reuse(total) if args.reuse else None
    done = "reused"
    if data is None:
        reset_database()
        data, done = fill(total), "filled"
    fill_seconds = time.perf_counter() - started
    print(
        f"{done} {total} incidents, {data['deadlines']} deadlines, "
        f"{data['timeline']} timeline entries in {fill_seconds:.1f} s"
    )

    client = Client()
    client.force_login(data["leader"])
    pages = {
        "dashboard": reverse("home"),
        "dashboard_live": reverse("dashboard_live"),
        "dashboard_stats": reverse("dashboard_stats"),
        "list": reverse("incident_list"),
        "list_filtered": reverse("incident_list") + "?state=responding&overdue=true&q=食堂",
        "list_page_20": reverse("incident_list") + "?page=20",
        "incident": reverse("incident_detail", args=[data["incident"].pk]),
    }
    # Cold: what a request pays after a write or when the one-minute statistics cache has expired.
    cold_pages = {
        "dashboard_cold": reverse("home"),
        "dashboard_stats_cold": reverse("dashboard_stats"),
        "list_cold": reverse("incident_list"),
        "incident_cold": reverse("incident_detail", args=[data["incident"].pk]),
    }
    cpu_before = cpu_check()
    results = {}
    for name, url in [*pages.items(), *cold_pages.items()]:
        results[name] = measure(client, url, runs, cold=name in cold_pages)
        r = results[name]
        print(
            f"{name:<20} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  max {r['max']:6.1f} ms  queries {r['queries']}"
        )
    cpu_after = cpu_check()
    recount = recount_ms(data["incident"].organization_id, runs)
    print(f"worker: recounting the unit's dashboard statistics takes {recount:.1f} ms (median)")
    print(f"machine: fixed loop {cpu_before:.0f} ms before the pages, {cpu_after:.0f} ms after")
    print("slowest query of each page, and how PostgreSQL reads it:")
    for name in ("dashboard", "list", "list_filtered", "incident"):
        slowest = results[name]["slowest"]
        print(f"  {name:<14} {slowest['time'] * 1000:5.1f} ms  {plan_summary(slowest['sql'])}")
        print(f"  {'':<14} {' '.join(slowest['sql'].split())[:160]}…")
    measured = ("dashboard", "list", "incident", "dashboard_cold", "list_cold", "incident_cold")
    worst = max(results[n]["p95"] for n in measured)
    print(f"goal p95 <= {GOAL_MS} ms, warm and cold: {'met' if worst <= GOAL_MS else 'NOT met'} (worst {worst:.1f} ms)")
    print(
        f"cpu_check_ms={max(cpu_before, cpu_after):.0f} recount_ms={recount:.1f} "
        f"list_queries={results['list']['queries']} "
        f"dashboard_cold_p95_ms={results['dashboard_cold']['p95']:.1f} "
        f"list_cold_p95_ms={results['list_cold']['p95']:.1f} "
        f"incident_cold_p95_ms={results['incident_cold']['p95']:.1f} "
        f"incidents={total} dashboard_p95_ms={results['dashboard']['p95']:.1f} "
        f"list_p95_ms={results['list']['p95']:.1f} incident_p95_ms={results['incident']['p95']:.1f} "
        f"dashboard_queries={results['dashboard']['queries']} incident_queries={results['incident']['queries']}"
    )


if __name__ == "__main__":
    main()
