"""What the end-to-end and search sections of bench/monitoring.py stand on: the bench database (units,
members, ingest tokens, schemes), the Procfile's processes started as subprocesses, a client that
pushes batches through POST /api/v1/posts/ingest/ (as fast as it can, or paced), RSS documents for
the feed poller, deadline bursts measured at a webhook stand-in, and the search corpus (COPY).

Nothing here prints figures: the sections in bench/monitoring.py do.
"""

import contextlib
import hashlib
import json
import os
import random
import re
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bench.deadlines import plan_burst, received_keys, recreate_database, setup_fixtures
from opinion_ops.worker_harness import WebhookSink, process_start, process_stop

BIN = Path(sys.executable).parent
CELERY = str(BIN / "celery")
GUNICORN = str(BIN / "gunicorn")
INGEST_PATH = "/api/v1/posts/ingest/"
TRIGGER_REGION = "压测区"  # in no generated post: only the probes below match the trigger schemes


def trigger_text(number: int) -> str:
    """A probe post that matches exactly one trigger scheme (threshold 1) of the bench unit."""
    return f"网传{TRIGGER_REGION}甲{number:04d}校食堂多名学生腹泻，家长质疑学校瞒报。"


@dataclass
class World:
    """The bench database and, once started, its processes."""

    tmp: Path
    fixtures: dict[str, Any]  # bench/deadlines.py's: a unit whose people are reached by webhook
    units: dict[int, int]  # generated unit number (1..100) → Organization pk
    tokens: dict[int, str]  # Organization pk → secret of its ingest token
    bench_unit: int  # the unit of the deadline clocks and of the trigger schemes
    triggers: list[int]  # trigger scheme pks, probe n matches triggers[n]
    env: dict[str, str] = field(default_factory=dict)
    web: str = ""  # http://127.0.0.1:port
    logs: dict[str, Path] = field(default_factory=dict)
    trigger_next: int = 0

    def trigger_take(self, count: int) -> list[int]:
        """Numbers of probes not sent yet (each trigger scheme raises one alert, once)."""
        taken = list(range(self.trigger_next, min(self.trigger_next + count, len(self.triggers))))
        self.trigger_next += len(taken)
        return taken


def _units_create(numbers: list[int]) -> tuple[dict[int, int], dict[int, Any]]:
    """The units with their standard working groups (no emergency plan: none of them logs an incident
    here), each with a member of its 舆情监测组 without a password: its integration account, and the
    one its alerts reach. In bulk: 100 units one by one would take most of --quick's minute."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from organizations.models import GroupMember, Membership, Organization, ResponseGroup
    from organizations.services import DEFAULT_GROUPS

    created = Organization.objects.bulk_create(
        [Organization(name=f"压测监测单位{n:03d}", code=f"bench-mon-{n:03d}") for n in numbers]
    )
    units = {n: unit.pk for n, unit in zip(numbers, created, strict=True)}
    groups = ResponseGroup.objects.bulk_create(
        [
            ResponseGroup(organization_id=pk, name=name, kind=kind, duties=duties)
            for pk in units.values()
            for kind, name, duties in DEFAULT_GROUPS
        ]
    )
    monitoring = {g.organization_id: g.pk for g in groups if g.kind == ResponseGroup.Kind.MONITORING}
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"bench-mon-{n:03d}", password=make_password(None)) for n in numbers]
    )
    owners = dict(zip(numbers, users, strict=True))
    Membership.objects.bulk_create([Membership(user=owners[n], organization_id=pk) for n, pk in units.items()])
    GroupMember.objects.bulk_create([GroupMember(group_id=monitoring[pk], user=owners[n]) for n, pk in units.items()])
    return units, owners


def world_prepare(
    scheme_rows: list[dict[str, Any]],
    unit_exclusions: dict[int, list[str]],
    *,
    triggers: int,
    migrated: Callable[[World], None] = lambda world: None,
) -> World:
    """Recreate the bench database and Redis db; 100 units, each with a member of its 舆情监测组 who
    owns its ingest token and its schemes; the unit of bench/deadlines.py with `triggers` schemes of
    threshold 1 that only the probe posts match. `migrated(world)` is called as soon as the database
    is there (the processes can boot meanwhile)."""
    import redis

    recreate_database(os.environ["DATABASE_URL"])
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    world = World(Path(tempfile.mkdtemp(prefix="bench-monitoring-")), {}, {}, {}, 0, [])
    migrated(world)
    import django
    from django.test import override_settings

    django.setup()
    # Nobody signs in here: a fast hasher for the fixtures' passwords (PBKDF2 costs seconds of --quick).
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        world.fixtures = fixtures = setup_fixtures()  # and the webhook stand-in listening

    from integrations.tokens import api_token_issue
    from monitoring.models import KeywordScheme, MonitoringSettings
    from organizations.models import Organization

    units, owners = _units_create(sorted({row["unit"] for row in scheme_rows}))
    tokens: dict[int, str] = {}
    for number, pk in units.items():
        tokens[pk] = api_token_issue(
            organization=Organization.objects.get(pk=pk),
            name="压测推送",
            user=owners[number],
            scope="ingest",
            rate_limit_per_minute=6000,
        )[1]
    KeywordScheme.objects.bulk_create(
        [
            KeywordScheme(
                organization_id=units[row["unit"]],
                name=f"方案{row['id']}",
                regions="、".join(row["regions"]),
                subjects="、".join(row["subjects"]),
                events="、".join(row["events"]),
                exclusions="、".join(row["exclusions"]),
                expression=row["expression"],
                scope=row["scope"],
                created_by=owners[row["unit"]],
            )
            for row in scheme_rows
        ]
    )
    MonitoringSettings.objects.bulk_create(
        [
            MonitoringSettings(organization_id=units[n], exclusions="、".join(words))
            for n, words in unit_exclusions.items()
        ]
    )
    reporter = fixtures["reporter"]  # of the bench unit's 舆情监测组: the trigger alerts reach them
    bench_unit = reporter.membership.organization_id
    tokens[bench_unit] = api_token_issue(
        organization=reporter.membership.organization,
        name="压测推送",
        user=reporter,
        scope="ingest",
        rate_limit_per_minute=6000,
    )[1]
    created = KeywordScheme.objects.bulk_create(
        [
            KeywordScheme(
                organization_id=bench_unit,
                name=f"时延探测{n:04d}",
                regions=TRIGGER_REGION,
                subjects=f"甲{n:04d}校",
                events="食堂、腹泻",
                severity="high",
                created_by=reporter,
            )
            for n in range(triggers)
        ]
    )
    world.units, world.tokens, world.bench_unit = units, tokens, bench_unit
    world.triggers = [scheme.pk for scheme in created]
    return world


# --- the processes of the Procfile


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(what: str, ready: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {timeout:.0f} s")
        time.sleep(0.2)


def _web_ready(url: str) -> bool:
    import requests

    try:
        requests.get(f"{url}/healthz", timeout=2)
        return True
    except requests.RequestException:
        return False


def processes_start(world: World, stack: contextlib.ExitStack, *, web_workers: int = 2) -> None:
    """web (gunicorn), worker -Q celery, monitor -Q feeds,matching and beat, as in the Procfile, each in
    a session of its own; stopped by `stack` (by process id) whatever happens. Sweeps are shortened:
    feeds every second, deliveries every two. Returns at once: processes_wait() waits for them."""
    port = _free_port()
    world.web = f"http://127.0.0.1:{port}"
    world.env = {
        **os.environ,
        "OPINION_OPS_VAR_DIR": str(world.tmp),
        "DEBUG": "false",
        "SITE_URL": world.web,
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
        "FEED_SWEEP_SECONDS": "1",
        "DEADLINE_SWEEP_SECONDS": "1",
        "DELIVERY_SWEEP_SECONDS": "2",
        "NOTIFICATION_DISPATCH_LEASE_SECONDS": "4",
        "NOTIFICATION_SEND_LEASE_SECONDS": "6",
        "LOG_LEVEL": "INFO",
    }
    worker = [CELERY, "-A", "opinion_ops", "worker", "--pool=threads", "--concurrency=4", "--loglevel=INFO"]
    worker += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    commands = {
        "web": [GUNICORN, "opinion_ops.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(web_workers)],
        "worker": [*worker, "-Q", "celery", "-n", "worker@%h"],
        # As in the Procfile: at a lower CPU priority than the clocks' worker.
        "monitor": ["nice", "-n", "10", *worker, "-Q", "feeds,matching", "-n", "monitor@%h"],
        "beat": [CELERY, "-A", "opinion_ops", "beat", "--loglevel=INFO", "-s", str(world.tmp / "beat-schedule")],
    }
    for name, command in commands.items():
        world.logs[name] = world.tmp / f"{name}.log"
        process = process_start(command, world.env, world.logs[name])
        stack.callback(process_stop, process)


def processes_wait(world: World) -> None:
    """Until gunicorn answers and the workers and beat have said they are ready."""

    def logged(name: str, text: str) -> Callable[[], bool]:
        return lambda: text in world.logs[name].read_text(errors="replace")

    _wait_for("gunicorn", lambda: _web_ready(world.web))
    _wait_for("worker", logged("worker", " ready."))
    _wait_for("monitor", logged("monitor", " ready."))
    _wait_for("beat", logged("beat", "beat: Starting"))


# --- pushing posts through the API


@dataclass
class Batch:
    unit: int  # Organization pk: its token is used
    posts: list[dict[str, Any]]
    at: float = 0.0  # seconds after the start at which it is sent (paced runs)


@dataclass
class Sent:
    batch: Batch
    started: float
    ended: float
    status: int
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str = ""


def ingest_push_apart(world: World, batches: list[Batch], *, threads: int, paced: bool = False) -> list[Sent]:
    """ingest_push from a process of its own (forked): the clients' JSON and HTTP work must not hold
    the GIL of this process, where the webhook stand-in times the clocks' reminders as they arrive."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def run() -> None:
        results.put(ingest_push(world, batches, threads=threads, paced=paced))

    process = context.Process(target=run, daemon=True)
    process.start()
    sent: list[Sent] = results.get()
    process.join(timeout=30)
    return sent


def ingest_push(world: World, batches: list[Batch], *, threads: int, paced: bool = False) -> list[Sent]:
    """Send the batches from `threads` clients, each with its own keep-alive connection; paced: each
    batch not before its `at`. Returns one Sent per batch, in the order they were sent."""
    import requests

    lock = threading.Lock()
    queue = iter(sorted(batches, key=lambda b: b.at))
    done: list[Sent] = []
    start = time.monotonic()

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                batch = next(queue, None)
            if batch is None:
                return
            if paced:
                time.sleep(max(0.0, start + batch.at - time.monotonic()))
            began = time.time()
            try:
                response = session.post(
                    world.web + INGEST_PATH,
                    data=json.dumps({"posts": batch.posts}, ensure_ascii=False).encode(),
                    headers={
                        "Authorization": f"Bearer {world.tokens[batch.unit]}",
                        "Content-Type": "application/json; charset=utf-8",
                    },
                    timeout=60,
                )
                body = (
                    response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
                )
                sent = Sent(batch, began, time.time(), response.status_code)
                if response.status_code in (200, 201):
                    sent.created, sent.duplicates = body["created"], body["duplicates"]
                    sent.rejected = len(body["rejected"])
                else:
                    sent.error = response.text[:300]
            except requests.RequestException as exc:
                sent = Sent(batch, began, time.time(), 0, error=str(exc)[:300])
            with lock:
                done.append(sent)

    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return done


def post_payload(title: str, text: str, key: str) -> dict[str, Any]:
    return {"title": title, "text": text, "url": f"https://weibo.example.cn/{key}", "external_id": key}


def posts_wait_matched(since: datetime, timeout: float) -> tuple[int, datetime | None]:
    """Wait until every post captured since `since` is matched (or `timeout`); (still unmatched, the
    last matched_at)."""
    from django.db.models import Max

    from monitoring.models import Mention

    posts = Mention.objects.filter(captured_at__gte=since)
    deadline = time.monotonic() + timeout
    while True:
        waiting = posts.filter(matched_at__isnull=True).count()
        if not waiting or time.monotonic() > deadline:
            return waiting, posts.aggregate(last=Max("matched_at"))["last"]
        time.sleep(0.25)


def match_tasks(world: World, offset: int) -> list[tuple[float, int]]:
    """(seconds, posts) of each matching task the monitor logged after byte `offset` of its log."""
    with world.logs["monitor"].open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    pattern = r"match_posts_task\[[^\]]+\] succeeded in ([\d.]+)s: \{'posts': (\d+)"
    return [(float(m[1]), int(m[2])) for m in re.finditer(pattern, text)]


# --- alert probes


def alert_latencies(world: World, probes: Iterable[int], timeout: float) -> tuple[list[float], int]:
    """For each probe: seconds from its post's captured_at to its alert raised with the notification
    written (the later of Alert.raised_at and the Notification's created_at). Waits up to `timeout`
    for the last ones; returns (latencies, probes without an alert by then)."""
    from monitoring.models import Alert, Mention
    from notifications.models import Notification

    schemes = {world.triggers[n]: n for n in probes}
    deadline = time.monotonic() + timeout
    while True:
        alerts = {a.scheme_id: a for a in Alert.objects.filter(scheme_id__in=schemes)}
        notified: dict[int, datetime] = {}
        keys = Notification.objects.filter(kind="alert.raised", idempotency_key__regex=r"^alert:\d+:raised:u")
        for key, created in keys.values_list("idempotency_key", "created_at"):
            alert_id = int(key.split(":")[1])
            notified[alert_id] = max(created, notified.get(alert_id, created))
        done = {sid: a for sid, a in alerts.items() if a.pk in notified}
        if len(done) == len(schemes) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    captured = dict(
        Mention.objects.filter(matches__scheme_id__in=done).values_list("matches__scheme_id", "captured_at")
    )
    latencies = [
        (max(alert.raised_at, notified[alert.pk]) - captured[sid]).total_seconds()
        for sid, alert in done.items()
        if sid in captured
    ]
    return latencies, len(schemes) - len(latencies)


def probe_batches(world: World, count: int, every: float, offset: float = 0.0) -> tuple[list[Batch], list[int]]:
    """`count` probe posts of the bench unit, one per request, one every `every` seconds."""
    numbers = world.trigger_take(count)
    batches = [
        Batch(world.bench_unit, [post_payload("", trigger_text(n), f"probe-{n}")], at=offset + i * every)
        for i, n in enumerate(numbers)
    ]
    return batches, numbers


# --- deadline clocks


def clock_burst(world: World, label: str, n: int, lead: float, window: float, during: Callable[[], Any]) -> list[float]:
    """Plan `n` reminders and misses over [lead, lead + window] seconds from now (bench/deadlines.py),
    run `during()` meanwhile (the load, or nothing), and return how late each arrived at the webhook
    stand-in (seconds; a signal that never came is left out and counted by the caller)."""
    from incidents.services.incidents import incident_create

    fixtures = world.fixtures
    incident = incident_create(actor=fixtures["reporter"], title=f"压测时限 {label}", discovered_at=datetime.now(UTC))
    with WebhookSink.lock:
        WebhookSink.received = []
    planned = plan_burst(n, lead, window, fixtures, incident)
    started = time.monotonic()
    during()
    deadline = started + lead + window + 30
    while time.monotonic() < deadline and len(received_keys().keys() & planned.keys()) < len(planned):
        time.sleep(0.25)
    arrivals = received_keys()
    return [arrivals[key][0] - at.timestamp() for key, at in planned.items() if key in arrivals]


# --- feeds


def rss_document(channel: str, items: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 feed of (title, text, link) items, published now."""
    now = format_datetime(datetime.now(UTC), usegmt=True)
    entries = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<pubDate>{now}</pubDate><description>{escape(text)}</description></item>\n"
        for title, text, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(channel)}</title><link>https://news.example.cn/</link><description>压测</description>\n"
        f"{entries}</channel></rss>\n"
    ).encode()


# --- the search corpus


class Segmenter:
    """search_words (jieba's search mode) of each distinct piece a post is made of, cut once: a post's
    search_text is its pieces' words in order, as search_words would cut the whole post (but for words
    spanning two pieces)."""

    def __init__(self) -> None:
        from monitoring.search import search_words

        self._cut = search_words
        self._cache: dict[str, str] = {}

    def __call__(self, piece: str) -> str:
        words = self._cache.get(piece)
        if words is None:
            words = self._cache[piece] = self._cut("", piece)
        return words


def search_corpus_copy(rows: Iterable[tuple[Any, ...]]) -> int:
    """COPY the posts into monitoring_mention with the GIN index dropped and built again afterwards
    (as its migration defines it), then ANALYZE. Rows: the COPY_COLUMNS."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'mention_search'")
        found = cursor.fetchone()
        if found is None:
            raise RuntimeError("the GIN index mention_search is missing: migrate the bench database")
        cursor.execute("DROP INDEX mention_search")
        count = 0
        columns = ", ".join(COPY_COLUMNS)
        with cursor.cursor.copy(f"COPY monitoring_mention ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute(found[0])
        cursor.execute("ANALYZE monitoring_mention")
    return count


COPY_COLUMNS = (
    "organization_id",
    "source_id",
    "platform",
    "url",
    "author_handle",
    "title",
    "text",
    "published_at",
    "captured_at",
    "content_hash",
    "external_id",
    "search_text",
    "matched_at",
)


def search_rows(
    count: int,
    units: list[int],
    sources: dict[int, int],
    pieces_of: Callable[[random.Random, int], tuple[list[str], str]],
    seed: int = 11,
) -> Iterable[tuple[Any, ...]]:
    """`count` posts over the last 90 days: 40% in units[0] (a city-sized unit), the rest spread over
    the others. pieces_of(rng, unit) gives a post's pieces and its title."""
    segment = Segmenter()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    span = 90 * 24 * 3600
    platforms = ("weibo", "wechat", "douyin", "news", "forum")
    for i in range(count):
        unit = units[0] if rng.random() < 0.4 else units[rng.randrange(1, len(units))]
        pieces, title = pieces_of(rng, unit)
        text = "".join(pieces)
        url = f"https://s.example.cn/{i}"
        search_text = " ".join(segment(piece) for piece in ([title] if title else []) + pieces)
        at = now - timedelta(seconds=rng.random() * span)
        content_hash = hashlib.sha256(f"{url}\n{title}\n{text}".encode()).hexdigest()
        yield (
            unit,
            sources[unit],
            rng.choice(platforms),
            url,
            "",
            title,
            text,
            at,
            at,
            content_hash,
            "",
            search_text,
            at,
        )
