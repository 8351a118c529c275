"""Production refuses to start with a missing secret, DEBUG on or no database; check --deploy is clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "x" * 20 + "production-secret-for-the-settings-test-only-0123456789"
PRODUCTION = {
    "OPINION_OPS_ENV": "production",
    "SECRET_KEY": GOOD_SECRET,
    "ALLOWED_HOSTS": "ops.example.gov.cn",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SITE_URL": "https://ops.example.gov.cn",
}


def run_manage(env_changes: dict[str, str | None], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    for key, value in env_changes.items():
        if value is not None:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is required"),
        ({"SECRET_KEY": "django-insecure-short"}, "SECRET_KEY must be at least 50"),
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS is required"),
        ({"DATABASE_URL": None}, "DATABASE_URL is required"),
        ({"REDIS_URL": None}, "REDIS_URL is required"),
        ({"SITE_URL": None}, "SITE_URL (https://…) is required"),
        ({"SITE_URL": "http://ops.example.gov.cn"}, "SITE_URL (https://…) is required"),
        ({"DEBUG": "maybe"}, "must be true or false"),
    ],
)
def test_it_refuses_to_start_production_with_unsafe_settings(change: dict[str, str | None], message: str) -> None:
    result = run_manage({**PRODUCTION, **change}, "check")
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_reports_nothing_in_production() -> None:
    result = run_manage(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_api_settings_import_in_the_order_the_celery_worker_uses() -> None:
    """The worker runs DRF's checks before anything imports rest_framework.views; the parser and
    paginator named in REST_FRAMEWORK must import cleanly then (no import cycle)."""
    code = (
        "import django; django.setup(); "
        "from rest_framework.checks import pagination_system_check; "
        "from django.core.checks import run_checks; "
        "assert pagination_system_check(None) == []; print(run_checks())"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["DJANGO_SETTINGS_MODULE"] = "opinion_ops.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
