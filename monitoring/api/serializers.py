from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from incidents.api.fields import VisibleIncidentField
from incidents.models import Platform
from monitoring.alerts import ALERT_ACTIONS, alert_actions_available
from monitoring.config import SCHEME_FIELDS
from monitoring.ingest import MAX_AUTHOR, MAX_BATCH, MAX_EXTERNAL_ID, MAX_TEXT, MAX_TITLE, PostIn
from monitoring.models import Alert, KeywordScheme, Mention
from opinion_ops.api.base import StrictSerializer
from opinion_ops.api.parsers import ApiDateTimeField


class MentionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    url = serializers.CharField(read_only=True, help_text="http(s) link, or empty")

    class Meta:
        model = Mention
        fields = [
            "id",
            "organization",
            "platform",
            "url",
            "author_handle",
            "text",
            "published_at",
            "captured_at",
            "captured_by",
            "incident",
        ]
        read_only_fields = fields


class MentionCreateSerializer(StrictSerializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    text = serializers.CharField(max_length=20_000)
    url = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="", help_text="http(s) link")
    author_handle = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    published_at = ApiDateTimeField(required=False, allow_null=True, default=None)
    captured_at = ApiDateTimeField(required=False, allow_null=True, default=None)
    incident = VisibleIncidentField(required=False, allow_null=True, default=None)


class MentionAttachSerializer(StrictSerializer):
    incident = VisibleIncidentField()


# --- posts pushed in batches (monitoring.ingest)


class IngestPostListSerializer(serializers.ListSerializer):  # type: ignore[type-arg]
    """The batch's posts, each checked on its own: a post the serializer refuses becomes a rejected row
    ({"index", "field", "message"}) instead of refusing the batch. Only the list itself (not a list,
    over the limit) refuses the request."""

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            raise serializers.ValidationError(_("应为信息列表。"), code="not_a_list")
        if len(data) > MAX_BATCH:
            raise serializers.ValidationError(_("一次最多提交 %(n)s 条信息。") % {"n": MAX_BATCH}, code="max_length")
        rows: list[dict[str, Any]] = []
        for index, item in enumerate(data):
            try:
                rows.append({"index": index, "post": PostIn(**self.child.run_validation(item))})  # type: ignore[union-attr]
            except serializers.ValidationError as error:
                field, message = _first_error(error.detail)
                rows.append({"index": index, "field": field, "message": message})
        return rows


def _first_error(detail: Any, prefix: str = "") -> tuple[str, str]:
    """The first field and message of a serializer's errors ("" for the post as a whole)."""
    if isinstance(detail, dict):
        for name, value in detail.items():
            field = "" if name == api_settings.NON_FIELD_ERRORS_KEY else name
            return _first_error(value, f"{prefix}.{field}" if prefix and field else prefix or field)
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], prefix)
    return prefix, str(detail)


class IngestPostSerializer(StrictSerializer):
    """A post: its text (or at least a title); unknown fields are refused (the post is then rejected)."""

    text = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, trim_whitespace=False)
    title = serializers.CharField(max_length=MAX_TITLE, required=False, allow_blank=True, default="")
    url = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="", help_text="http(s) link")
    platform = serializers.ChoiceField(
        choices=Platform.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Omitted: the source's platform.",
    )
    author = serializers.CharField(max_length=MAX_AUTHOR, required=False, allow_blank=True, default="")
    published_at = ApiDateTimeField(required=False, allow_null=True, default=None)
    external_id = serializers.CharField(
        max_length=MAX_EXTERNAL_ID,
        required=False,
        allow_blank=True,
        default="",
        help_text="The post's id in the other system: the same id from the same source is a duplicate.",
    )

    class Meta:
        list_serializer_class = IngestPostListSerializer


class IngestSerializer(StrictSerializer):
    """A batch of posts for one of the unit's API sources; unknown fields are refused."""

    source = serializers.CharField(  # type: ignore[assignment]  # a field named like Field.source
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="Name of one of your unit's API sources (接口推送); omitted: the unit's default one.",
    )
    posts = IngestPostSerializer(  # type: ignore[call-arg]
        many=True, max_length=MAX_BATCH, help_text="At most 1,000 posts; each is checked on its own."
    )


class IngestRejectedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    index = serializers.IntegerField(help_text="Position of the post in `posts` (from 0).")
    field = serializers.CharField(help_text="The field refused; empty for the post as a whole.")
    message = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    created = serializers.IntegerField(help_text="Posts stored.")
    duplicates = serializers.IntegerField(
        help_text="Posts already stored (same source and external id, or same content)."
    )
    rejected = IngestRejectedSerializer(many=True)


# --- schemes (read only here) and alerts


class SchemeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = KeywordScheme
        fields = ["id", *SCHEME_FIELDS, "recipients", "created_at", "updated_at", "version"]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    scheme_name = serializers.CharField(source="scheme.name", read_only=True)
    available_actions = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "scheme",
            "scheme_name",
            "status",
            "severity",
            "reason",
            "post_count",
            "first_matched_at",
            "last_matched_at",
            "raised_at",
            "acknowledged_by",
            "acknowledged_at",
            "closed_by",
            "closed_at",
            "dismiss_reason",
            "incident",
            "version",
            "available_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ALERT_ACTIONS)))
    def get_available_actions(self, alert: Alert) -> list[str]:
        request = self.context.get("request")
        return alert_actions_available(alert, request.user if request is not None else None)


class AlertActSerializer(StrictSerializer):
    version = serializers.IntegerField(
        required=False, min_value=1, max_value=2_147_483_647, help_text="The alert's version you saw (409 if changed)."
    )


class AlertDismissSerializer(AlertActSerializer):
    reason = serializers.CharField(max_length=2000, help_text="排除理由 (required).")
