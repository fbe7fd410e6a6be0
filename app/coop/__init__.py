"""The cooperative dashboard: only signed-in members, only their own cooperative's data."""
from flask import Blueprint

from app.guards import require_role
from app.models import Role

bp = Blueprint("coop", __name__)


@bp.before_request
def members_only():
    return require_role(Role.MEMBER)


@bp.context_processor
def diary_labels():
    from app.vocabulary import BUYER_LABELS, EVENT_LABELS, INPUT_LABELS

    return {"kind_labels": EVENT_LABELS, "input_labels": INPUT_LABELS, "buyer_labels": BUYER_LABELS}


from app.coop import epcis, imports, label_templates, notices, portal, runs, shipments, stats, views  # noqa: E402,F401
from app.coop import diary_app  # noqa: E402,F401  (the phone diary)
