"""Rate limits: per API token (its own limit, or the default), per session user, per address.

Anonymous requests, and requests whose credential was refused, share their address's counter and are
checked before authentication or permissions can answer (opinion_ops.api.base.ThrottleFirstMixin).
The address is REMOTE_ADDR, or the X-Forwarded-For entry added by the last trusted proxy
(REST_FRAMEWORK["NUM_PROXIES"]).

The counters live in the cache; when the cache (Redis) is down they fail open (see
opinion_ops.cache): requests are served unthrottled rather than refused.
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from opinion_ops.api.authentication import request_token


class ApiTokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def allow_request(self, request: Request, view: Any) -> bool:
        token = request_token(request)
        if token is not None and token.rate_limit_per_minute:
            self.num_requests, self.duration = token.rate_limit_per_minute, 60
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request_token(request)
        if token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class SessionUserRateThrottle(SimpleRateThrottle):
    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request_token(request) is not None or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonRateThrottle(SimpleRateThrottle):
    """Per client address, for every request without an accepted credential."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
