"""Cursor pagination: a list is walked in id order; each page's `next` link carries an opaque, signed
cursor naming the last id seen, so rows added or removed meanwhile never make a walk skip or repeat one."""
from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_smorest import abort
from itsdangerous import BadSignature, URLSafeSerializer
from marshmallow import Schema, fields, validate
from sqlalchemy import Select

from app.extensions import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
SALT = "api-v1-cursor"


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": "Items per page."})
    cursor = fields.String(load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "The cursor from the previous page's `next` link."})


def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """The schema of one page of a list of item_schema."""
    return type(f"{item_schema.__name__.removesuffix('Schema')}PageSchema", (Schema,), {
        "items": fields.List(fields.Nested(item_schema)),
        "next": fields.String(allow_none=True, metadata={"description": "The next page's URL, or null on the last page."}),
    })


@dataclass
class Page:
    items: list
    next: str | None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def _after(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        after = _serializer().loads(cursor)
    except BadSignature:
        after = None
    if not isinstance(after, int):
        abort(422, messages={"query": {"cursor": [str(_l("This cursor is not valid: start again from the first page."))]}})
    return after


def paginate(stmt: Select, id_column, args: dict) -> tuple[Page, int, dict]:
    """One page of stmt (already scoped to the caller), with a `next` link and a Link header."""
    rows = list(db.session.scalars(stmt.where(id_column > _after(args["cursor"])).order_by(id_column).limit(args["limit"] + 1)))
    items, more = rows[: args["limit"]], len(rows) > args["limit"]
    next_url = None
    headers = {}
    if more:
        query = {k: v for k, v in request.args.items() if k != "cursor"}
        next_url = url_for(request.endpoint, **(request.view_args or {}), **query,
                           cursor=_serializer().dumps(items[-1].id), _external=True)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return Page(items, next_url), 200, headers
