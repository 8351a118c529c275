"""Transactions that meet each other: deadlocks and serialization failures are retried, not shown;
and rows_update, many rows' fields saved in one statement.

PostgreSQL aborts one of two transactions that wait for each other (deadlock) or that cannot be
serialised; SQLite reports a busy database. Either is transient: the whole transaction is run
again. Only the outermost call retries (inside an outer transaction the error must reach the owner
of that transaction, which retries as a whole).
"""

import logging
import random
import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar, cast

from django.db import OperationalError, connection
from django.db.models import Field, Model

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# deadlock_detected, serialization_failure, lock_not_available
CONFLICT_SQLSTATES = {"40P01", "40001", "55P03"}
ATTEMPTS = 4


def is_transient_conflict(exc: BaseException) -> bool:
    """A failure that running the same transaction again can cure."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate in CONFLICT_SQLSTATES:
        return True
    return "database is locked" in str(exc)


def retry_on_conflict(func: F) -> F:
    """Run `func` again (up to four times, with a short random pause) when its transaction lost a
    deadlock or serialization conflict. Does nothing special when called inside a transaction."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if connection.in_atomic_block:
            return func(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt == ATTEMPTS or not is_transient_conflict(exc):
                    raise
                logger.info("%s: transaction conflict (%s), attempt %d", func.__qualname__, exc, attempt)
                time.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # noqa: S311 — jitter, not security
        raise AssertionError("unreachable")

    return cast(F, wrapper)


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Save `fields` of each of `objs` (rows of one model) with one UPDATE statement sent for them
    all (executemany: psycopg pipelines it into one round trip). Django's bulk_update builds a CASE
    per field and row, whose compiling cost more than the rows it saved; this writes the values as
    each field prepares them, and calls no save() or signals either."""
    if not objs:
        return
    meta = objs[0]._meta
    columns = [cast(Field, meta.get_field(name)) for name in fields]  # concrete fields only
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    rows = [
        [*(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns), obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
