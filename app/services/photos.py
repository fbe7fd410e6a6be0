"""Uploaded photos: checked by Pillow, re-encoded (no EXIF or GPS left), resized, stored under instance/."""
import secrets
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from app.services.errors import RuleViolation

THUMB_SUFFIX = "-t"
JPEG_QUALITY = 82
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}


def _upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _open_checked(stream: BinaryIO, field: str) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = current_app.config["PHOTO_MAX_PIXELS"]
    not_image = RuleViolation(field, _l("This file is not a photo we can read. Please choose a JPEG or PNG image."))
    try:
        image = Image.open(stream)
        if image.format not in ALLOWED_FORMATS:
            raise not_image
        # Pillow warns below twice the limit and raises above it; refuse both.
        if image.width * image.height > Image.MAX_IMAGE_PIXELS:
            raise Image.DecompressionBombError("too many pixels")
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RuleViolation(field, _l("This photo has too many pixels. Please choose a smaller photo.")) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise not_image from exc
    return image


def _flatten(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _save_resized(image: Image.Image, size: int, path: Path) -> None:
    copy = image.copy()
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    # Saved without exif=…: the new file carries no metadata from the upload.
    copy.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)


def save_photo(stream: BinaryIO, field: str = "photo") -> str:
    """Store a display copy and a thumbnail; return the server-chosen name."""
    image = _flatten(_open_checked(stream, field))
    name = secrets.token_hex(12)
    folder = _upload_dir()
    _save_resized(image, current_app.config["PHOTO_DISPLAY_SIZE"], folder / f"{name}.jpg")
    _save_resized(image, current_app.config["PHOTO_THUMB_SIZE"], folder / f"{name}{THUMB_SUFFIX}.jpg")
    return name


def photo_path(name: str, thumbnail: bool = False) -> Path | None:
    """The file for a stored photo name, or None when the name is not one we issued."""
    if len(name) != 24 or not all(c in "0123456789abcdef" for c in name):
        return None
    path = _upload_dir() / f"{name}{THUMB_SUFFIX if thumbnail else ''}.jpg"
    return path if path.is_file() else None


def delete_photo(name: str | None) -> None:
    if not name:
        return
    for thumbnail in (False, True):
        path = photo_path(name, thumbnail)
        if path:
            path.unlink(missing_ok=True)
