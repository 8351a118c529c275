import os

# Live-server browser tests run Django's sync ORM from Playwright's event loop thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache (dashboard statistics, throttles, idempotency)."""
    from django.core.cache import cache

    from incidents.selectors import frozen_plan_parts_forget

    cache.clear()
    frozen_plan_parts_forget()
