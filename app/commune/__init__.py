"""Commune staff: cooperatives and listings in the officer's own communes."""
from flask import Blueprint

from app.guards import require_role
from app.models import Role

bp = Blueprint("commune", __name__)


@bp.before_request
def officers_only():
    return require_role(Role.OFFICER)


@bp.context_processor
def commune_globals() -> dict:
    from app.services import notices
    from app.services.listings import ListingStatus
    from app.vocabulary import EVENT_LABELS

    return {"kind_name": lambda kind: EVENT_LABELS.get(kind, ""), "ListingStatus": ListingStatus,
            "notice_sentence": notices.sentence, "notice_titles": notices.KIND_TITLES}


from app.commune import accounts, stats, views  # noqa: E402,F401
