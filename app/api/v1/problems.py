"""Errors of /api/v1 as RFC 9457 problem details (`application/problem+json`): `type`, `title` (the HTTP
status phrase), `status`, `detail` in the request's language, and `errors`, one entry per refused field."""
import json
from collections.abc import Iterator

from flask import Response, current_app, g, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from app.i18n import language_code
from app.services.errors import RuleViolation

PREFIX = "/api/v1/"
MEDIA_TYPE = "application/problem+json"
INVALID_FIELDS_TYPE = "/api/v1/problems/invalid-fields"

DETAILS = {
    400: _l("The request could not be understood."),
    401: _l("Send a valid access token in the Authorization header: Bearer followed by the token."),
    403: _l("Your account or this token may not do this."),
    404: _l("Nothing was found at this address."),
    405: _l("This method is not allowed at this address."),
    409: _l("A request with this idempotency key is still being processed. Try again in a moment."),
    412: _l("The object has changed since you read it. Read it again and apply your change to the new version."),
    413: _l("The request is too large."),
    415: _l("Send the body as JSON (Content-Type: application/json)."),
    422: _l("Some fields are not valid."),
    428: _l("Send If-Match with the ETag you got when you last read this object."),
    429: _l("Too many requests. Wait a minute and try again."),
    500: _l("Something went wrong on our side. Please try again."),
    503: _l("The system is busy. Please try again in a few seconds."),
}


LANGUAGES = ("vi", "en")

# marshmallow's own messages for the commonest mistakes, so that they too come in the request's language.
SCHEMA_MESSAGES = {
    "Missing data for required field.": _l("Missing data for required field."),
    "Unknown field.": _l("Unknown field."),
    "Field may not be null.": _l("Field may not be null."),
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid date.": _l("Not a valid date."),
    "Not a valid boolean.": _l("Not a valid boolean."),
    "Not a valid number.": _l("Not a valid number."),
    "Invalid input type.": _l("Invalid input type."),
    "Must be at least 0 and less than 10000000000.": _l("Must be at least 0 and less than 10000000000."),
    "Must be at least first.": _l("Must be at least first."),
}


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def choose_language() -> None:
    """Programs say which language they want in Accept-Language (Vietnamese when they do not): it sets
    the language of the `detail` texts for this request, before anything is translated."""
    if is_api_request():
        g.language = request.accept_languages.best_match(LANGUAGES) or "vi"


def problem(status: int, detail=None, *, errors: list[dict] | None = None, type_: str = "about:blank",
            headers: dict | None = None) -> Response:
    body = {
        "type": type_,
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": str(detail or DETAILS.get(status) or DETAILS[500]),
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype=MEDIA_TYPE, headers=headers)
    response.headers["Content-Language"] = language_code()
    if status == 405:
        response.headers["Allow"] = ", ".join(sorted(_allowed_methods()))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _allowed_methods() -> set[str]:
    adapter = current_app.url_map.bind_to_environ(request.environ)
    return set(adapter.allowed_methods(request.path))


def field_errors(messages, location: str = "json", prefix: str = "") -> Iterator[dict]:
    """webargs/marshmallow's nested messages ({"json": {"name": ["…"]}}) as a flat list of field errors,
    each message translated when it is one of ours."""
    if isinstance(messages, dict):
        for name, inner in messages.items():
            yield from field_errors(inner, location, f"{prefix}.{name}" if prefix else str(name))
    elif isinstance(messages, (list, tuple)):
        for message in messages:
            yield from field_errors(message, location, prefix)
    else:
        message = SCHEMA_MESSAGES.get(str(messages), messages)
        yield {"field": prefix or "_schema", "in": location, "detail": str(message)}


def from_http_exception(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    errors = []
    for location, messages in (data.get("messages") or {}).items():
        errors.extend(field_errors(messages, location))
    headers = dict(data.get("headers") or {})
    if isinstance(error, MethodNotAllowed):
        headers.pop("Allow", None)
    return problem(error.code or 500, data.get("message"), errors=errors,
                   type_=INVALID_FIELDS_TYPE if errors else "about:blank", headers=headers)


def from_rule_violation(violation: RuleViolation) -> Response:
    """A service's refusal: 422 naming the field (the JSON name is the service's field name)."""
    error = {"field": violation.field, "in": "json", "detail": str(violation.message)}
    return problem(422, errors=[error], type_=INVALID_FIELDS_TYPE)
