"""One error shape for every 4xx of the API:

    {"error": {"code": "invalid", "message": "…", "fields": {"title": ["…"]}}}

`message` is in the request's language; `fields` is present for errors about given fields.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from opinion_ops.api.parsers import RequestTooLarge
from opinion_ops.db import is_transient_conflict
from opinion_ops.errors import DomainError

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, item in enumerate(detail):
            if item:
                out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    elif isinstance(detail, list):
        out[prefix or "non_field_errors"] = [str(item) for item in detail]
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _first_code(codes: Any) -> str | None:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        codes = list(codes.values())
    if isinstance(codes, list):
        for item in codes:
            found = _first_code(item)
            if found:
                return found
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        status_code = 404 if exc.code == "not_found" else exc.status_code
        fields = {exc.field: [str(exc.message)]} if exc.field else None
        return Response(error_body(exc.code, str(exc.message), fields), status=status_code)
    if isinstance(exc, OperationalError) and is_transient_conflict(exc):
        # Retried already (opinion_ops.db); still losing to a concurrent change: ask the client to retry.
        logger.warning("Transaction conflict answered as 503: %s", exc)
        busy = Response(error_body("busy", _("系统繁忙：同一时刻有其他修改，请稍后重试。")), status=503)
        busy["Retry-After"] = "1"
        return busy
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(_("请求内容过大。"))
    if isinstance(exc, DataError):
        # A value the database cannot represent (e.g. a time-zone offset beyond ±16h in a filter):
        # client input that slipped past parsing; the request's transaction has been rolled back.
        logger.warning("DataError answered as 400: %s", exc)
        exc = exceptions.ValidationError(_("参数值超出允许范围。"))
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("对象不存在，或您无权查看。"))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: logged and answered 500 by Django
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = _("请求参数有误，请检查标出的字段。")
        if list(fields) == ["non_field_errors"]:
            message = fields["non_field_errors"][0]
        response.data = error_body("invalid", message, fields)
        return response
    code = _first_code(exc.get_codes()) or exc.default_code
    if isinstance(exc, exceptions.Throttled):
        code = "rate_limited"
        message = _("请求过于频繁，请在 %(seconds)s 秒后重试。") % {"seconds": int(getattr(exc, "wait", None) or 0) + 1}
    elif isinstance(exc, exceptions.ParseError):
        code = "parse_error"
        message = _("请求内容不是有效的 JSON。")
    else:
        message = str(exc.detail) if not isinstance(exc.detail, dict | list) else str(exc.default_detail)
    response.data = error_body(str(code), message)
    return response
