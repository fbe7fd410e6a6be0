"""Schemas of a product's photos in /api/v1: what a photo is, and the multipart/form-data upload.

The file is only passed on: whether it is a photo, its size in bytes and pixels, its format and its
metadata are app/services/photos.py's rules, refused there as a RuleViolation naming `photo`."""
from flask import url_for
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from app.schemas.fields import UtcDateTime


def media_url(name: str, thumbnail: bool = False) -> str:
    """Where the public site serves a stored photo (/media/<name>.jpg, `?size=thumb` for its thumbnail)."""
    return url_for("public.photo", name=name, size="thumb" if thumbnail else None, _external=True)


URI = {"type": "string", "format": "uri"}


class PhotoSchema(Schema):
    id = fields.Integer(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    caption = fields.String(dump_only=True)
    url = fields.Function(lambda photo: media_url(photo.image), dump_only=True, metadata=URI)
    thumbnail_url = fields.Function(lambda photo: media_url(photo.image, thumbnail=True), dump_only=True, metadata=URI)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


def _a_file(value) -> None:
    """A text part named `photo` is not a file (problems.py translates this message)."""
    if not isinstance(value, FileStorage):
        raise ValidationError("Invalid input type.")


class EventPhotoSchema(Schema):
    """A diary entry's one photo."""
    event_id = fields.Integer(attribute="id", dump_only=True)
    batch_id = fields.Integer(dump_only=True)
    url = fields.Function(lambda event: media_url(event.photo), dump_only=True, metadata=URI)
    thumbnail_url = fields.Function(lambda event: media_url(event.photo, thumbnail=True), dump_only=True, metadata=URI)
    updated_at = UtcDateTime(dump_only=True)


class EventPhotoUploadSchema(Schema):
    """The multipart/form-data body that sets a diary entry's photo."""
    photo = fields.Raw(required=True, validate=_a_file, metadata={"type": "string", "format": "binary",
                                                                  "description": "A JPEG, PNG, WebP or GIF photo."})


class PhotoUploadSchema(EventPhotoUploadSchema):
    """The multipart/form-data body of a product photo's upload: the file part and an optional caption part."""
    caption = fields.String(load_default=None, validate=validate.Length(max=200))
