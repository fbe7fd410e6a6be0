"""Conditional requests and idempotent creates.

Every single object is sent with a strong `ETag` naming its version (id and last change time); updates and
deletes must send it back in `If-Match` (428 without it, 412 when the object changed since), so that a
client that was offline cannot overwrite a newer change. Creates may carry an `Idempotency-Key`."""
import hashlib
import json
from functools import wraps

from flask import Response, abort, request
from flask_login import current_user

from app.services import idempotency


def etag_of(row) -> str:
    """A version tag: changes whenever the row's updated_at does (every change through a service)."""
    return f"{row.id}-{row.updated_at:%Y%m%d%H%M%S%f}"


def etag_header(row) -> dict:
    return {"ETag": f'"{etag_of(row)}"'}


def require_current(row) -> None:
    """For updates and deletes: 428 without If-Match, 412 when it does not name this version."""
    if not request.if_match:
        abort(428)
    if not request.if_match.contains(etag_of(row)):
        abort(412)


def idempotent(view):
    """For a create view (outermost, around the schema decorators): with an Idempotency-Key, the first
    successful answer is kept for 24 hours and sent again for a retry with the same key and body."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            return view(*args, **kwargs)
        fingerprint = idempotency.request_fingerprint(request.method, request.path, _request_body())
        try:
            stored = idempotency.begin(current_user.id, key, fingerprint)
        except idempotency.KeyInUse:
            abort(409)
        if stored is not None:
            return _replay(stored)
        try:
            response = view(*args, **kwargs)
        except BaseException:
            idempotency.release(current_user.id, key)
            raise
        if 200 <= response.status_code < 300:
            idempotency.finish(current_user.id, key, response.status_code, response.get_data(as_text=True),
                               response.headers.get("Location", ""))
        else:
            idempotency.release(current_user.id, key)
        return response

    return wrapper


def _request_body() -> bytes:
    """What identifies a request's body: its bytes, except for multipart/form-data, whose boundary a client
    draws anew for each attempt: there the form's fields and the SHA-256 of each file's content."""
    if request.mimetype != "multipart/form-data":
        return request.get_data()
    files = {}
    for name, upload in request.files.items(multi=True):
        digest = hashlib.sha256()
        for chunk in iter(lambda: upload.stream.read(65536), b""):
            digest.update(chunk)
        upload.stream.seek(0)
        files.setdefault(name, []).append(digest.hexdigest())
    return json.dumps({"form": request.form.to_dict(flat=False), "files": files}).encode()


def _replay(stored: idempotency.StoredAnswer) -> Response:
    response = Response(stored.body, stored.status, mimetype="application/json")
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response



# How the OpenAPI document describes these headers (the views are decorated with @blp.doc(**…)).
IF_MATCH_DOC = {
    "parameters": [{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
                    "description": "The ETag from your last read of this object."}],
    "responses": {"412": {"description": "The object changed since that read."},
                  "428": {"description": "If-Match is missing."}},
}
IDEMPOTENCY_DOC = {
    "parameters": [{"in": "header", "name": "Idempotency-Key", "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": "Retry with the same key and body to get the first answer back (kept 24 hours)."}],
    "responses": {"409": {"description": "The first request with this key is still running."}},
}
