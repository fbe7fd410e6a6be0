"""Pages anyone may open: the home page, photos and the language switch."""
from flask import Blueprint

bp = Blueprint("public", __name__)

@bp.context_processor
def diary_names():
    from app.vocabulary import EVENT_LABELS

    return {"kind_name": lambda kind: EVENT_LABELS.get(kind, "")}


from app.public import digital_link, views, webapp  # noqa: E402,F401
