"""Fields shared by the API's schemas."""
from datetime import datetime, timezone

from marshmallow import fields, validate

MAX_ID = 2**31 - 1  # the largest row id a database INTEGER holds (PostgreSQL's; SQLite's is larger)


class UtcDateTime(fields.AwareDateTime):
    """The database keeps naive UTC times: they are sent with their offset (`…+00:00`), as RFC 3339 and
    OpenAPI's `date-time` require, and read back as UTC when a client sends none."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=timezone.utc, **kwargs)

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


def id_field(**kwargs) -> fields.Integer:
    """A row id in a body or query: out of range is a field error, not an overflow in the database driver."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)
