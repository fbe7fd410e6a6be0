"""Schemas of the commune officer's listings (a batch to verify) in /api/v1."""
from marshmallow import Schema, fields, validate

from app.models import Outcome
from app.schemas.fields import UtcDateTime
from app.services.listings import ListingStatus

MAX_REASON = 2000


class VerificationSchema(Schema):
    id = fields.Integer()
    outcome = fields.Enum(Outcome, by_value=True)
    reason = fields.String()
    decided_at = UtcDateTime()
    valid_until = fields.Date(allow_none=True)


class ListingSchema(Schema):
    batch_id = fields.Integer(attribute="batch.id")
    lot_code = fields.String(attribute="batch.lot_code")
    product = fields.String(attribute="batch.product.name")
    cooperative = fields.String(attribute="batch.product.cooperative.name")
    commune_code = fields.Integer(attribute="batch.product.cooperative.commune_code")
    status = fields.Enum(ListingStatus, by_value=True)
    decision = fields.Nested(VerificationSchema, allow_none=True, metadata={"description": "The latest decision."})


class VerifySchema(Schema):
    valid_until = fields.Date(load_default=None, allow_none=True,
                              metadata={"description": "Until when the verification holds (default: the usual term)."})


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=MAX_REASON))


class ScanSeriesSchema(Schema):
    product = fields.String()
    days = fields.List(fields.Date())
    counts = fields.List(fields.Integer())


class ScanSeriesListSchema(Schema):
    series = fields.List(fields.Nested(ScanSeriesSchema))


class ScanQuerySchema(Schema):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=366))
