"""Images (logos, signatures): prepared once per process and copied into each PDF."""

from __future__ import annotations

import copy
import io
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

from trainingmgr.certificates.pdf import base
from trainingmgr.certificates.pdf.base import _cache_lock, _cached, log

# ------------------------------------------------------------------------------ images

_IMAGES: OrderedDict[str, _Image | None] = OrderedDict()
IMAGE_CACHE_SIZE = 64
# Larger images are scaled down (a logo is printed at most ~4 cm wide).
MAX_IMAGE_SIDE = 1200


@dataclass(frozen=True)
class _Image:
    """An image ready to be written into any PDF: its XObject (and soft mask) templates,
    copied into each document, so the pixels are decoded and compressed once per process."""

    name: str
    width: int
    height: int
    xobject: pdfdoc.PDFImageXObject
    smask: pdfdoc.PDFImageXObject | None


def _xobject(name: str, image: Image.Image, content: bytes, filters: tuple[str, ...]) -> Any:
    obj = pdfdoc.PDFImageXObject(name)
    obj.width, obj.height = image.size
    obj.bitsPerComponent = 8
    obj.colorSpace = "DeviceGray" if image.mode == "L" else "DeviceRGB"
    obj.streamContent = content
    obj._filters = filters
    obj.mask = None
    return obj


def eight_bit(image: Image.Image) -> Image.Image:
    """``image`` with 8 bits per channel: a 16- or 32-bit greyscale image (``I;16``, ``I``,
    ``F``: scanners and some editors save them) scaled to ``L``; Pillow's own conversion
    clips every value above 255 to white, so such a logo or signature printed blank."""
    if image.mode not in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return image
    top = 65535 if image.mode.startswith("I;16") else (image.getextrema()[1] or 1)
    wide = image.convert("F") if image.mode != "F" else image
    scale = 255 / max(float(top), 255.0)  # pixels already within 0..255 keep their value
    return wide.point(lambda v: v * scale).convert("L")


def _prepare_image(key: str, data: bytes) -> _Image | None:
    """Decode ``data`` (PNG or JPEG) into PDF image objects; None when it cannot be read."""
    try:
        source = Image.open(io.BytesIO(data))
        source.load()
        image = eight_bit(ImageOps.exif_transpose(source) or source)
    except Exception:  # an unreadable image is left out rather than failing the certificate
        log.warning("certificate image %s cannot be read; it is left out", key)
        return None
    name = f"CertImg{key[:24]}"
    if (
        source.format == "JPEG"
        and image is source
        and source.mode in ("RGB", "L")
        and max(source.size) <= MAX_IMAGE_SIDE
    ):
        # JPEG goes into the PDF as it is.
        return _Image(name, *source.size, _xobject(name, source, data, ("DCTDecode",)), None)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    alpha = None
    if image.mode in ("RGBA", "LA", "PA"):
        alpha = image.getchannel("A")
        if alpha.getextrema() == (255, 255):
            alpha = None
    if image.mode not in ("RGB", "L"):
        image = image.convert("L" if image.mode in ("LA", "I", "I;16") else "RGB")
    if max(image.size) > MAX_IMAGE_SIDE:
        scale = MAX_IMAGE_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
        alpha = alpha.resize(size, Image.Resampling.LANCZOS) if alpha is not None else None
    xobject = _xobject(name, image, zlib.compress(image.tobytes()), ("FlateDecode",))
    smask = None
    if alpha is not None:
        smask = _xobject(f"{name}M", alpha, zlib.compress(alpha.tobytes()), ("FlateDecode",))
        xobject.smask = pdfdoc.PDFObjectReference(pdfdoc.xObjectName(smask.name))
    return _Image(name, *image.size, xobject, smask)


def has_image(key: str) -> bool:
    """Whether the image of this SHA-256 is prepared in this process (no need to load it)."""
    with _cache_lock:
        return key in _IMAGES


def _image(key: str | None, images: Mapping[str, bytes]) -> _Image | None:
    if not key:
        return None
    with _cache_lock:
        if key in _IMAGES:
            _IMAGES.move_to_end(key)
            return _IMAGES[key]
    data = images.get(key)
    if data is None:
        log.warning("certificate image %s is missing; it is left out", key)
        return None
    return _cached(_IMAGES, key, lambda: _prepare_image(key, data), IMAGE_CACHE_SIZE)


def image_keys(snapshot: Mapping[str, Any], *, funding: bool = True) -> list[str]:
    """The SHA-256 of every image the snapshot prints (logo, signatures, funders' logos unless
    ``funding`` is false: layout 1 prints none)."""
    keys = [snapshot.get("logo")]
    keys += [s.get("signature") for s in snapshot.get("signatories") or [] if isinstance(s, dict)]
    if funding:
        keys += [f.get("logo") for f in snapshot.get("funding") or [] if isinstance(f, dict)]
    return [k for k in keys if isinstance(k, str) and k]


def draw_image(
    c: Canvas, image: _Image, x: float, y: float, max_w: float, max_h: float, anchor: str = "n"
) -> tuple[float, float]:
    """Draw ``image`` inside the box (``x``, ``y`` its bottom-left corner), keeping its
    proportions, against the box's top-left (``anchor="nw"``) or top middle (``"n"``) or
    bottom middle (``"s"``); returns the size drawn."""
    scale = min(max_w / image.width, max_h / image.height)
    w, h = image.width * scale, image.height * scale
    left = x if anchor == "nw" else x + (max_w - w) / 2
    bottom = y if anchor == "s" else y + max_h - h
    doc = c._doc
    reg = doc.getXObjectName(image.name)
    if reg not in doc.idToObject:
        doc.Reference(copy.copy(image.xobject), reg)
        if image.smask is not None:
            doc.Reference(copy.copy(image.smask), doc.getXObjectName(image.smask.name))
    c._currentPageHasImages = 1
    if base._BOXES is not None:
        base._BOXES.append((f"image {image.name}", left, bottom, left + w, bottom + h))
    c._code.append(f"q {_num(w)} 0 0 {_num(h)} {_num(left)} {_num(bottom)} cm /{reg} Do Q")
    c._formsinuse.append(image.name)
    return w, h


def _num(value: float) -> str:
    """A number as PDF operators write it (at most 3 decimals, no trailing zeros)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
