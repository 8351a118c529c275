import os
from typing import Any

# Live-server browser tests run Django's sync ORM from Playwright's event loop thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Tests create many users: a deliberately slow password hash would dominate the suite."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Two-factor sign-in is off unless a test turns it on (override_settings(TWO_FACTOR_REQUIRED=True)).
    settings.TWO_FACTOR_REQUIRED = False
    # Every compiled query (opinion_ops.db.compiled) is also built afresh and compared.
    settings.COMPILED_QUERIES_VERIFY = True
    _flush_past_append_only_triggers()
    _test_database_dropped_whoever_is_connected()


def _flush_past_append_only_triggers() -> None:
    """Transactional tests empty every table between tests with TRUNCATE, which the append-only
    triggers refuse (opinion_ops.append_only); the test database's superuser switches ordinary
    triggers off for that one statement, as an application role cannot."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    execute_sql_flush = DatabaseOperations.execute_sql_flush

    def flush(self: DatabaseOperations, sql_list: list[str]) -> None:
        execute_sql_flush(self, ["SET LOCAL session_replication_role = replica", *sql_list])

    DatabaseOperations.execute_sql_flush = flush  # type: ignore[method-assign,assignment]


def _test_database_dropped_whoever_is_connected() -> None:
    """A browser test runs inside Playwright's sync API, in a context of its own: the pooled
    connection it took is one the teardown can neither see nor hand back, and PostgreSQL refuses to
    drop a database someone is connected to. Their sessions are ended first."""
    from django.db.backends.postgresql import creation

    creation_class: Any = creation.DatabaseCreation  # (the stubs know neither method used here)
    destroy = creation_class._destroy_test_db

    def destroy_after_ending_sessions(self: Any, test_database_name: str, verbosity: int) -> None:
        self.connection.close_pool()
        with self._nodb_cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [test_database_name],
            )
        destroy(self, test_database_name, verbosity)

    creation_class._destroy_test_db = destroy_after_ending_sessions


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache (dashboard statistics, throttles, idempotency)."""
    from django.core.cache import cache

    from incidents.selectors import frozen_plan_parts_forget

    cache.clear()
    frozen_plan_parts_forget()
    # The matcher of every unit's schemes is kept per process; ids repeat across rolled-back tests.
    from monitoring import alerts

    alerts.matcher_forget()


# A public address for the made-up host names tests use (hooks.example.cn …): no test needs the
# network, and the outbound policy refuses names that resolve nowhere.
TEST_PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture(autouse=True)
def _public_test_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    import ipaddress

    from opinion_ops import links_policy

    def resolve(host: str, port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            return ["127.0.0.1"] if host == "localhost" else [TEST_PUBLIC_ADDRESS]

    monkeypatch.setattr(links_policy, "resolve", resolve)
