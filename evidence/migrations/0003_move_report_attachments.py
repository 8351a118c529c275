"""Report attachments (incidents.ReportAttachment, a bare FileField) become evidence of their report.

Each file is copied, byte for byte, to a random name beside the other evidence and hashed on the way
(SHA-256, size); its type is read from its content, the old name kept as the original name. The old
rows and files are left as they were: incidents.ReportAttachment is no longer used and is dropped by
a later migration of the incidents app, which must depend on this one. A row whose file is missing
is not moved and is named in the output. The old rows recorded no uploader, so none is given.
"""

import hashlib
import secrets
from typing import Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import migrations

KINDS = {  # filetype's answer → (kind, content type) of the evidence app
    "pdf": ("pdf", "application/pdf"),
    "png": ("png", "image/png"),
    "jpg": ("jpeg", "image/jpeg"),
    "gif": ("gif", "image/gif"),
    "webp": ("webp", "image/webp"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


class _Hashing(File):  # type: ignore[type-arg]
    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self.digest = hashlib.sha256()
        self.counted = 0

    def chunks(self, chunk_size: int | None = None) -> Any:
        for chunk in super().chunks(chunk_size):
            self.digest.update(chunk)
            self.counted += len(chunk)
            yield chunk


def move(apps: Any, schema_editor: Any) -> None:
    import filetype

    ReportAttachment = apps.get_model("incidents", "ReportAttachment")
    Evidence = apps.get_model("evidence", "Evidence")
    for attachment in ReportAttachment.objects.select_related("report").order_by("pk"):
        source = f"incidents.ReportAttachment:{attachment.pk}"
        if Evidence.objects.filter(legacy_source=source).exists():
            continue
        name = attachment.file.name or ""
        try:
            handle = default_storage.open(name, "rb")
        except OSError:
            print(f"\n  report attachment {attachment.pk} ({name!r}): file missing, not moved")
            continue
        with handle:
            guess = filetype.guess(handle.read(8192))
            handle.seek(0)
            kind, content_type = KINDS.get(guess.extension if guess else "", ("other", "application/octet-stream"))
            token = secrets.token_hex(16)
            hashing = _Hashing(handle)
            stored = default_storage.save(f"evidence/{token[:2]}/{token}", hashing)
        Evidence.objects.create(
            incident_id=attachment.report.incident_id,
            report_id=attachment.report_id,
            original_name=name.rsplit("/", 1)[-1][:255] or f"attachment-{attachment.pk}",
            kind=kind,
            content_type=content_type,
            size=hashing.counted,
            sha256=hashing.digest.hexdigest(),
            stored_name=stored,
            uploaded_by=None,
            uploaded_at=attachment.uploaded_at,
            legacy_source=source,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_append_only"),
        ("incidents", "0009_record_chain_append_only"),
    ]

    operations = [migrations.RunPython(move, migrations.RunPython.noop)]
