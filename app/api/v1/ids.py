"""Row ids in /api/v1 URLs and bodies: whole numbers from 1 to the largest a database INTEGER holds, so
that an absurd id is a 404 (or a field error) instead of an overflow in the database driver."""
from werkzeug.routing import IntegerConverter

from app.schemas.fields import MAX_ID


class IdConverter(IntegerConverter):
    """`<id:product_id>`: a path segment that is a row id, else no route matches (404)."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def id_doc(converter: IdConverter) -> dict:
    """How the OpenAPI document describes an `<id:…>` path parameter."""
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
