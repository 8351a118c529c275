"""The pieces every API view shares: the strict (unknown-fields-refusing) serializer and the
viewset whose writes validate input and hand it to a service function."""

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from opinion_ops.api.idempotency import idempotent

__all__ = ["ServiceViewSet", "StrictSerializer", "StrictSerializerMixin", "expected_version", "idempotent"]


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
