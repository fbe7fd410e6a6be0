from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import SignInForm
from app.rate_limits import rate_limited
from app.models import Role
from app.services import audit
from app.services.accounts import authenticate

HOME_BY_ROLE = {Role.MEMBER: "coop.dashboard", Role.OFFICER: "commune.index", Role.ADMIN: "admin.index"}


def safe_next(target: str | None) -> str | None:
    """Only a same-site relative path: never another host, scheme or protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def home_for(user) -> str:
    return url_for(HOME_BY_ROLE[user.role])


@bp.route("/sign-in", methods=["GET", "POST"])
@rate_limited("SIGN_IN_LIMIT")
def sign_in():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.login.data, form.password.data)
        if user is None:
            audit.record("sign_in_failed", detail=f"login: {form.login.data}", commit=True)
            form.password.errors.append(_("Wrong login or password, or the account is disabled."))
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session: nothing from before sign-in carries over
            if lang:
                session["lang"] = lang
            login_user(user)
            audit.record("sign_in", entity="user", entity_id=user.id, cooperative_id=user.cooperative_id, actor=user, commit=True)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
    status = 422 if form.errors else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.home"))
