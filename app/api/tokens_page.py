"""The "API tokens" page of My account (/account/tokens): make a personal access token (its secret shown
once, on the answer to the form, never stored), see each token's access and when it was last used, revoke."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import RadioField

from app.forms import ServiceForm, text
from app.pages import form_page, saved
from app.services import api_tokens
from app.services.errors import lazy_text as _l

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")


class TokenForm(ServiceForm):
    name = text(_l("Name"), 80, is_required=True)
    access = RadioField(_l("Access"), choices=[("read", _l("Read only")), ("write", _l("Read and write"))], default="read")


def _page(form: TokenForm, new: api_tokens.NewToken | None = None):
    return form_page("account/tokens.html", form, tokens=api_tokens.list_tokens(current_user.id), new=new)


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    """The list and the form; a POST makes a token and shows its secret on this answer."""
    if request.method == "GET":
        return _page(TokenForm(formdata=None))
    form = TokenForm()
    new = None
    if form.validate_on_submit():
        new = saved(form, lambda: api_tokens.create_token(current_user.id, {"name": form.name.data},
                                                         form.access.data == "write"))
    if new is not None:  # shown on this answer only: a redirect would have to keep the secret somewhere
        return _page(TokenForm(formdata=None), new)
    return _page(form)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    api_tokens.revoke_token(current_user.id, token_id)
    flash(_("The token has been revoked: programs using it can no longer connect."), "success")
    return redirect(url_for(".index"))
