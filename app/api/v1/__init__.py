"""JSON API v1 (flask-smorest): the OpenAPI 3 document at /api/v1/openapi.json, the interactive docs at
/api/v1/docs, errors as problem+json, personal access tokens, cursor pagination, ETags, idempotent creates."""
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask
from werkzeug.exceptions import HTTPException

from app.api.v1 import problems
from app.api.v1.ids import IdConverter, id_doc
from app.extensions import api
from app.schemas.problems import ProblemSchema

SETTINGS = {
    "API_TITLE": "OCOP Trace API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}
SPEC = {
    "info": {"description": "A cooperative's products, certifications, batches, production diary and label runs; "
             "a commune officer's listings, decisions and recalls; any stamp's public verdict. Authenticate with a "
             "personal access token made on your account page: `Authorization: Bearer …`. Errors are "
             "application/problem+json (RFC 9457)."},
    "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearerAuth": []}],
}


def schema_name(schema) -> str:
    """Names in the OpenAPI document: `Product`, and `ProductChanges` for its partial (PATCH) form."""
    name = resolve_schema_cls(schema).__name__.removesuffix("Schema")
    return f"{name}Changes" if getattr(schema, "partial", False) else name


def register(app: Flask) -> None:
    from app.api import tokens_page
    from app.api.v1 import batches, docs, epcis, listings, photos, products, runs, scans, shipments, stamps

    for name, value in SETTINGS.items():
        app.config.setdefault(name, value)
    app.url_map.converters["id"] = IdConverter
    api.ERROR_SCHEMA = ProblemSchema
    api.init_app(app, spec_kwargs={**SPEC, "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name)})
    # flask-smorest answers every HTTP error in its own JSON; /api/v1 answers problem+json and the
    # rest of the site keeps its pages.
    api.register_converter(IdConverter, id_doc)
    app.register_error_handler(HTTPException, _http_error)
    app.before_request(problems.choose_language)
    for blueprint in (products.blp, photos.blp, batches.blp, shipments.blp, runs.blp, listings.blp, scans.blp, stamps.blp, epcis.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    app.register_blueprint(tokens_page.bp)


def _http_error(error: HTTPException):
    if problems.is_api_request():
        return problems.from_http_exception(error)
    return error
