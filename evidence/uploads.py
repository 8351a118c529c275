"""A size limit applied while the upload is read: past EVIDENCE_MAX_BYTES the rest of the file is
skipped (never written to a temporary file) and the page or the API says so next to the field."""

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class EvidenceSizeLimit(FileUploadHandler):
    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.refused: set[str] = set()  # the fields whose file was too large

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > settings.EVIDENCE_MAX_BYTES:
            self.refused.add(str(self.field_name))
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handlers (memory, temporary file) keep the file


def size_limit_install(request: Any) -> EvidenceSizeLimit:
    """Put the limit first among the request's upload handlers; call before the body is read."""
    handler = EvidenceSizeLimit(request)
    request.upload_handlers.insert(0, handler)
    return handler
