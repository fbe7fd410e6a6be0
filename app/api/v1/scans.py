"""/api/v1/scans/daily: how often the member's cooperative's stamps were scanned, per product and day in
Vietnam, through app/services/scan_stats.py. Another cooperative's product is a 404."""
from flask.views import MethodView

from app.api.v1.access import coop_id
from app.api.v1.blueprints import resource_blueprint
from app.i18n import local_today
from app.schemas.scans import DailyScanQuerySchema, DailyScanReportSchema
from app.services import scan_stats

blp = resource_blueprint("scans", "A cooperative's scans per product and day.")


@blp.route("/scans/daily")
class DailyScans(MethodView):
    @blp.arguments(DailyScanQuerySchema, location="query")
    @blp.response(200, DailyScanReportSchema)
    def get(self, args):
        """Scans of the cooperative's stamps per product and day (days in Vietnam), every day of the range
        listed; at most 366 days (a longer range is a 422)."""
        return scan_stats.daily_scans(coop_id(), args["first"], args["last"], local_today(), args["product_id"])
