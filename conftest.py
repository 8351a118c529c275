import os

# Live-server browser tests run Django's sync ORM from Playwright's event loop thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Tests create many users: a deliberately slow password hash would dominate the suite."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache (dashboard statistics, throttles, idempotency)."""
    from django.core.cache import cache

    from incidents.selectors import frozen_plan_parts_forget

    cache.clear()
    frozen_plan_parts_forget()
