"""Administration: cooperatives and user accounts. Admins only."""
from flask import Blueprint

from app.guards import require_role
from app.models import Role

bp = Blueprint("admin", __name__)


@bp.before_request
def admins_only():
    return require_role(Role.ADMIN)


from app.admin import views  # noqa: E402,F401
