"""One guard per audience: a blueprint calls require_role() in its before_request."""
from flask import abort, redirect, request, url_for
from flask_login import current_user

from app.models import Role


def require_role(role: Role):
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if current_user.role is not role:
        abort(403)
    return None
