from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from app.commune import bp
from app.extensions import db
from app.models import Cooperative


@bp.route("/")
def index():
    codes = [c.code for c in current_user.communes]
    coops = db.session.scalars(
        select(Cooperative).where(Cooperative.commune_code.in_(codes)).order_by(Cooperative.name)
    )
    return render_template("commune/index.html", cooperatives=list(coops), communes=current_user.communes)
