"""What an operator needs to see at a glance: is each part working, and what is stuck.

The platform checks the database, the cache and the broker; each app registers checks of its own
(the clock sweeper's lag and set-aside clocks, the outbox's backlog) in its AppConfig.ready(), so
this module imports none of them. `/ops/health/` shows everything to superusers; `/healthz` answers
load balancers and monitors with the status only.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)


@dataclass
class Check:
    name: str
    ok: bool
    summary: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    critical: bool = False  # a failure makes /healthz answer 503


_checks: dict[str, Callable[[], Check]] = {}


def health_check_register(name: str, check: Callable[[], Check]) -> None:
    _checks[name] = check


def _database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return Check("database", True, connection.vendor, critical=True)


def _cache() -> Check:
    available = getattr(cache, "available", None)
    if available is None:
        return Check("cache", True, type(cache).__name__)
    ok = bool(available())
    return Check("cache", ok, "Redis" if ok else "Redis unreachable: caches and rate limits are off (fail open)")


def _broker() -> Check:
    from opinion_ops.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception as exc:
        return Check("broker", False, f"unreachable ({type(exc).__name__}): work waits in the database")
    return Check("broker", True, app.conf.broker_url.split("://", 1)[0])


def health_report() -> list[Check]:
    """Every check, each isolated: one that fails to run reports itself failed, not the page."""
    results = []
    for name, check in [("database", _database), ("cache", _cache), ("broker", _broker), *_checks.items()]:
        try:
            results.append(check())
        except Exception as exc:
            logger.warning("Health check %s failed to run: %s", name, exc)
            results.append(Check(name, False, f"{type(exc).__name__}: {exc}", critical=name == "database"))
    return results
