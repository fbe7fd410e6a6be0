"""Marshmallow schemas for the JSON API, kept apart from the models."""
from marshmallow import Schema, fields, validate


class CommuneSchema(Schema):
    code = fields.Integer()
    name = fields.String()
    province = fields.Function(lambda c: c.province.name)
    label = fields.Function(lambda c: f"{c.name}, {c.province.name}")


class CommuneQuerySchema(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=80))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))
