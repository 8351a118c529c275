"""The pieces every API view shares: rate limits checked before authentication and permissions can
answer, the strict (unknown-fields-refusing) serializer, and the viewset whose writes validate input
and hand it to a service function."""

from typing import Any, NoReturn

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from opinion_ops.api.idempotency import idempotent

__all__ = [
    "ApiNotFoundView",
    "ServiceViewSet",
    "StrictSerializer",
    "StrictSerializerMixin",
    "ThrottleFirstMixin",
    "expected_version",
    "idempotent",
]


class ThrottleFirstMixin(APIView):
    """Rate limits answer before authentication and permissions do (DRF checks permissions first, so
    an anonymous caller, refused with 401, was never counted).

    A request whose credential is refused (unknown, revoked or expired token; CSRF failure) counts as
    an anonymous request of its address, with the others from there: once over API_ANON_RATE it is
    answered 429 instead of 401/403. The credential is still looked at first (one indexed lookup), so
    a valid token or session from a shared address (an office behind one NAT) is counted under its own
    limit and never slowed by someone else's failures. The counters fail open with the cache.
    """

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        request.version, request.versioning_scheme = self.determine_version(request, *args, **kwargs)
        try:
            self.perform_authentication(request)
        except exceptions.APIException:
            self.check_throttles(request)  # the request is anonymous now: counted against its address
            raise
        self.check_throttles(request)
        self.check_permissions(request)


class ApiNotFoundView(ThrottleFirstMixin):
    """Unknown paths under /api/v1/ answer in the API's error shape (404), counted like any call, so
    probing for paths is rate-limited too."""

    permission_classes: list[Any] = []  # nothing here to protect: everyone gets the same 404
    schema = None  # not an operation of the API

    def http_method_not_allowed(self, request: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise exceptions.NotFound(_("接口不存在。"))

    get = post = put = patch = delete = head = options = http_method_not_allowed


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


class ServiceViewSet(ThrottleFirstMixin, GenericViewSet):  # type: ignore[type-arg]
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
