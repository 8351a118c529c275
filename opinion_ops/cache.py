"""A Redis cache that fails open: Redis down degrades caching (and rate limiting), never a page.

Every read answers as a miss, every write is dropped, and one line is logged (at most once a
minute) while Redis cannot be reached; nothing is raised to the caller.
"""

import logging
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 60.0


class FailOpenRedisCache(RedisCache):
    _last_logged = 0.0

    def _unavailable(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        if now - FailOpenRedisCache._last_logged >= LOG_EVERY_SECONDS:
            FailOpenRedisCache._last_logged = now
            logger.warning("Cache unavailable (%s: %s); serving without it", operation, error)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            self._unavailable("add", exc)
            return False

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            self._unavailable("get", exc)
            return default

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            self._unavailable("set", exc)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except RedisError as exc:
            self._unavailable("touch", exc)
            return False

    def delete(self, key: Any, version: Any = None) -> bool:
        try:
            return super().delete(key, version)
        except RedisError as exc:
            self._unavailable("delete", exc)
            return False

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            self._unavailable("get_many", exc)
            return {}

    def has_key(self, key: Any, version: Any = None) -> bool:
        try:
            return super().has_key(key, version)
        except RedisError as exc:
            self._unavailable("has_key", exc)
            return False

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        try:
            return super().incr(key, delta, version)
        except RedisError as exc:
            self._unavailable("incr", exc)
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except RedisError as exc:
            self._unavailable("set_many", exc)
            return list(data)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        try:
            super().delete_many(keys, version)
        except RedisError as exc:
            self._unavailable("delete_many", exc)

    def clear(self) -> None:
        try:
            super().clear()
        except RedisError as exc:
            self._unavailable("clear", exc)

    def available(self) -> bool:
        """For the health page: can Redis be reached right now?"""
        try:
            return bool(self._cache.get_client(write=True).ping())  # type: ignore[attr-defined]
        except RedisError:
            return False
