from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user

from app.admin import bp
from app.admin.forms import ROLE_LABELS, BannedSubstancesForm, TradeNameForm, UserEditForm, UserForm
from app.audit_page import audit_csv as audit_csv_download, audit_page
from app.auth.views import reset_link_page
from app.coop.forms import CooperativeForm
from app.pages import form_page, saved, upload
from app.services import accounts, audit, compliance, cooperatives, report_inbox
from app.services.errors import RuleViolation
from app.services.geo import commune_label, resolve_commune


@bp.route("/")
def index():
    return render_template(
        "admin/index.html",
        cooperatives=cooperatives.list_cooperatives(),
        users=accounts.list_users(),
        role_labels=ROLE_LABELS,
        unrouted_reports=report_inbox.unrouted_reports(),
    )


@bp.route("/cooperatives/new", methods=["GET", "POST"])
def new_cooperative():
    form = CooperativeForm()
    if form.validate_on_submit() and saved(form, lambda: cooperatives.create_cooperative(form.values(), current_user.id)):
        flash(_("Cooperative created."), "success")
        return redirect(url_for(".index"))
    return form_page("admin/cooperative_form.html", form)


@bp.route("/cooperatives/<int:coop_id>/edit", methods=["GET", "POST"])
def edit_cooperative(coop_id: int):
    """Every field of the creation form, checked by the same service path as the cooperative's own profile."""
    coop = cooperatives.get_cooperative(coop_id)
    form = CooperativeForm(obj=coop)
    if request.method == "GET":
        form.commune.data = commune_label(coop.commune)
    if form.validate_on_submit() and saved(
            form, lambda: cooperatives.update_cooperative(coop.id, form.values(), current_user.id, upload("logo"))):
        flash(_("Saved."), "success")
        return redirect(url_for(".index"))
    return form_page("admin/cooperative_form.html", form, cooperative=coop)


def _commune_codes(typed: str) -> list[int]:
    codes = []
    for label in filter(None, (part.strip() for part in typed.replace("\n", ";").split(";"))):
        found, _candidates = resolve_commune(label)
        if found is None:
            raise RuleViolation("communes", _l("No single commune matches “%(name)s”.", name=label))
        codes.append(found.code)
    return codes


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserForm()
    form.cooperative_id.choices = _cooperative_choices()
    if form.validate_on_submit():
        def create():
            return accounts.create_user(
                commune_codes=_commune_codes(form.communes.data or ""), actor_id=current_user.id, **form.values()
            )
        if saved(form, create):
            flash(_("Account created."), "success")
            return redirect(url_for(".index"))
    return form_page("admin/user_form.html", form)


def _cooperative_choices() -> list:
    return [("", "—")] + [(c.id, c.name) for c in cooperatives.list_cooperatives()]


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = accounts.get_user(user_id)
    form = UserEditForm(obj=user)
    form.cooperative_id.choices = _cooperative_choices()
    if request.method == "GET":
        form.communes.data = "; ".join(commune_label(c) for c in user.communes)
    if form.validate_on_submit():
        def update():
            return accounts.update_user(user.id, form.values(), _commune_codes(form.communes.data or ""), current_user.id)
        if saved(form, update):
            flash(_("Account saved."), "success")
            return redirect(url_for(".index"))
    return form_page("admin/user_form.html", form, user=user)


@bp.route("/users/<int:user_id>/reset-link", methods=["POST"])
def reset_link(user_id: int):
    return reset_link_page(accounts.create_reset_link(current_user, user_id))


@bp.route("/users/<int:user_id>/disabled", methods=["POST"])
def set_user_disabled(user_id: int):
    disable = request.form.get("disabled") == "1"
    if user_id == current_user.id and disable:
        flash(_("You cannot disable your own account."), "error")
    else:
        accounts.set_disabled(user_id, disable, current_user.id)
        flash(_("Account disabled.") if disable else _("Account enabled."), "success")
    return redirect(url_for(".index"))


@bp.route("/banned-substances", methods=["GET", "POST"])
def banned_substances():
    form = BannedSubstancesForm()
    if form.validate_on_submit():
        change = compliance.replace_banned_list((form.substances.data or "").splitlines())
        flash(_("The list now has %(n)s substances. Diaries are checked against it from now on.", n=change.substances), "success")
        _flash_recheck(change.recheck)
        return redirect(url_for(".banned_substances"))
    if not form.is_submitted():
        form.substances.data = "\n".join(f"{b.name}; {b.group}" if b.group else b.name for b in compliance.banned_list())
    return _banned_page(form, _trade_name_form())


def _trade_name_form() -> TradeNameForm:
    form = TradeNameForm(prefix="trade")
    form.substance_id.choices = [("", "—")] + [(b.id, b.name) for b in compliance.banned_list()]
    return form


def _banned_page(form: BannedSubstancesForm, trade_form: TradeNameForm):
    """The list with each substance's trade names, the form adding one, and the whole list as text; 422 when
    either form shows errors."""
    page = render_template("admin/banned_substances.html", form=form, trade_form=trade_form,
                           substances=compliance.banned_list())
    failed = form.errors or form.form_errors or trade_form.errors or trade_form.form_errors
    return page, 422 if failed else 200


def _flash_recheck(recheck: compliance.Recheck) -> None:
    """Say what the change did to the batches whose stamps are out, never nothing."""
    if recheck.blocked:
        flash(ngettext("This change blocks %(num)s batch with %(stamps)s stamps in circulation; its cooperative has been notified.",
                       "This change blocks %(num)s batches with %(stamps)s stamps in circulation; their cooperatives have been notified.",
                       recheck.blocked, stamps=format_decimal(recheck.stamps)), "warning")
    else:
        flash(_("This change blocks no batch with stamps in circulation."), "info")
    if recheck.unblocked:
        flash(ngettext("%(num)s batch with stamps in circulation is no longer blocked.",
                       "%(num)s batches with stamps in circulation are no longer blocked.", recheck.unblocked), "info")


@bp.route("/banned-substances/trade-names", methods=["POST"])
def add_trade_name():
    trade_form = _trade_name_form()
    if trade_form.validate_on_submit():
        recheck = saved(trade_form, lambda: compliance.add_trade_name(
            trade_form.substance_id.data, trade_form.name.data or "", trade_form.source.data or ""))
        if recheck is not None:
            flash(_("Trade name “%(name)s” added.", name=trade_form.name.data), "success")
            _flash_recheck(recheck)
            return redirect(url_for(".banned_substances"))
    form = BannedSubstancesForm(formdata=None)
    form.substances.data = "\n".join(f"{b.name}; {b.group}" if b.group else b.name for b in compliance.banned_list())
    return _banned_page(form, trade_form)


@bp.route("/banned-substances/trade-names/<int:trade_name_id>/delete", methods=["POST"])
def remove_trade_name(trade_name_id: int):
    recheck = compliance.remove_trade_name(trade_name_id)
    flash(_("Trade name removed."), "success")
    _flash_recheck(recheck)
    return redirect(url_for(".banned_substances"))


@bp.route("/audit")
def audit_trail():
    return audit_page("admin/audit.html", audit.Scope(), "admin.audit_csv")


@bp.route("/audit.csv")
def audit_csv():
    return audit_csv_download(audit.Scope(), "audit")
