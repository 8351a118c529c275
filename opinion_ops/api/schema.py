"""OpenAPI: every operation documents the shared error shape and the headers it honours."""

from typing import Any

from opinion_ops.api.idempotency import IDEMPOTENCY_HEADER

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
