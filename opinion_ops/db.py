"""Transactions that meet each other: deadlocks and serialization failures are retried, not shown;
rows_update, many rows' fields saved in one statement; and compiled, a page's query whose SQL is
built once per process.

PostgreSQL aborts one of two transactions that wait for each other (deadlock) or that cannot be
serialised; SQLite reports a busy database. Either is transient: the whole transaction is run
again. Only the outermost call retries (inside an outer transaction the error must reach the owner
of that transaction, which retries as a whole).
"""

import copy
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import wraps
from typing import Any, Generic, ParamSpec, TypeVar, cast

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connection, connections
from django.db.models import Field, Model, QuerySet

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


P = ParamSpec("P")
SHAPES_KEPT = 256  # shapes (keyword arguments) of one compiled query kept before they are compiled anew
R = TypeVar("R")  # what a row of the query is: a model instance, a dict, a value


class NotCompilable(TypeError):
    """A query `compiled` cannot hold: an argument that is not a plain value of the query."""


def _sentinel(position: int, value: Any) -> Any:
    """A stand-in for an argument, of its type, that no real query holds."""
    if isinstance(value, bool):
        raise NotCompilable(f"argument {position}: a bool changes the query's shape; build two queries")
    if isinstance(value, int):
        return -2_000_000_000 - 7_919 * position
    if isinstance(value, str):
        return f"\x00compiled-argument-{position}\x00"
    if isinstance(value, datetime):
        return datetime(1901, 1, 1, 0, 0, position, tzinfo=UTC)
    raise NotCompilable(f"argument {position}: {type(value).__name__} values cannot be compiled (int, str, datetime)")


class _Plan:
    """One database's compiled form of the query: its compiler (what the rows are built from), its
    SQL, its parameters, and for each parameter the argument it comes from (or None: a constant)."""

    def __init__(self, queryset: QuerySet[Any], sentinels: list[Any]) -> None:
        self.queryset = queryset
        self.compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            self.sql, params = self.compiler.as_sql()  # fills the compiler's select, klass_info, …
        except EmptyResultSet:  # a shape that can hold no row (an empty list to be in)
            self.sql, params = "", ()
        ops = connections[queryset.db].ops
        # How each argument appears among the parameters: as itself, or (SQLite) as the database's text.
        shapes = {self._adapt(ops, sentinel): index for index, sentinel in enumerate(sentinels)}
        self.params = list(params)
        self.sources: list[int | None] = []
        for param in self.params:
            try:
                self.sources.append(shapes.get(param))
            except TypeError:  # an unhashable parameter (a list for ANY): a constant
                self.sources.append(None)
        missing = sorted(set(shapes.values()) - {source for source in self.sources if source is not None})
        if missing and self.sql:
            raise NotCompilable(
                f"arguments {missing} do not reach the query's parameters as they are "
                "(transformed by a lookup, or used outside a filter): they cannot be compiled"
            )

    @staticmethod
    def _adapt(ops: Any, value: Any) -> Any:
        return ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value

    def params_for(self, args: tuple[Any, ...]) -> list[Any]:
        """The parameters with these arguments in their places."""
        ops = connections[self.queryset.db].ops
        values = [self._adapt(ops, arg) for arg in args]
        pairs = zip(self.params, self.sources, strict=True)
        return [param if source is None else values[source] for param, source in pairs]

    def run(self, args: tuple[Any, ...]) -> list[Any]:
        if not self.sql:
            return []
        alias = self.queryset.db
        params = tuple(self.params_for(args))
        compiler = copy.copy(self.compiler)
        compiler.connection = connections[alias]  # this thread's connection
        sql = self.sql
        compiler.as_sql = lambda *_args, **_kwargs: (sql, params)  # type: ignore[method-assign]
        queryset = self.queryset._chain()  # type: ignore[attr-defined]
        queryset.query.get_compiler = lambda *_args, **_kwargs: compiler
        return list(queryset)


class compiled(Generic[P, R]):  # used as a decorator, hence the name
    """A query the pages run on every request, compiled to SQL once per process.

    Django builds a query's SQL afresh on every evaluation; for the short queries of a page that
    costs more than PostgreSQL takes to answer them (0.3-1 ms each). Decorate a function that
    builds a queryset; calling it returns the rows as a list, with select_related and
    prefetch_related applied as usual. Its positional arguments are values (ids, codes, times: int,
    str or datetime) that it only places into the query to compare with; its keyword arguments (any
    hashable values) choose the query's shape, and each shape is compiled once. The function is
    called once per shape with stand-ins for the values: a value that does not reach the SQL's
    parameters as it is raises NotCompilable; a query whose shape depends on a value would give wrong
    SQL, which the tests catch: with COMPILED_QUERIES_VERIFY (on in the tests) every call also builds
    the query from the real arguments and compares the two."""

    def __init__(self, build: Callable[P, QuerySet[Any, R]]) -> None:
        self.build = build
        self.plans: dict[tuple[tuple[str, Any], ...], _Plan] = {}
        wraps(build)(self)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> list[R]:
        shape = tuple(sorted(kwargs.items()))
        plan = self.plans.get(shape)
        if plan is None:
            if len(self.plans) >= SHAPES_KEPT:  # e.g. one per set of groups a person is in: bounded
                self.plans.clear()
            sentinels = [_sentinel(position, value) for position, value in enumerate(args)]
            plan = self.plans[shape] = _Plan(self.build(*sentinels, **kwargs), sentinels)  # type: ignore[arg-type]
        if getattr(settings, "COMPILED_QUERIES_VERIFY", False):
            self._verify(plan, self.build(*args, **kwargs), args)
        return plan.run(args)

    def _verify(self, plan: _Plan, fresh: QuerySet[Any, R], args: tuple[Any, ...]) -> None:
        try:
            sql, params = fresh.query.get_compiler(using=fresh.db).as_sql()
        except EmptyResultSet:
            sql, params = "", ()
        mine = plan.params_for(args)
        if (sql, list(params)) != (plan.sql, mine):
            raise AssertionError(
                f"{self.build.__qualname__}: the compiled query differs from the one its arguments build "
                f"({args!r}): its shape must not depend on them.\n"
                f"compiled: {plan.sql} {mine}\nbuilt:    {sql} {list(params)}"
            )
