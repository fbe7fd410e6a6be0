"""A cooperative's notices (the full list, marking read) and its inbox of consumers' reports of fakes."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField

from app.coop import bp
from app.coop.views import coop_id
from app.forms import ServiceForm, long_text
from app.models import NoticeKind, ReportStatus
from app.pages import saved
from app.services import notices, report_inbox


class ReportStatusForm(ServiceForm):
    """Moving a report along: the pressed button names the state; closing needs the note."""
    status = SelectField(_l("State"), choices=[(s.value, s.value) for s in ReportStatus])
    note = long_text(_l("What did you find? (needed to close the report)"), 2000)


def notice_link(notice) -> str | None:
    """Where a notice leads: the report it is about, or its batch (which shows the listing and any recall)."""
    if notice.kind is NoticeKind.FAKE_REPORTED and notices.report_id(notice):
        return url_for("coop.reports", _anchor=f"report-{notices.report_id(notice)}")
    if notice.batch_id is not None:
        return url_for("coop.batch", batch_id=notice.batch_id)
    product_id = (notice.params or {}).get("product_id", "")  # an expiring certificate: its product
    if notice.kind in notices.OFFICER_KINDS and str(product_id).isdigit():
        return url_for("coop.product", product_id=int(product_id))
    return None


@bp.context_processor
def notice_helpers():
    return {"notice_sentence": notices.sentence, "notice_link": notice_link, "notice_titles": notices.KIND_TITLES}


@bp.route("/notices")
def notice_list():
    number = request.args.get("page", 1, type=int) or 1
    return render_template("coop/notices.html", found=notices.page(coop_id(), number))


# Where "mark read" goes back to: only these pages, never an address from the request.
BACK = {"dashboard": "coop.dashboard", "notices": "coop.notice_list"}


def _back():
    return redirect(url_for(BACK.get(request.form.get("back", ""), "coop.notice_list")))


@bp.route("/notices/<int:notice_id>/read", methods=["POST"])
def read_notice(notice_id: int):
    notices.mark_read(coop_id(), notice_id)
    return _back()


@bp.route("/notices/read-all", methods=["POST"])
def read_all_notices():
    notices.mark_all_read(coop_id())
    flash(_("All notices marked as read."), "success")
    return _back()


@bp.route("/reports")
def reports():
    return _reports_page()


def _reports_page(failed_id: int | None = None, failed_form=None):
    """The inbox; a state change just refused shows its form with the error and the typed note (422)."""
    page = render_template("coop/reports.html", items=report_inbox.cooperative_reports(coop_id()),
                           failed_id=failed_id, failed_form=failed_form)
    return page, 422 if failed_form is not None else 200


@bp.route("/reports/<int:report_id>/status", methods=["POST"])
def report_status(report_id: int):
    report = report_inbox.cooperative_report(coop_id(), report_id)
    form = ReportStatusForm()
    if form.validate() and saved(form, lambda: move_report(report, form)):
        flash(_("Report updated."), "success")
        return redirect(url_for(".reports", _anchor=f"report-{report_id}"))
    return _reports_page(report_id, form)


def move_report(report, form: ReportStatusForm):
    """The form's change applied by whoever is signed in (a member or an officer)."""
    return report_inbox.move(report, current_user.id,
                             report_inbox.Move(ReportStatus(form.status.data), form.note.data or ""))
