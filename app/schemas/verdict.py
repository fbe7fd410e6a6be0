"""The public verdict of a stamp (/api/v1/stamps/<code>/verdict): the same facts the scan page shows,
as app/scan/verdict.py judge() decides them."""
from marshmallow import Schema, fields

from app.schemas.fields import UtcDateTime

from app.scan.verdict import Headline, StampState, Tone
from app.services.listings import ListingStatus


class BadgeSchema(Schema):
    commune = fields.String()
    decided_at = UtcDateTime()
    valid_until = fields.Date()


class DecisionSchema(Schema):
    commune = fields.String()
    decided_at = UtcDateTime()
    valid_until = fields.Date(allow_none=True)


class RecallSchema(Schema):
    recalled_on = fields.Date()
    reason = fields.String()


class OverrideSchema(Schema):
    commune = fields.String()
    created_at = UtcDateTime()
    reason = fields.String()


class OcopSchema(Schema):
    stars = fields.Integer(allow_none=True)
    certificate_no = fields.String()
    expires_on = fields.Date(allow_none=True)
    valid = fields.Boolean()


class EvidenceSchema(Schema):
    scans = fields.Integer(metadata={"description": "Scans of this stamp, counting this request as the page would."})
    phones = fields.Integer()
    since = fields.Date()


class ProductFactsSchema(Schema):
    name = fields.String(attribute="product_name")
    gtin = fields.String(allow_none=True)
    lot_code = fields.String(allow_none=True)


class VerdictSchema(Schema):
    code = fields.String(metadata={"description": "The stamp's code, normalised."})
    headline = fields.Enum(Headline, by_value=True)
    tone = fields.Enum(Tone, by_value=True)
    stamp = fields.Enum(StampState, by_value=True)
    listing = fields.Enum(ListingStatus, by_value=True, allow_none=True)
    also = fields.Enum(Headline, by_value=True, allow_none=True)
    badge = fields.Nested(BadgeSchema, allow_none=True)
    evidence = fields.Nested(EvidenceSchema)
    recall = fields.Nested(RecallSchema, allow_none=True)
    decision = fields.Nested(DecisionSchema, allow_none=True)
    override = fields.Nested(OverrideSchema, allow_none=True)
    best_before = fields.Date(allow_none=True)
    ocop = fields.Nested(OcopSchema, allow_none=True)
    product = fields.Nested(ProductFactsSchema)
