"""Schemas of a batch's shipments to buyers in /api/v1; the rules (quantity left, recall date, stamp ranges of
this batch, no stamp in two shipments) are app/services/shipments.py's."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.models import BuyerKind
from app.schemas.fields import MAX_ID, UtcDateTime, id_field


class StampRangeSchema(Schema):
    """Serials first–last of one run (the attribute names are the stored range's)."""

    run_id = id_field(required=True)
    first = fields.Integer(attribute="first_serial", data_key="first", required=True,
                           validate=validate.Range(min=1, max=MAX_ID))
    last = fields.Integer(attribute="last_serial", data_key="last", required=True,
                          validate=validate.Range(min=1, max=MAX_ID))

    @validates_schema
    def _in_order(self, data, **kwargs):
        if data.get("first_serial") and data.get("last_serial") and data["first_serial"] > data["last_serial"]:
            raise ValidationError("Must be at least first.", "last")


class ShipmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    batch_id = fields.Integer(dump_only=True)
    buyer_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    buyer_kind = fields.Enum(BuyerKind, by_value=True, required=True)
    buyer_address = fields.String(validate=validate.Length(max=200))
    buyer_commune_code = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=99999),
                                        metadata={"description": "The buyer's commune, by its official code."})
    buyer_phone = fields.String(validate=validate.Length(max=20))
    shipped_on = fields.Date(required=True)
    quantity = fields.Decimal(required=True, places=2, as_string=True,
                              metadata={"type": "string", "format": "decimal", "example": "250.00"})
    unit = fields.String(validate=validate.Length(max=20), metadata={"description": "Default: the batch's unit."})
    note = fields.String(validate=validate.Length(max=2000))
    ranges = fields.List(fields.Nested(StampRangeSchema), metadata={"description": "The stamp serials that went, per run."})
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)
