"""After printing: what happens to the stamps of one product or one run (scans, first scans and where they come
from, suspected copies, activations and voids), for the cooperative's own members. Another cooperative's
product or run is a 404 (scan_stats.product_scope / run_scope). The commune officer's read-only pages
(app/commune/stats.py) are built by stats_page too."""
from datetime import date

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from wtforms.validators import Optional

from app.coop import bp
from app.coop.views import coop_id
from app.forms import ServiceForm, _DayField
from app.i18n import local_today
from app.services import label_runs, products, scan_stats
from app.services.errors import RuleViolation


class DayRangeForm(ServiceForm):
    """The days a statistics page shows, from its query string (?from=&to=, both optional: the last 30 days).
    A GET form: it changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    first = _DayField(_l("From day"), [Optional()], name="from")
    last = _DayField(_l("To day"), [Optional()], name="to")

    FIELD_OF = {"from": "first", "to": "last"}  # scan_stats.day_range names the query's parameters

    def add_error(self, violation: RuleViolation) -> None:
        super().add_error(RuleViolation(self.FIELD_OF.get(violation.field, violation.field), violation.message))


def _days(form: DayRangeForm) -> tuple[date, date]:
    """The range asked for; when it is refused (the error stays on the form), the default 30 days."""
    today = local_today()
    if form.validate():
        try:
            return scan_stats.day_range(form.first.data, form.last.data, today)
        except RuleViolation as refused:
            form.add_error(refused)
    return scan_stats.day_range(None, None, today)


def stats_page(template: str, scope: scan_stats.StampScope, places: scan_stats.Places, **context):
    """The statistics of a scope's stamps over the days asked for (422 with the form's error when refused)."""
    form = DayRangeForm(formdata=request.args)
    first, last = _days(form)
    first_scans = scan_stats.first_scans(scope, places)
    page = render_template(
        template, form=form, first=first, last=last, places=places,
        scans=scan_stats.scans_by_day_and_place(scope, places, first, last), first_scans=first_scans.in_range(first, last),
        totals=scan_stats.stamp_totals(scope, first_scans.stamps), copies=scan_stats.copied_stamps(scope),
        changes=scan_stats.range_changes_per_day(scope, first, last), **context)
    return page, 422 if form.errors else 200


@bp.route("/products/<int:product_id>/scans")
def product_scans(product_id: int):
    scope = scan_stats.product_scope(coop_id(), product_id)
    return stats_page("coop/product_stats.html", scope, scan_stats.batch_places(scope),
                       product=products.get_product(coop_id(), product_id))


@bp.route("/runs/<int:run_id>/scans")
def run_scans(run_id: int):
    scope = scan_stats.run_scope(coop_id(), run_id)
    return stats_page("coop/run_stats.html", scope, scan_stats.run_places(scope), run=label_runs.get_run(coop_id(), run_id))
