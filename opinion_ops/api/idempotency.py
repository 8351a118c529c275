"""Idempotent writes: with an Idempotency-Key header a write runs once, and a retry gets the
stored response. The key is stored in the same transaction as the write."""

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from opinion_ops.api.authentication import request_token
from opinion_ops.api.errors import Conflict, Unprocessable
from opinion_ops.api.models import IdempotencyRecord
from opinion_ops.db import retry_on_conflict

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _principal(request: Request) -> str:
    token = request_token(request)
    return f"token:{token.pk}" if token is not None else f"user:{request.user.pk}"


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """With an Idempotency-Key header, a write runs once: a retry with the same key and body gets the
    stored response again; the same key with a different body is refused (422). The key is stored in
    the same transaction as the write, so a failed write leaves nothing behind and can be retried."""

    @wraps(view_method)
    @retry_on_conflict
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
