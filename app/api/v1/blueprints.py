"""What every /api/v1 resource blueprint shares: authentication, CSRF only for session requests, and a
service's RuleViolation answered as a 422 problem."""
from flask_smorest import Blueprint

from app.api.v1 import access, problems
from app.extensions import csrf
from app.services.errors import RuleViolation


def resource_blueprint(name: str, description: str, *, members_only: bool = True) -> Blueprint:
    blp = Blueprint(name, __name__, url_prefix="/api/v1", description=description)
    csrf.exempt(blp)  # token requests carry no CSRF token; access.authenticate checks it for session writes
    blp.before_request(access.authenticate)
    if members_only:
        blp.before_request(access.require_member)
    blp.register_error_handler(RuleViolation, problems.from_rule_violation)
    return blp
