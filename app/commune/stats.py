"""The commune officer's read-only view of a product's or a run's scan statistics, for cooperatives in the
officer's own communes (any other is a 404): the cooperative's pages without their void forms."""
from flask_login import current_user

from app.commune import bp
from app.coop.stats import stats_page
from app.extensions import db
from app.models import LabelRun, Product
from app.services import scan_stats


@bp.route("/products/<int:product_id>/scans")
def product_scans(product_id: int):
    scope = scan_stats.officer_product_scope(current_user.id, product_id)
    return stats_page("commune/scan_stats.html", scope, scan_stats.batch_places(scope),
                      product=db.session.get(Product, scope.product_id), run=None, read_only=True)


@bp.route("/runs/<int:run_id>/scans")
def run_scans(run_id: int):
    scope = scan_stats.officer_run_scope(current_user.id, run_id)
    return stats_page("commune/scan_stats.html", scope, scan_stats.run_places(scope),
                      product=db.session.get(Product, scope.product_id), run=db.session.get(LabelRun, run_id), read_only=True)
