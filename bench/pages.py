"""Page budgets: server time (p95) and SQL queries of the dashboard, the list and an incident page.

    DATABASE_URL=postgres://postgres@127.0.0.1/opinion_ops_bench_b .venv/bin/python bench/pages.py [--quick]

Fills a dedicated bench database (its name must contain "bench": the script wipes it) with 50,000
incidents (5,000 with --quick), deadlines, timeline entries and statements for a realistic subset,
then requests each page in-process with django.test.Client as a logged-in leader. Goal: p95 <= 100 ms.
"""

import argparse
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
        rows = []
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
        for step in range(6):
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
    page_incident = (
        Incident.objects.filter(organization=unit, state=State.RESPONDING, deadlines__isnull=False)
        .order_by("-discovered_at")
        .first()
    )
    return {"leader": leader, "incident": page_incident, "deadlines": len(deadlines), "timeline": len(entries)}


def measure(client: Any, url: str, runs: int, cold: bool = False) -> dict[str, Any]:
    """Request `url` `runs` times; with cold=True the cache is emptied before each request."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches and connections
        assert client.get(url).status_code == 200, url
    times = []
    queries = 0
    for _ in range(runs):
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
        queries = len(captured.captured_queries)
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    return {"p50": statistics.median(times), "p95": p95, "max": times[-1], "queries": queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 incidents and fewer runs (< 60 s)")
    parser.add_argument("--incidents", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    total = args.incidents or (5_000 if args.quick else 50_000)
    runs = args.runs or (20 if args.quick else 60)

    setup_django()
    from django.test import Client
    from django.urls import reverse

    started = time.perf_counter()
    reset_database()
    data = fill(total)
    fill_seconds = time.perf_counter() - started
    print(
        f"filled {total} incidents, {data['deadlines']} deadlines, "
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
    # The dashboard's 90-day statistics are cached for a minute per unit; "_cold" measures a miss.
    cold_pages = {"dashboard_cold": reverse("home"), "dashboard_stats_cold": reverse("dashboard_stats")}
    results = {}
    for name, url in [*pages.items(), *cold_pages.items()]:
        results[name] = measure(client, url, runs, cold=name in cold_pages)
        r = results[name]
        print(
            f"{name:<16} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  max {r['max']:6.1f} ms  queries {r['queries']}"
        )
    budget = max(results[n]["p95"] for n in ("dashboard", "list", "incident"))
    print(f"budget p95 <= 100 ms: {'met' if budget <= 100 else 'NOT met'}")
    print(
        f"incidents={total} dashboard_p95_ms={results['dashboard']['p95']:.1f} "
        f"list_p95_ms={results['list']['p95']:.1f} "
        f"incident_p95_ms={results['incident']['p95']:.1f} dashboard_queries={results['dashboard']['queries']} "
        f"list_queries={results['list']['queries']} incident_queries={results['incident']['queries']} "
        f"dashboard_cold_p95_ms={results['dashboard_cold']['p95']:.1f}"
    )


if __name__ == "__main__":
    main()
