"""Pages anyone may open: the home page, photos and the language switch."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from app.public import views  # noqa: E402,F401
