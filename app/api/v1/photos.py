"""/api/v1/products/<id>/photos: a product's photos, listed, uploaded (multipart/form-data) and removed; and
/api/v1/batches/<id>/events/<id>/photo, a diary entry's one photo, set and removed. Through
app/services/products.py, batches.py and photos.py, which own every rule about the file."""
from functools import wraps

from flask import Request, url_for
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import select
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from app.api.v1 import problems
from app.api.v1.access import coop_id
from app.api.v1.blueprints import resource_blueprint
from app.api.v1.conditional import IDEMPOTENCY_DOC, IF_MATCH_DOC, etag_header, idempotent, require_current
from app.api.v1.paging import PageQuerySchema, page_schema, paginate
from app.models import ProductPhoto
from app.schemas.photos import EventPhotoSchema, EventPhotoUploadSchema, PhotoSchema, PhotoUploadSchema
from app.services import batches, idempotency, products
from app.services.errors import NotFound, RuleViolation


class MultipartParser(FlaskParser):
    """Reads the `files` location as the whole multipart body, its file parts and its text parts, so that
    one schema describes the upload both for parsing and in the OpenAPI document (multipart/form-data)."""

    def load_files(self, req: Request, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


blp = resource_blueprint("photos", "A product's photos, as the public product page shows them, and a diary entry's photo.")
blp.ARGUMENTS_PARSER = MultipartParser()  # this blueprint's only; the others keep webargs' own

# Where each refused field of an upload was sent: the file and the caption are parts of the multipart body,
# which webargs calls `files` (the 422s of the schema say so too).
FIELD_LOCATIONS = {"photo": "files", "caption": "files", idempotency.HEADER: "header"}


@blp.errorhandler(RuleViolation)
def _refused(violation: RuleViolation):
    """A service's refusal of an upload: 422 naming the multipart part (`photo` for the file's rules)."""
    error = {"field": violation.field, "in": FIELD_LOCATIONS.get(violation.field, "files"),
             "detail": str(violation.message)}
    return problems.problem(422, errors=[error], type_=problems.INVALID_FIELDS_TYPE)


def event_first(view):
    """Another cooperative's diary entry is a 404, and a changed one a 412, before its upload is read."""

    @wraps(view)
    def wrapper(*args, batch_id, event_id, **kwargs):
        require_current(batches.get_event(coop_id(), batch_id, event_id))
        return view(*args, batch_id=batch_id, event_id=event_id, **kwargs)

    return wrapper


def product_first(view):
    """Another cooperative's product is a 404 before its upload is even read (and so before any 422)."""

    @wraps(view)
    def wrapper(*args, product_id, **kwargs):
        products.get_product(coop_id(), product_id)
        return view(*args, product_id=product_id, **kwargs)

    return wrapper


@blp.route("/products/<id:product_id>/photos")
class PhotoList(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(PhotoSchema))
    def get(self, args, product_id):
        """The product's photos, in the order they were added, with the addresses of the photo and its thumbnail."""
        product = products.get_product(coop_id(), product_id)
        return paginate(select(ProductPhoto).where(ProductPhoto.product_id == product.id), ProductPhoto.id, args)

    @idempotent
    @product_first
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.arguments(PhotoUploadSchema, location="files")
    @blp.response(201, PhotoSchema)
    def post(self, upload, product_id):
        """Add a photo. Send an Idempotency-Key to retry safely.

        multipart/form-data: `photo`, and `caption` if you like. It is re-encoded from its pixels alone, so
        no EXIF, GPS position or comment is kept; one that is not a readable photo, or too large, is a 422
        naming `photo`."""
        photo = products.add_photo(coop_id(), product_id, upload["photo"].stream, upload["caption"], current_user.id)
        location = url_for(".PhotoItem", product_id=product_id, photo_id=photo.id, _external=True)
        return photo, 201, {"Location": location, **etag_header(photo)}


@blp.route("/products/<id:product_id>/photos/<id:photo_id>")
class PhotoItem(MethodView):
    @blp.response(200, PhotoSchema)
    def get(self, product_id, photo_id):
        """One photo, with its ETag."""
        photo = products.get_photo(coop_id(), product_id, photo_id)
        return photo, 200, etag_header(photo)

    @blp.doc(**IF_MATCH_DOC)
    @blp.response(204)
    def delete(self, product_id, photo_id):
        """Remove a photo and its files. If-Match is required."""
        require_current(products.get_photo(coop_id(), product_id, photo_id))
        products.remove_photo(coop_id(), product_id, photo_id, current_user.id)


@blp.route("/batches/<id:batch_id>/events/<id:event_id>/photo")
class EventPhoto(MethodView):
    @blp.response(200, EventPhotoSchema)
    def get(self, batch_id, event_id):
        """The diary entry's photo (404 when it has none); the ETag is the diary entry's."""
        event = _event_with_photo(batch_id, event_id)
        return event, 200, etag_header(event)

    @event_first
    @blp.doc(**IF_MATCH_DOC)
    @blp.arguments(EventPhotoUploadSchema, location="files")
    @blp.response(200, EventPhotoSchema)
    def put(self, upload, batch_id, event_id):
        """Set or replace the diary entry's photo. If-Match is the diary entry's ETag.

        multipart/form-data: `photo`, stored without its metadata; the one it replaces is deleted."""
        event = batches.update_event(coop_id(), batch_id, event_id, {}, current_user.id, photo=upload["photo"].stream)
        return event, 200, etag_header(event)

    @blp.doc(**IF_MATCH_DOC)
    @blp.response(204)
    def delete(self, batch_id, event_id):
        """Remove the diary entry's photo and its files. If-Match is the diary entry's ETag."""
        require_current(_event_with_photo(batch_id, event_id))
        batches.remove_event_photo(coop_id(), batch_id, event_id, current_user.id)


def _event_with_photo(batch_id: int, event_id: int):
    event = batches.get_event(coop_id(), batch_id, event_id)
    if not event.photo:
        raise NotFound
    return event
