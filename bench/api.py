"""Throughput and latency of the REST API's incident list and detail at 50,000 incidents, next to a
bare DRF ListAPIView over the same table in the same run (the overhead ratio is the figure).

    DATABASE_URL=postgres://postgres@127.0.0.1/opinion_ops_bench_c .venv/bin/python bench/api.py [--quick]

Measured in-process with django.test.Client (no network, no server threads: the figure is the cost of
our stack — auth, permissions, throttle, filters, serializers, queries — not of a web server).
The bench database is created, migrated and seeded on first use (bulk_create) and reused afterwards.
"""

import argparse
import os
import random
import statistics
import sys
import time
import types
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1/opinion_ops_bench_c")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_ops.settings")
os.environ["DEBUG"] = "false"  # no query log
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

INCIDENTS = 50_000


def ensure_database() -> None:
    import psycopg
    from dj_database_url import parse

    config = parse(os.environ["DATABASE_URL"])
    name = config["NAME"]
    with psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed() -> tuple[Any, str]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from incidents.models import Incident, State
    from integrations.models import ApiToken
    from integrations.tokens import api_token_issue
    from opinion_ops.testing import make_unit, make_user
    from organizations.models import Organization, ResponseGroup

    unit = Organization.objects.filter(code="bench").first()
    if unit is None:
        unit = make_unit("压测单位", "bench")
        make_user("bench-leader", unit, "leadership")
    leader = get_user_model().objects.get(username="bench-leader")
    plan = unit.plans.get(status="active")
    levels = list(plan.levels.all())
    groups = list(ResponseGroup.objects.filter(organization=unit))
    have = Incident.objects.filter(organization=unit).count()
    if have < INCIDENTS:
        started = time.perf_counter()
        now = timezone.now()
        states = [s for s, _ in State.choices]
        rows = [
            Incident(
                organization=unit,
                plan=plan,
                title=f"压测舆情 {n}：网传某校相关问题",
                description="情况描述 " * 20,
                platform=random.choice(["weibo", "wechat", "douyin", "forum", "news"]),
                discovered_at=now - timedelta(minutes=n * 7),
                reporter=leader,
                level=random.choice([*levels, None]),
                state=random.choice(states),
            )
            for n in range(have, INCIDENTS)
        ]
        created = Incident.objects.bulk_create(rows, batch_size=5000)
        through = Incident.assigned_groups.through
        through.objects.bulk_create(
            [through(incident_id=i.pk, responsegroup_id=random.choice(groups).pk) for i in created], batch_size=10000
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE incidents_incident")
        print(f"seeded {len(created)} incidents in {time.perf_counter() - started:.1f} s")
    ApiToken.objects.filter(name="bench").delete()
    token, raw = api_token_issue(organization=unit, name="bench", user=leader, scope="read")
    # What is timed is the API, not its rate limit: the bench lifts the token's limit past the most a
    # unit may set (api_token_issue refuses more than MAX_RATE_PER_MINUTE).
    ApiToken.objects.filter(pk=token.pk).update(rate_limit_per_minute=10_000_000)
    return unit, raw


def bench_urls() -> str:
    """The real API under /api/v1/, and the bare ListAPIView it is compared with under /bare/."""
    from django.urls import include, path
    from rest_framework import generics, permissions, serializers
    from rest_framework.pagination import PageNumberPagination

    from incidents.api.serializers import IncidentSerializer
    from incidents.models import Incident

    class BareSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
        class Meta:
            model = Incident
            # The same columns as the API's list, without the names it looks up (its declared fields).
            fields = [f for f in IncidentSerializer.Meta.fields if f not in IncidentSerializer._declared_fields]

    class BarePagination(PageNumberPagination):
        page_size = 50

    class BareList(generics.ListAPIView):  # type: ignore[type-arg]
        queryset = Incident.objects.order_by("-discovered_at", "-id")
        serializer_class = BareSerializer
        authentication_classes: list[Any] = []
        permission_classes = [permissions.AllowAny]
        throttle_classes: list[Any] = []
        filter_backends: list[Any] = []
        pagination_class = BarePagination

    module = types.ModuleType("bench_api_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("bare/incidents/", BareList.as_view()),
        path("api/v1/", include("opinion_ops.api.urls")),
    ]
    sys.modules["bench_api_urls"] = module
    return "bench_api_urls"


def measure(client: Any, urls: list[str], headers: dict[str, str]) -> dict[str, float]:
    for url in urls[:20]:  # warm-up
        assert client.get(url, headers=headers).status_code == 200
    timings = []
    started = time.perf_counter()
    for url in urls:
        t0 = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code} {response.content[:200]!r}")
    total = time.perf_counter() - started
    timings.sort()
    return {
        "rps": len(urls) / total,
        "mean_ms": statistics.mean(timings) * 1000,
        "p50_ms": timings[len(timings) // 2] * 1000,
        "p95_ms": timings[int(len(timings) * 0.95) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer requests (< 60 s)")
    args = parser.parse_args()
    requests_per_endpoint = 150 if args.quick else 1000

    ensure_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import clear_url_caches

    call_command("migrate", verbosity=0)
    random.seed(7)
    unit, raw = seed()
    from incidents.models import Incident

    settings.ROOT_URLCONF = bench_urls()
    clear_url_caches()
    client = Client()
    auth = {"Authorization": f"Bearer {raw}"}
    ids = list(Incident.objects.filter(organization=unit).values_list("pk", flat=True)[:5000])
    count = Incident.objects.filter(organization=unit).count()
    pages = [random.randint(1, 200) for _ in range(requests_per_endpoint)]

    bare = measure(client, [f"/bare/incidents/?page={p}" for p in pages], {})
    api_list = measure(client, [f"/api/v1/incidents/?page={p}" for p in pages], auth)
    api_detail = measure(client, [f"/api/v1/incidents/{random.choice(ids)}/" for _ in pages], auth)
    filtered = measure(
        client, [f"/api/v1/incidents/?state=responding&platform=weibo&page={p % 20 + 1}" for p in pages], auth
    )

    print(f"database: {settings.DATABASES['default']['NAME']}  incidents in unit: {count}  page size: 50")
    print(f"requests per endpoint: {requests_per_endpoint} (sequential, in-process django.test.Client)")
    for name, figures in [
        ("bare ListAPIView", bare),
        ("API list", api_list),
        ("API list filtered", filtered),
        ("API detail", api_detail),
    ]:
        print(
            f"  {name:<18} {figures['rps']:8.1f} req/s   mean {figures['mean_ms']:6.2f} ms   "
            f"p50 {figures['p50_ms']:6.2f} ms   p95 {figures['p95_ms']:6.2f} ms"
        )
    ratio = api_list["mean_ms"] / bare["mean_ms"]
    print(
        f"incidents={count} list_rps={api_list['rps']:.1f} list_p95_ms={api_list['p95_ms']:.2f} "
        f"detail_rps={api_detail['rps']:.1f} detail_p95_ms={api_detail['p95_ms']:.2f} "
        f"bare_list_rps={bare['rps']:.1f} overhead_ratio={ratio:.2f}"
    )


if __name__ == "__main__":
    main()
