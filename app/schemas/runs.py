"""Schemas of label runs (a printed sheet of stamps) and their serial ranges in /api/v1. The rules (which
products and batches may get stamps, the run size, the sheets, over-printing, ranges) are the services'."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.models import RunStatus
from app.schemas.fields import MAX_ID, UtcDateTime, id_field

MAX_REASON = 300


class RunOrderSchema(Schema):
    product_id = id_field(required=True)
    batch_id = id_field(load_default=None, allow_none=True,
                        metadata={"description": "The batch the stamps are for; none for blank stamps activated later."})
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    template = fields.String(load_default="a4-65", validate=validate.Length(min=1, max=40),
                             metadata={"description": "A label sheet, as `flask labels templates` lists them."})
    ecc = fields.String(load_default="M", validate=validate.OneOf(["L", "M", "Q", "H"]))
    offset_x_mm = fields.Float(load_default=0.0, validate=validate.Range(min=-10, max=10))
    offset_y_mm = fields.Float(load_default=0.0, validate=validate.Range(min=-10, max=10))
    crop_marks = fields.Boolean(load_default=False)
    outlines = fields.Boolean(load_default=False)
    gs1_link = fields.Boolean(load_default=False)
    more_than_quantity = fields.Boolean(load_default=False, metadata={
        "description": "Confirms printing more stamps than the batch has pieces (recorded in the audit trail)."})


class RunSchema(Schema):
    id = fields.Integer()
    product_id = fields.Integer()
    batch_id = fields.Integer(allow_none=True)
    count = fields.Integer()
    template = fields.String()
    status = fields.Enum(RunStatus, by_value=True)
    progress = fields.Integer(metadata={"description": "Percent done."})
    error = fields.String()
    stale = fields.Boolean(metadata={"description": "The worker stopped reporting: POST …/retry."})
    position = fields.Integer(allow_none=True, metadata={
        "description": "While queued: how many runs are ahead of it in the fair queue (0: next); otherwise null."})
    pdf = fields.String(allow_none=True, metadata={"description": "The PDF's URL once the run is done."})
    voided_at = UtcDateTime(allow_none=True)
    void_reason = fields.String()
    created_at = UtcDateTime()
    finished_at = UtcDateTime(allow_none=True)


class RangeSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["activate", "void"]))
    first = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    last = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    batch_id = id_field(load_default=None, allow_none=True, metadata={"description": "For activate: the batch."})
    reason = fields.String(load_default="", validate=validate.Length(max=MAX_REASON),
                           metadata={"description": "Required to void; a note when activating."})

    @validates_schema
    def _batch_to_activate_onto(self, data, **kwargs):
        if data.get("action") == "activate" and data.get("batch_id") is None:
            raise ValidationError("Missing data for required field.", "batch_id")


class RangeDoneSchema(Schema):
    action = fields.String()
    stamps = fields.Integer(metadata={"description": "Stamps activated or voided."})


class VoidSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REASON))
