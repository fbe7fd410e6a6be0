"""Uploaded photos: checked, decoded at a reduced size, re-encoded from their pixels alone, put into the file
storage (app/storage.py, keys uploads/<name>.jpg and uploads/<name>-t.jpg for the thumbnail).

Two invariants:
- A worker's memory is bounded whatever is uploaded: the pixel count is read from the file's header and
  anything above PHOTO_MAX_PIXELS is refused before a single pixel is decoded; JPEGs (almost every phone
  photo) are decoded straight at the reduced scale they will be shown at (`Image.draft`), and only the first
  frame of an animation is decoded.
- Nothing but pixels leaves the upload: the stored JPEGs are built from the pixel data only, so no EXIF
  (with its GPS position), XMP, IPTC, JPEG comment, PNG text chunk or ICC profile survives; colours in
  another profile (Adobe RGB, CMYK…) are converted to sRGB first, so the photo still looks right.
"""
import io
import secrets
import struct
import zlib
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from app.services.errors import RuleViolation
from app.storage import storage

THUMB_SUFFIX = "-t"
JPEG_TYPE = "image/jpeg"
JPEG_QUALITY = 82
# The decoders Image.open may try; anything else (SVG, TIFF, PDF, …) is not read at all. MPO (the
# multi-picture JPEG some cameras write) comes through the JPEG decoder.
OPENED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# What a broken or hostile file makes Pillow raise while reading its header or decoding it.
DECODE_ERRORS = (
    UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError,
    struct.error, zlib.error,
)
SRGB = ImageCms.createProfile("sRGB")


def _not_a_photo(field: str) -> RuleViolation:
    return RuleViolation(field, _l("This file is not a photo we can read. Please choose a JPEG or PNG image."))


def _too_large(field: str) -> RuleViolation:
    megapixels = current_app.config["PHOTO_MAX_PIXELS"] / 1_000_000
    return RuleViolation(field, _l(
        "This photo is too large: at most %(megapixels)s megapixels. Please choose a smaller photo or take it at a lower resolution.",
        megapixels=f"{megapixels:g}",
    ))


def _open_header(stream: BinaryIO, field: str) -> Image.Image:
    """Read the file's header only (Image.open is lazy) and refuse it if it is not a photo or too large."""
    try:
        image = Image.open(stream, formats=OPENED_FORMATS)
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours
        raise _too_large(field) from exc
    except DECODE_ERRORS as exc:
        raise _not_a_photo(field) from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise _not_a_photo(field)
    if width * height > current_app.config["PHOTO_MAX_PIXELS"]:
        raise _too_large(field)
    return image


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The size that fits `longest` on the longer side, keeping the proportions (never enlarging)."""
    width, height = size
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resizable(image: Image.Image) -> Image.Image:
    """The image in a mode Pillow can reduce and resize smoothly (palette, 1-bit and 16-bit images cannot)."""
    if image.mode in ("P", "PA"):
        return image.convert("RGBA")
    if image.mode == "1":
        return image.convert("L")
    if image.mode.startswith("I") or image.mode == "F":
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L")  # 16-bit grey to 8-bit
    return image


def _decode_reduced(image: Image.Image, longest: int, field: str) -> Image.Image:
    """Decode the first frame at no more than `longest` pixels on its longer side, upright."""
    try:
        if image.format in ("JPEG", "MPO"):
            image.draft(None, _fit(image.size, longest))  # decoded at 1/2, 1/4 or 1/8 scale by libjpeg
        image.load()
        icc_profile = image.info.get("icc_profile")
        image = _resizable(image)
        image.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    except DECODE_ERRORS as exc:  # truncated, corrupt, or lying about its format
        raise _not_a_photo(field) from exc
    return _in_srgb(_on_white(_upright(image)), icc_profile)


def _upright(image: Image.Image) -> Image.Image:
    """Turned as the camera's orientation tag says; a photo whose EXIF is broken is kept as it is."""
    try:
        return ImageOps.exif_transpose(image)
    except DECODE_ERRORS:
        return image


def _on_white(image: Image.Image) -> Image.Image:
    """Transparent parts become white, as the photo would look on the page."""
    if image.mode not in ("RGBA", "LA", "RGBa", "La"):
        return image
    image = image.convert("RGBA")
    background = Image.new("RGB", image.size, "white")
    background.paste(image, mask=image.getchannel("A"))
    return background


def _in_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB pixels in sRGB: converted through the embedded ICC profile when there is a usable one."""
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            return ImageCms.profileToProfile(image, source, SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or unsupported profile: the plain conversion below is the best guess
    return image.convert("RGB")


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image made of the pixel data alone: no info, no EXIF, no comment, no profile to carry over."""
    return Image.frombytes("RGB", image.size, image.convert("RGB").tobytes())


def _store_jpeg(image: Image.Image, key: str) -> None:
    encoded = io.BytesIO()  # a display copy is a few hundred kilobytes at most (PHOTO_DISPLAY_SIZE)
    image.save(encoded, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    storage().put_bytes(key, encoded.getvalue(), JPEG_TYPE)


def save_photo(stream: BinaryIO, field: str = "photo") -> str:
    """Store a display copy and a thumbnail; return the server-chosen name. Nothing is written for a
    refused file, and a failed write leaves no half pair behind."""
    display_size = current_app.config["PHOTO_DISPLAY_SIZE"]
    display = _pixels_only(_decode_reduced(_open_header(stream, field), display_size, field))
    thumbnail = display.copy()
    thumbnail.thumbnail((current_app.config["PHOTO_THUMB_SIZE"],) * 2, Image.Resampling.LANCZOS)
    name = secrets.token_hex(12)
    try:
        _store_jpeg(display, _key(name, thumbnail=False))
        _store_jpeg(thumbnail, _key(name, thumbnail=True))
    except BaseException:
        delete_photo(name)
        raise
    return name


@contextmanager
def new_photo(stream: BinaryIO | None, field: str = "photo") -> Iterator[str | None]:
    """Store an uploaded photo (None when there is none) for a database change made in the block.

    Call it only once the rest of the data is valid. If the block raises (a refused rule, a failed
    commit), the photo's files are removed again: the upload folder holds only photos a row names.
    """
    name = save_photo(stream, field) if stream is not None else None
    try:
        yield name
    except BaseException:
        delete_photo(name)
        raise


def _key(name: str, thumbnail: bool) -> str:
    return f"uploads/{name}{THUMB_SUFFIX if thumbnail else ''}.jpg"


def photo_key(name: str, thumbnail: bool = False) -> str | None:
    """The storage key of a photo name we issued (24 hex digits), or None for any other name, before any
    lookup: a name from a URL never reaches the store unless it is one of ours."""
    if len(name) != 24 or not all(c in "0123456789abcdef" for c in name):
        return None
    return _key(name, thumbnail)


def photo_exists(name: str, thumbnail: bool = False) -> bool:
    key = photo_key(name, thumbnail)
    return key is not None and storage().exists(key)


def delete_photo(name: str | None) -> None:
    if not name:
        return
    for thumbnail in (False, True):
        key = photo_key(name, thumbnail)
        if key:
            storage().delete(key)
