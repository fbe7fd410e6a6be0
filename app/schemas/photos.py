"""Schemas of a product's photos in /api/v1: what a photo is, and the multipart/form-data upload.

The file is only passed on: whether it is a photo, its size in bytes and pixels, its format and its
metadata are app/services/photos.py's rules, refused there as a RuleViolation naming `photo`."""
from flask import url_for
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from app.schemas.fields import UtcDateTime


def media_url(photo, thumbnail: bool = False) -> str:
    """Where the public site serves the stored photo (/media/<name>.jpg, `?size=thumb` for its thumbnail)."""
    return url_for("public.photo", name=photo.image, size="thumb" if thumbnail else None, _external=True)


class PhotoSchema(Schema):
    id = fields.Integer(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    caption = fields.String(dump_only=True)
    url = fields.Function(media_url, dump_only=True, metadata={"type": "string", "format": "uri"})
    thumbnail_url = fields.Function(lambda photo: media_url(photo, thumbnail=True), dump_only=True,
                                    metadata={"type": "string", "format": "uri"})
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


def _a_file(value) -> None:
    """A text part named `photo` is not a file (problems.py translates this message)."""
    if not isinstance(value, FileStorage):
        raise ValidationError("Invalid input type.")


class PhotoUploadSchema(Schema):
    """The multipart/form-data body of an upload: the file part and an optional caption part."""
    photo = fields.Raw(required=True, validate=_a_file, metadata={"type": "string", "format": "binary",
                                                "description": "A JPEG, PNG, WebP or GIF photo."})
    caption = fields.String(load_default=None, validate=validate.Length(max=200))
