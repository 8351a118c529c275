"""What an uploaded file really is: its type judged by its content (never by its name alone), checked
against the name it came with, verified (images decode, Office files are Office files) and hashed.

The content is sniffed with `filetype` (magic numbers, pure Python, no libmagic to install); Office
files are then opened as ZIP archives to confirm the parts a real .docx / .xlsx has and refuse
macros; images are decoded by Pillow. A thumbnail is drawn for images here, once, at upload: a
small JPEG (PNG where the image has transparency), re-encoded from pixels only, so no EXIF (place,
device, time) of the original reaches it. The original itself is kept byte for byte.
"""

import hashlib
import io
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

import filetype
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from evidence.models import Evidence
from opinion_ops.errors import DomainError

Kind = Evidence.Kind
CHUNK = 64 * 1024
SNIFF_BYTES = 8192
THUMBNAIL_BOX = (320, 320)

# The name a file of each kind may carry, and what it is served as.
EXTENSIONS: dict[str, frozenset[str]] = {
    Kind.PDF: frozenset({"pdf"}),
    Kind.DOCX: frozenset({"docx"}),
    Kind.XLSX: frozenset({"xlsx"}),
    Kind.PNG: frozenset({"png"}),
    Kind.JPEG: frozenset({"jpg", "jpeg"}),
    Kind.GIF: frozenset({"gif"}),
    Kind.WEBP: frozenset({"webp"}),
    Kind.TEXT: frozenset({"txt", "csv"}),
}
CONTENT_TYPES: dict[str, str] = {
    Kind.PDF: "application/pdf",
    Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Kind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Kind.PNG: "image/png",
    Kind.JPEG: "image/jpeg",
    Kind.GIF: "image/gif",
    Kind.WEBP: "image/webp",
    Kind.TEXT: "text/plain",
}
PILLOW_FORMATS = {Kind.PNG: "PNG", Kind.JPEG: "JPEG", Kind.GIF: "GIF", Kind.WEBP: "WEBP"}
KNOWN_KINDS = frozenset(EXTENSIONS)

# What the content turned out to be, for the message, when it is no kind we keep.
EXECUTABLE = gettext_lazy("可执行程序")
ARCHIVE = gettext_lazy("压缩包")
MARKUP = gettext_lazy("网页或 SVG 矢量图（可能含脚本）")
MACRO = gettext_lazy("含宏的 Office 文件")
UNKNOWN = gettext_lazy("无法识别的内容")
EXECUTABLE_EXTENSIONS = {"exe", "dll", "elf", "macho", "msi", "deb", "rpm", "dex", "class", "wasm", "crx"}
ARCHIVE_EXTENSIONS = {"zip", "rar", "7z", "tar", "gz", "bz2", "xz", "zst", "lz", "cab", "ar", "Z", "lzo", "br"}
MARKUP_SIGNS = ("<script", "<svg", "<html", "<!doctype html", "<iframe", "<body", "<object", "<embed", "<?xml")


class FileTooLarge(DomainError):
    """Over EVIDENCE_MAX_BYTES: the page shows it next to the field, the API answers 413."""

    status_code = 413
    code = "file_too_large"


@dataclass(frozen=True)
class Inspected:
    kind: str
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    thumbnail: bytes = b""
    thumbnail_extension: str = ""


def allowed_kinds() -> list[str]:
    return [kind for kind in settings.EVIDENCE_ALLOWED_TYPES if kind in KNOWN_KINDS]


def allowed_extensions() -> list[str]:
    return sorted({ext for kind in allowed_kinds() for ext in EXTENSIONS[kind]})


def size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def too_large_message() -> str:
    return _("文件过大：单个文件不能超过 %(limit)s，未保存。") % {"limit": size_label(settings.EVIDENCE_MAX_BYTES)}


def _refuse(message: str | Promise) -> DomainError:
    return DomainError(message, field="file")


def _extension(name: str) -> str:
    return PurePath(name).suffix.lower().lstrip(".")


def _claimed_kind(extension: str) -> str | None:
    for kind in allowed_kinds():
        if extension in EXTENSIONS[kind]:
            return kind
    return None


def _read_all(file: IO[bytes]) -> tuple[bytes, int, str]:
    """The first bytes, the size and the SHA-256, in one pass."""
    file.seek(0)
    digest = hashlib.sha256()
    head = b""
    size = 0
    while chunk := file.read(CHUNK):
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        digest.update(chunk)
        size += len(chunk)
        if size > settings.EVIDENCE_MAX_BYTES:
            raise FileTooLarge(too_large_message(), field="file")
    file.seek(0)
    return head, size, digest.hexdigest()


def _office_kind(file: IO[bytes]) -> str | Promise:
    """A .docx or .xlsx is a ZIP whose parts say so; anything else in a ZIP is an archive."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return UNKNOWN
    finally:
        file.seek(0)
    if "[Content_Types].xml" not in names:
        return ARCHIVE
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return MACRO
    if "word/document.xml" in names:
        return Kind.DOCX
    if "xl/workbook.xml" in names:
        return Kind.XLSX
    return ARCHIVE


def _text_kind(file: IO[bytes]) -> str | Promise:
    """Plain text: UTF-8 (with or without BOM) or GB18030, no control characters, no markup."""
    file.seek(0)
    data = file.read()
    file.seek(0)
    if b"\x00" in data:
        return UNKNOWN
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return UNKNOWN
    if any(ord(char) < 32 and char not in "\t\n\r\f\v" for char in text) or "\x7f" in text:
        return UNKNOWN
    lowered = text.lower()
    if any(sign in lowered for sign in MARKUP_SIGNS):
        return MARKUP
    return Kind.TEXT


def _sniffed_kind(file: IO[bytes], head: bytes) -> str | Promise:
    """What the content is: one of our kinds, or a label of what we do not keep."""
    guess = filetype.guess(head)
    if guess is None:
        return _text_kind(file)
    found = guess.extension
    by_extension = {"pdf": Kind.PDF, "png": Kind.PNG, "jpg": Kind.JPEG, "gif": Kind.GIF, "webp": Kind.WEBP}
    if found in by_extension:
        return by_extension[found]
    if found in {"zip", "docx", "xlsx", "pptx"}:
        return _office_kind(file)
    if found in EXECUTABLE_EXTENSIONS:
        return EXECUTABLE
    if found in ARCHIVE_EXTENSIONS:
        return ARCHIVE
    return _("%(mime)s 类型的文件") % {"mime": guess.mime}


def _label(kind: str | Promise) -> str:
    if isinstance(kind, str) and kind in KNOWN_KINDS:
        return str(Kind(kind).label)
    return str(kind)


def _image(file: IO[bytes], kind: str) -> tuple[int, int, bytes, str]:
    """Decode the image fully (a damaged or disguised one is refused) and draw its thumbnail."""
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as probe:
                if probe.format != PILLOW_FORMATS[kind]:  # type: ignore[index]
                    raise _refuse(_("图片内容与其格式不符，无法识别。"))
                width, height = probe.size
                if width * height > settings.EVIDENCE_MAX_IMAGE_PIXELS:
                    raise _refuse(_("图片尺寸过大（%(w)s×%(h)s 像素），未保存。") % {"w": width, "h": height})
                probe.verify()
            file.seek(0)
            with Image.open(file) as image:
                image.load()
                thumbnail, extension = _thumbnail(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _refuse(_("图片已损坏或无法识别，未保存。")) from exc
    except Image.DecompressionBombWarning as exc:
        raise _refuse(_("图片尺寸过大，未保存。")) from exc
    finally:
        file.seek(0)
    return width, height, thumbnail, extension


def _thumbnail(image: Image.Image) -> tuple[bytes, str]:
    """Pixels only, upright, at most THUMBNAIL_BOX: a fresh image carries no EXIF or other metadata."""
    upright = ImageOps.exif_transpose(image) or image
    transparent = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    pixels = upright.convert("RGBA" if transparent else "RGB")
    pixels.thumbnail(THUMBNAIL_BOX)
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    if transparent:
        clean.save(out, "PNG", optimize=True)
        return out.getvalue(), "png"
    clean.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue(), "jpg"


def evidence_inspect(file: Any, name: str) -> Inspected:
    """Judge the upload by its content; refuse (DomainError on the field "file", in Chinese) an empty
    or too large file, a kind not allowed, content that does not match the name, a damaged image."""
    if file is None:
        raise _refuse(_("请选择要上传的文件。"))
    extension = _extension(name)
    claimed = _claimed_kind(extension)
    if claimed is None:
        shown = f"“.{extension}”" if extension else _("没有扩展名的")
        raise _refuse(
            _("不接受%(ext)s文件。可以上传：%(allowed)s。")
            % {"ext": shown, "allowed": "、".join(f".{ext}" for ext in allowed_extensions())}
        )
    head, size, sha256 = _read_all(file)
    if size == 0:
        raise _refuse(_("文件是空的，未保存。"))
    found = _sniffed_kind(file, head)
    if found != claimed:
        raise _refuse(
            _("文件内容与文件名不符：文件名是“.%(ext)s”，内容却是%(found)s，未保存。请核对后重新选择。")
            % {"ext": extension, "found": _label(found)}
        )
    if claimed not in Evidence.IMAGE_KINDS:
        return Inspected(kind=claimed, content_type=CONTENT_TYPES[claimed], size=size, sha256=sha256)
    width, height, thumbnail, thumbnail_extension = _image(file, claimed)
    return Inspected(
        kind=claimed,
        content_type=CONTENT_TYPES[claimed],
        size=size,
        sha256=sha256,
        width=width,
        height=height,
        thumbnail=thumbnail,
        thumbnail_extension=thumbnail_extension,
    )
