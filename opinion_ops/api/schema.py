"""OpenAPI: every operation documents the shared error shape and the headers it honours; the schema
and its two docs pages (Swagger UI, Redoc) are served to signed-in users and tokens only, unless the
operator opens them (settings.API_DOCS_PUBLIC; open in development)."""

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from opinion_ops.api.base import ThrottleFirstMixin
from opinion_ops.api.idempotency import IDEMPOTENCY_HEADER


class ApiDocsAccess(BasePermission):
    """Anyone where the docs are public; otherwise a signed-in user or a token (of any scope)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(settings.API_DOCS_PUBLIC or request.user.is_authenticated)


class ApiDocsMixin(ThrottleFirstMixin):
    permission_classes = [ApiDocsAccess]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Response:
        if getattr(response, "exception", False):
            # An error is the API's JSON error, not a YAML document or an HTML page.
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


class ApiSchemaView(ApiDocsMixin, SpectacularAPIView):
    pass


class ApiDocsPageMixin(ApiDocsMixin):
    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, exceptions.NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())  # a person at a browser: sign in first
        return super().handle_exception(exc)


class ApiSwaggerView(ApiDocsPageMixin, SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served separately (no inline script under the CSP)."""


class ApiRedocView(ApiDocsPageMixin, SpectacularRedocView):
    pass


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }
    },
}
ERROR_STATUSES = {
    "400": "Bad request (invalid fields, malformed JSON)",
    "401": "Not authenticated, or the token is invalid, expired or revoked",
    "403": "Not permitted (role or token scope)",
    "404": "Not found (or not visible to you)",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Conflict: invalid transition, stale version, or the key is still in use",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "422": "Idempotency key reused with a different request",
    "429": "Rate limited",
    "503": "Busy: a conflicting change was being made at the same moment; retry shortly",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: Any) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_STATUSES.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                parameters.append(
                    {
                        "in": "header",
                        "name": IDEMPOTENCY_HEADER,
                        "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "Retry-safe key: the same key and body replay the first response.",
                    }
                )
    return result
