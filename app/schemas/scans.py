"""Schemas of a cooperative's scans per day in /api/v1 (app/services/scan_stats.py)."""
from marshmallow import Schema, fields

from app.schemas.fields import id_field
from app.services.scan_stats import DEFAULT_DAYS, MAX_DAYS


class DailyScanQuerySchema(Schema):
    first = fields.Date(data_key="from", load_default=None,
                        metadata={"description": f"First day, in Vietnam (default: {DEFAULT_DAYS} days ending on `to`)."})
    last = fields.Date(data_key="to", load_default=None,
                       metadata={"description": f"Last day, in Vietnam (default: today). At most {MAX_DAYS} days in all."})
    product_id = id_field(load_default=None, metadata={"description": "Only this product of the cooperative."})


class DailyScansSchema(Schema):
    product_id = fields.Integer()
    product = fields.String()
    days = fields.List(fields.Date())
    counts = fields.List(fields.Integer(), metadata={"description": "Scans on each of `days`, in Vietnam's days."})


class DailyScanReportSchema(Schema):
    first = fields.Date(data_key="from")
    last = fields.Date(data_key="to")
    series = fields.List(fields.Nested(DailyScansSchema), metadata={"description": "One per product scanned in the range."})
