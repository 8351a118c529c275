from rest_framework import serializers

from incidents.api.fields import VisibleIncidentField
from incidents.models import Platform
from monitoring.models import Mention
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
