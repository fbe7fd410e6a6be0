"""The shape of /api/v1's errors (RFC 9457 problem details), for the OpenAPI document."""
from marshmallow import Schema, fields


class FieldErrorSchema(Schema):
    field = fields.String(metadata={"description": "The field, as named in the request (`a.b` when nested)."})
    location = fields.String(data_key="in", metadata={"description": "json, query or header"})
    detail = fields.String()


class ProblemSchema(Schema):
    type = fields.String(metadata={"description": "`about:blank`, or `/api/v1/problems/invalid-fields` with `errors`."})
    title = fields.String(metadata={"description": "The HTTP status phrase."})
    status = fields.Integer()
    detail = fields.String(metadata={"description": "What went wrong, in the language of Accept-Language (vi or en)."})
    errors = fields.List(fields.Nested(FieldErrorSchema))
