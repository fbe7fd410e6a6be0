from math import ceil
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import PASSWORD_RULES, ChangePasswordForm, NewPasswordForm, SignInForm
from app.models import Role
from app.pages import form_page, saved
from app.rate_limits import KeyedLimit, rate_limited
from app.services import accounts, audit
from app.services.accounts import SESSION_KEY
from app.services.errors import NotFound

HOME_BY_ROLE = {Role.MEMBER: "coop.dashboard", Role.OFFICER: "commune.index", Role.ADMIN: "admin.index"}
# Failed sign-ins per account, whatever address they come from (SIGN_IN_LIMIT counts per address).
FAILED_SIGN_INS = KeyedLimit("sign_in_account", "SIGN_IN_ACCOUNT_LIMIT")


def safe_next(target: str | None) -> str | None:
    """Only a same-site relative path: never another host, scheme or protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def home_for(user) -> str:
    return url_for(HOME_BY_ROLE[user.role])


def _begin_session(user, token: str) -> None:
    """A fresh cookie holding the new session's token: nothing from before sign-in carries over but the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[SESSION_KEY] = token
    login_user(user)


@bp.route("/sign-in", methods=["GET", "POST"])
@rate_limited("SIGN_IN_LIMIT")
def sign_in():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignInForm()
    if form.validate_on_submit():
        login = accounts.normalise_login(form.login.data)
        if FAILED_SIGN_INS.used_up(login):
            audit.record("sign_in_failed", detail=f"login: {form.login.data} (too many failed attempts)", commit=True)
            minutes = max(1, ceil(FAILED_SIGN_INS.seconds_left(login) / 60))
            form.password.errors.append(_(
                "Too many failed sign-ins for this account. Try again in %(minutes)s minutes, or ask the administrator "
                "or your commune officer for a password reset link.", minutes=minutes))
            return render_template("auth/sign_in.html", form=form), 429
        # The counters are written on a connection of their own, so only after this request's transaction
        # has been committed: on SQLite that transaction holds the write lock the counter would wait for.
        user = accounts.authenticate(form.login.data, form.password.data)
        if user is None:
            audit.record("sign_in_failed", detail=f"login: {form.login.data}", commit=True)
            FAILED_SIGN_INS.hit(login)
            form.password.errors.append(_("Wrong login or password, or the account is disabled."))
        else:
            token = accounts.open_session(user, request.user_agent.string)
            FAILED_SIGN_INS.clear(login)
            _begin_session(user, token)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
    status = 422 if form.errors else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    accounts.end_session(session.get(SESSION_KEY))
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.home"))


def _account_page(form=None):
    form = form or ChangePasswordForm(formdata=None)
    sessions = accounts.active_sessions(current_user.id, session.get(SESSION_KEY))
    return form_page("account/index.html", form, sessions=sessions, password_rules=PASSWORD_RULES)


@bp.route("/account")
@login_required
def account():
    return _account_page()


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        ended = saved(form, lambda: accounts.change_password(
            current_user, form.current_password.data, form.new_password.data, session.get(SESSION_KEY)))
        if ended is not None:
            flash(_("Your password has been changed.") + " " + _("Signed out on %(n)s other devices.", n=ended), "success")
            return redirect(url_for(".account"))
    return _account_page(form)


@bp.route("/account/sessions/others/end", methods=["POST"])
@login_required
def end_other_sessions():
    ended = accounts.end_other_sessions(current_user, session.get(SESSION_KEY))
    flash(_("Signed out on %(n)s other devices.", n=ended), "success")
    return redirect(url_for(".account"))


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id: int):
    accounts.end_one_session(current_user, session_id)
    flash(_("That device has been signed out."), "success")
    return redirect(url_for(".account"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a one-time link. Opening the link changes nothing (chat apps open links
    to preview them); only sending the form uses it up."""
    form = NewPasswordForm()
    try:
        user = accounts.reset_link_user(token)
        login = user.login
        used = form.validate_on_submit() and saved(
            form, lambda: accounts.use_reset_link(token, form.new_password.data, request.user_agent.string))
    except NotFound:  # handled here: the error page would write the path, token and all, to the audit trail
        return _no_store(render_template("auth/reset.html", form=None, user=None), 404)
    if used:
        user, session_token = used
        FAILED_SIGN_INS.clear(login)  # committed above: no write lock held (see sign_in)
        accounts.end_session(session.get(SESSION_KEY))  # whoever was signed in on this browser before
        _begin_session(user, session_token)
        flash(_("Your new password is saved and you are signed in. Other devices have been signed out."), "success")
        return redirect(home_for(user))
    page = render_template("auth/reset.html", form=form, user=user, password_rules=PASSWORD_RULES)
    return _no_store(page, 422 if form.errors else 200)


def reset_link_page(link: accounts.ResetLink):
    """The link, shown this once (only its digest is kept), for an administrator or officer to send by Zalo or SMS."""
    url = url_for("auth.reset_password", token=link.token, _external=True)
    return _no_store(render_template("account/reset_link.html", link=link, url=url), 200)


def _no_store(body: str, status: int):
    """A page whose address is a secret is kept out of caches."""
    return body, status, {"Cache-Control": "no-store"}
