"""The pieces every API view shares: the JSON parser with a size limit, pagination, the
Idempotency-Key decorator, the strict (unknown-fields-refusing) serializer, and schema hooks."""

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from integrations.api_errors import Conflict, Unprocessable
from integrations.models import ApiToken, IdempotencyRecord

IDEMPOTENCY_HEADER = "Idempotency-Key"


class StrictSerializerMixin:
    """Refuses fields the endpoint does not take, as a field error (typos must not pass silently)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}  # type: ignore[attr-defined]
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: [gettext_lazy("未知字段。")] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    pass


def _principal(request: Request) -> str:
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    return f"user:{request.user.pk}"


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """With an Idempotency-Key header, a write runs once: a retry with the same key and body gets the
    stored response again; the same key with a different body is refused (422). The key is stored in
    the same transaction as the write, so a failed write leaves nothing behind and can be retried."""

    @wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > 255:
            raise exceptions.ValidationError({IDEMPOTENCY_HEADER: [_("幂等键须为 1 到 255 个字符。")]})
        body = json.dumps(request.data, sort_keys=True, default=str)
        fingerprint = hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()
        principal = _principal(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        principal=principal, key=key, request_fingerprint=fingerprint
                    )
            except IntegrityError:
                record = None
            if record is not None:
                response = view_method(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    record.response_status = response.status_code
                    record.response_body = response.data
                    record.save(update_fields=["response_status", "response_body"])
                else:
                    record.delete()
                return response
        existing = IdempotencyRecord.objects.get(principal=principal, key=key)
        if existing.request_fingerprint != fingerprint:
            raise Unprocessable(_("该幂等键已用于另一个请求，请换用新的幂等键。"), code="idempotency_key_reused")
        if existing.response_status is None:
            raise Conflict(_("使用该幂等键的请求仍在处理中。"), code="idempotency_in_progress")
        return Response(
            existing.response_body, status=existing.response_status, headers={"Idempotent-Replayed": "true"}
        )

    return wrapper


# --- OpenAPI: every operation documents the shared error shape and the headers it honours.
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


class ServiceViewSet(GenericViewSet):  # type: ignore[type-arg]
    """A viewset whose writes validate input with a serializer and hand it to a service function."""

    lookup_value_regex = r"[0-9]+"

    def validated(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:  # type: ignore[type-arg]
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def respond(
        self,
        instance: Any,
        serializer_class: type[serializers.Serializer] | None = None,  # type: ignore[type-arg]
        status: int = 200,
    ) -> Response:
        output_class: Any = serializer_class or self.get_serializer_class()
        return Response(output_class(instance, context=self.get_serializer_context()).data, status=status)


def expected_version(data: dict[str, Any]) -> dict[str, Any]:
    """The API's optional `version` is the services' `expected_version`."""
    if "version" in data:
        data["expected_version"] = data.pop("version")
    return data
