from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evidence.models import Evidence, EvidenceWithdrawal
from incidents.api.fields import VisibleIncidentField
from incidents.filtersets import MAX_ID
from opinion_ops.api.base import StrictSerializer


class EvidenceWithdrawalSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = EvidenceWithdrawal
        fields = ["reason", "withdrawn_by", "withdrawn_at"]
        read_only_fields = fields


class EvidenceSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    withdrawn = serializers.BooleanField(source="is_withdrawn", read_only=True)
    withdrawal = EvidenceWithdrawalSerializer(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField(help_text="the original, byte for byte (same visibility check)")

    class Meta:
        model = Evidence
        fields = [
            "id",
            "incident",
            "report",
            "mention",
            "original_name",
            "description",
            "kind",
            "content_type",
            "size",
            "sha256",
            "width",
            "height",
            "uploaded_by",
            "uploaded_at",
            "withdrawn",
            "withdrawal",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_download_url(self, evidence: Evidence) -> str:
        return f"/api/v1/evidence/{evidence.pk}/download/"


class EvidenceUploadSerializer(StrictSerializer):
    incident = VisibleIncidentField()
    file = serializers.FileField(help_text="the file; its type is judged by its content and must match its name")
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    report = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_ID,
        help_text="a report of the incident",
    )
    mention = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID, help_text="a post of the incident"
    )


class EvidenceWithdrawSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=1000)
