"""Who is calling /api/v1: a personal access token (`Authorization: Bearer …`), or, for our own pages, the
browser's signed-in session (whose writes then need the CSRF token, as a form's would)."""
from flask import abort, g, request
from flask_login import current_user

from app.extensions import csrf, login_manager
from app.models import Role
from app.services import api_tokens

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def authenticate() -> None:
    """A blueprint's before_request: 401 without a valid token or session (a token of a disabled user is
    not valid), 403 when a read-only token tries to write. A token, when sent, wins over the session.
    OPTIONS only lists the methods (Flask answers it), so it needs no one."""
    if request.method == "OPTIONS":
        return
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        found = api_tokens.token_user(secret.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            abort(401)
        user, token = found
        login_manager._update_request_context_with_user(user)
        g.api_token = token
    elif current_user.is_authenticated:
        g.api_token = None
        if request.method not in SAFE_METHODS:
            csrf.protect()
    else:
        abort(401)
    if request.method not in SAFE_METHODS and g.api_token is not None and not g.api_token.can_write:
        abort(403)


def require_member() -> None:
    """Cooperative resources are for members of a cooperative; anyone else is refused (403)."""
    if request.method == "OPTIONS":
        return
    if current_user.role is not Role.MEMBER or current_user.cooperative_id is None:
        abort(403)


def coop_id() -> int:
    return current_user.cooperative_id
