"""Commune officers help the members of cooperatives in their communes back into their accounts with a
one-time password-reset link. Officers' and administrators' accounts, and members elsewhere, are out of
reach (404, as if they did not exist)."""
from flask import render_template
from flask_login import current_user

from app.auth.views import reset_link_page
from app.commune import bp
from app.services import accounts
from app.services.listings import officer_communes


@bp.route("/members")
def members():
    found = accounts.members_in_communes(officer_communes(current_user.id))
    return render_template("account/members.html", members=found)


@bp.route("/members/<int:user_id>/reset-link", methods=["POST"])
def member_reset_link(user_id: int):
    return reset_link_page(accounts.create_reset_link(current_user, user_id))
