"""Schemas of the cooperative's resources in /api/v1: products, certifications, batches, diary events.

They check only the shape of the JSON (types, lengths, choices); the business rules (identifiers, OCOP
rating, date order, one lot code per product) are the services' and come back as RuleViolations."""
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from app.schemas.fields import UtcDateTime, id_field

from app.coop.forms import CATEGORY_LABELS
from app.models import BatchStatus, EventKind


MAX_QUANTITY = Decimal(10) ** 10  # the column holds 12 digits, 2 after the point


def _quantity_in_range(quantity: Decimal) -> None:
    """Range() would print its bounds into the OpenAPI document as strings, which is not valid there."""
    if not 0 <= quantity < MAX_QUANTITY:
        raise ValidationError("Must be at least 0 and less than 10000000000.")


class ProductSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(required=True, validate=validate.OneOf(list(CATEGORY_LABELS)))
    gtin = fields.String(allow_none=True, validate=validate.Length(max=20))
    ocop_stars = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=9))
    ocop_certificate_no = fields.String(validate=validate.Length(max=60))
    ocop_issued_on = fields.Date(allow_none=True)
    ocop_expires_on = fields.Date(allow_none=True)
    growing_area_code = fields.String(validate=validate.Length(max=40))
    description = fields.String(validate=validate.Length(max=5000))
    shelf_life_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=3650))
    is_archived = fields.Boolean(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class ProductFilterSchema(Schema):
    include_archived = fields.Boolean(load_default=False)


class CertificationSchema(Schema):
    id = fields.Integer(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    scheme = fields.String(required=True, validate=validate.Length(min=1, max=40))
    number = fields.String(required=True, validate=validate.Length(min=1, max=60))
    issuer = fields.String(validate=validate.Length(max=200))
    expires_on = fields.Date(allow_none=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class BatchSchema(Schema):
    id = fields.Integer(dump_only=True)
    product_id = id_field(required=True)
    lot_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    harvest_date = fields.Date(allow_none=True)
    packing_date = fields.Date(allow_none=True)
    best_before = fields.Date(allow_none=True)
    quantity = fields.Decimal(allow_none=True, places=2, as_string=True, validate=_quantity_in_range,
                              metadata={"type": "string", "format": "decimal", "example": "120.50",
                                        "description": "A decimal number, sent as a string (a JSON number is accepted)."})
    unit = fields.String(validate=validate.Length(max=20))
    growing_area = fields.String(validate=validate.Length(max=200))
    notes = fields.String(validate=validate.Length(max=5000))
    status = fields.Enum(BatchStatus, by_value=True, dump_only=True)
    recall_reason = fields.String(dump_only=True)
    recalled_on = fields.Date(dump_only=True, allow_none=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class BatchUpdateSchema(BatchSchema):
    """A batch stays with its product."""

    class Meta:
        exclude = ("product_id",)


class BatchFilterSchema(Schema):
    product_id = id_field(load_default=None)


class DiaryEventSchema(Schema):
    id = fields.Integer(dump_only=True)
    batch_id = fields.Integer(dump_only=True)
    event_date = fields.Date(required=True)
    kind = fields.Enum(EventKind, by_value=True, required=True)
    description = fields.String(validate=validate.Length(max=2000))
    input_used = fields.String(validate=validate.Length(max=200))
    dose = fields.String(validate=validate.Length(max=100))
    phi_days = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=365),
                              metadata={"description": "Pre-harvest interval in days; sprays only."})
    quantity = fields.Decimal(allow_none=True, places=2, as_string=True, validate=_quantity_in_range,
                              metadata={"type": "string", "format": "decimal", "example": "1250.50",
                                        "description": "What a harvest picked, in the batch's unit; harvest entries only "
                                                       "(cleared on other kinds). A string; a JSON number is accepted."})
    done_by = fields.String(validate=validate.Length(max=120))
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)
