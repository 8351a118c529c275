"""Files for the tests: real images, Office files, PDFs and disguised files, made in memory, and a
temporary MEDIA_ROOT so stored evidence never lands in ./var."""

import atexit
import io
import shutil
import tempfile
import zipfile
from typing import Any, TypeVar

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

T = TypeVar("T")

CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def temporary_media(cls: T) -> T:
    """Class decorator: evidence stored by the tests goes to a temporary MEDIA_ROOT, removed at exit."""
    directory = tempfile.mkdtemp(prefix="oo-evidence-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return override_settings(MEDIA_ROOT=directory)(cls)  # type: ignore[no-any-return,type-var]


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (640, 480), color: Any = (200, 30, 30), **save: Any) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" and len(color) == 4 else "RGB"
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_location(size: tuple[int, int] = (800, 600)) -> bytes:
    """A photo carrying EXIF: the camera, and where it was taken (GPS)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneModel X"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (39.0, 54.0, 15.0)
    gps[3] = "E"
    gps[4] = (116.0, 23.0, 30.0)
    return image_bytes("JPEG", size, (20, 120, 200), exif=exif.tobytes())


def office_bytes(main_part: str, *extra: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(main_part, "<document/>")
        for name in extra:
            archive.writestr(name, b"\x00binary")
    return out.getvalue()


def docx_bytes(*extra: str) -> bytes:
    return office_bytes("word/document.xml", *extra)


def xlsx_bytes() -> bytes:
    return office_bytes("xl/workbook.xml")


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("名单.txt", "张三")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 240
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="9" height="9"/></svg>'


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
