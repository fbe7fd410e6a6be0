"""One guard per audience: a blueprint calls require_role() in its before_request."""
from flask import abort
from flask_login import current_user

from app.form_drafts import sign_in_again
from app.models import Role


def require_role(role: Role):
    if not current_user.is_authenticated:
        return sign_in_again()
    if current_user.role is not role:
        abort(403)
    return None
