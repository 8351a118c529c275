"""The API's parser and paginator (kept apart from views: DRF settings import them at class creation)."""

import codecs
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser

# Nothing here may import rest_framework.views: DRF's settings import this module while APIView's
# class attributes are being resolved, and the worker's system checks import it first.


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


class LimitedJSONParser(JSONParser):
    """JSON only, refused above DATA_UPLOAD_MAX_MEMORY_SIZE (413) and when malformed (400)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
        request = (parser_context or {}).get("request")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            length = 0
        if length > limit:
            raise RequestTooLarge(_("请求内容过大（上限 %(limit)s 字节）。") % {"limit": limit})
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(_("请求内容过大（上限 %(limit)s 字节）。") % {"limit": limit})
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            return json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError, LookupError) as exc:
            raise exceptions.ParseError(str(exc)[:200]) from exc


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class ApiPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# --- datetimes: the database stores UTC between these bounds; anything else is a client error.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _in_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("out of range") from exc
    if not EARLIEST <= utc < LATEST:
        raise ValueError("out of range")
    return utc


class ApiDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time between 1970 and 9000, whatever offset it was given in."""

    def to_internal_value(self, value: Any) -> datetime:
        parsed = super().to_internal_value(value)
        try:
            _in_range(parsed)
        except ValueError as exc:
            raise serializers.ValidationError(_("时间超出允许范围（1970 年至 9000 年）。")) from exc
        return parsed


class ApiFilterBackend(DjangoFilterBackend):
    """django-filter, plus: date-time filter values are checked for range and sent to the database in UTC."""

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not set(filterset_class.base_filters) & set(request.query_params):
            return queryset  # no filter asked for: skip building and validating the FilterSet
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid() and self.raise_exception:
            raise translate_validation(filterset.errors)
        cleaned = filterset.form.cleaned_data
        for name, value in list(cleaned.items()):
            if isinstance(value, datetime):
                try:
                    cleaned[name] = _in_range(value)
                except ValueError as exc:
                    message = _("时间超出允许范围（1970 年至 9000 年）。")
                    raise exceptions.ValidationError({name: [message]}) from exc
        return filterset.qs
