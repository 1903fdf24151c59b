"""Checking uploaded images: logos and signatures printed on certificates.

Only PNG and JPEG are accepted, recognised by their content (never by the file name or the
browser's content type) and fully decoded by Pillow, so a renamed text file, an SVG, a GIF,
a PDF, a truncated file or a decompression bomb is refused with a message saying why.
The limits come from the configuration: ``MAX_IMAGE_KB`` (file size) and ``MAX_IMAGE_SIDE``
(pixels, either side).
"""

from __future__ import annotations

import io
import warnings
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from trainingmgr.core.errors import DomainError
from trainingmgr.organisation.uploads import read_upload

PNG = "image/png"
JPEG = "image/jpeg"
ACCEPT = f"{PNG},{JPEG}"  # for <input type="file" accept=...>

_SIGNATURES: list[tuple[bytes, str]] = [(b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG")]
_MIMETYPES = {"PNG": PNG, "JPEG": JPEG}
# Formats people try to upload, recognised to say what the file is.
_OTHER_FORMATS: list[tuple[bytes, str]] = [
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF", "PDF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"PK\x03\x04", "ZIP"),
]
_EXIF_ORIENTATION = 0x0112


def max_bytes() -> int:
    return int(current_app.config.get("MAX_IMAGE_KB", 2048)) * 1024


def max_side() -> int:
    return int(current_app.config.get("MAX_IMAGE_SIDE", 5000))


def _size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return _("%(n).1f MB", n=n / (1024 * 1024))
    return _("%(n)d KB", n=max(1, round(n / 1024)))


def limits_text() -> str:
    """What the upload fields' help text says about the limits."""
    side = max_side()
    return _(
        "PNG or JPEG, at most %(size)s and %(side)d × %(side)d pixels.",
        size=_size_text(max_bytes()),
        side=side,
    )


def _other_format(head: bytes) -> str | None:
    for magic, name in _OTHER_FORMATS:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:12] in (b"ftypavif", b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "HEIC/AVIF"
    text = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml", b"<!doctype svg")) and b"<svg" in head.lower():
        return "SVG"
    return None


def _not_an_image(head: bytes, field: str | None) -> DomainError:
    other = _other_format(head)
    if other:
        return DomainError(
            _(
                "This file is in %(kind)s format, which cannot be used here. "
                "Upload a PNG or JPEG image (save or export it as PNG first).",
                kind=other,
            ),
            field,
        )
    return DomainError(
        _(
            "This file is not a PNG or JPEG image (whatever its name says). "
            "Upload a PNG or JPEG image."
        ),
        field,
    )


def validate_image(upload: bytes | IO[bytes] | Any, field: str | None = None) -> tuple[bytes, str]:
    """Check an uploaded image and return ``(content, mimetype)``.

    Raises ``DomainError`` (on ``field``) with a message for the user when the file is
    empty, too large, not a PNG or JPEG, damaged or too many pixels. A JPEG rotated by its
    EXIF orientation (phone photos) is turned upright, as browsers show it; otherwise the
    bytes are kept as uploaded.
    """
    limit = max_bytes()
    data = read_upload(
        upload,
        limit,
        field,
        empty=_("The file is empty. Choose a PNG or JPEG image."),
        too_large=_(
            "The image is larger than %(limit)s. Make it smaller (for example save it "
            "at a lower resolution) and upload it again.",
            limit=_size_text(limit),
        ),
    )
    kind = next((name for magic, name in _SIGNATURES if data.startswith(magic)), None)
    if kind is None:
        raise _not_an_image(data, field)
    damaged = DomainError(
        _(
            "This %(kind)s image is damaged or incomplete (perhaps the upload was cut "
            "short). Open it in an image editor, save it again and upload it.",
            kind=kind,
        ),
        field,
    )
    side = max_side()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                _check_opened(image, side, field, damaged)
            data = _upright(data, kind)
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DomainError(
            _(
                "The image has far too many pixels to be opened safely; at most "
                "%(side)d × %(side)d are accepted. Make it smaller and upload it again.",
                side=side,
            ),
            field,
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise damaged from None
    return data, _MIMETYPES[kind]


def _check_opened(image: Image.Image, side: int, field: str | None, damaged: DomainError) -> None:
    """DomainError when the opened image is too large, empty, animated or damaged."""
    width, height = image.size
    if width > side or height > side:
        raise DomainError(
            _(
                "The image is %(w)d × %(h)d pixels; at most %(side)d × %(side)d "
                "are accepted. Make it smaller and upload it again.",
                w=width,
                h=height,
                side=side,
            ),
            field,
        )
    if width < 1 or height < 1:
        raise damaged
    if getattr(image, "is_animated", False):
        raise DomainError(
            _("Animated images cannot be printed. Upload a still PNG or JPEG."),
            field,
        )
    image.verify()


def _upright(data: bytes, kind: str) -> bytes:
    """A JPEG rotated by its EXIF orientation turned upright; other images as they are."""
    with Image.open(io.BytesIO(data), formats=[kind]) as image:
        image.load()
        orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
        if kind == "JPEG" and orientation not in (1, None):
            upright = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=95)
            return out.getvalue()
    return data
