"""/api/v1/runs: label runs and their serial ranges, as the dashboard's run pages do them (app/coop/runs.py):
label_runs orders a run, run_queue puts it in line for a label worker (run_processing prints it), run_rendering
keeps its PDF, stamp_ranges activates and voids serials. Ordering answers 202 with the run's Location to poll."""
import secrets

from flask import url_for
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import select

from app.api.v1 import problems
from app.api.v1.access import coop_id
from app.api.v1.blueprints import resource_blueprint
from app.api.v1.conditional import IDEMPOTENCY_DOC, etag_header, idempotent
from app.api.v1.paging import PageQuerySchema, page_schema, paginate
from app.models import LabelRun, RunStatus
from app.schemas.runs import RangeDoneSchema, RangeSchema, RunOrderSchema, RunSchema, VoidSchema
from app.services import label_runs, run_queue, run_rendering, stamp_ranges
from app.services.errors import lazy_text as _l
from app.services.identifiers import filename_part
from app.storage import KeyMissing, Stored, send_stored

blp = resource_blueprint("runs", "Label runs (sheets of QR stamps): order, follow, download, activate and void serials.")
OPTION_FIELDS = ("ecc", "offset_x_mm", "offset_y_mm", "crop_marks", "outlines", "gs1_link")


def run_view(run: LabelRun) -> dict:
    """A run as the API shows it: its state, and its PDF's address once there is one."""
    done = run.status is RunStatus.DONE and run_rendering.has_pdf(run.id)
    return {
        "id": run.id, "product_id": run.product_id, "batch_id": run.batch_id, "count": run.count, "template": run.template,
        "status": run.status, "progress": run.progress, "error": run.error, "stale": run_queue.is_stale(run),
        "position": run_queue.position(run),
        "pdf": url_for("runs.RunPdf", run_id=run.id, _external=True) if done else None,
        "voided_at": run.voided_at, "void_reason": run.void_reason, "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


@blp.route("/runs")
class RunList(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(RunSchema))
    def get(self, args):
        """The cooperative's runs, oldest first."""
        page, status, headers = paginate(select(LabelRun).where(LabelRun.cooperative_id == coop_id()), LabelRun.id, args)
        page.items = [run_view(run) for run in page.items]
        return page, status, headers

    @idempotent
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.arguments(RunOrderSchema)
    @blp.response(202, RunSchema)
    def post(self, order):
        """Order a run: 202 at once, printed by a worker; poll its Location until `status` is done."""
        run, created = label_runs.create_run(
            coop_id(), product_id=order["product_id"], batch_id=order["batch_id"], count=order["count"],
            template=order["template"], options={k: order[k] for k in OPTION_FIELDS},
            request_token=secrets.token_urlsafe(24), actor_id=current_user.id,
            more_than_quantity=order["more_than_quantity"],
        )
        if created:
            run_queue.announce(run.id)  # when the broker is away the run waits, and is sent later
        return run_view(run), 202, {"Location": url_for(".RunItem", run_id=run.id, _external=True)}


@blp.route("/runs/<id:run_id>")
class RunItem(MethodView):
    @blp.response(200, RunSchema)
    def get(self, run_id):
        """A run's state: queued, minting, rendering, done or failed, with its progress."""
        run = label_runs.get_run(coop_id(), run_id)
        return run_view(run), 200, {**etag_header(run), "Cache-Control": "no-store"}


@blp.route("/runs/<id:run_id>/labels.pdf")
class RunPdf(MethodView):
    @blp.doc(responses={"200": {"description": "The run's label sheets.",
                                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                        "409": {"description": "The PDF is not ready yet."}})
    def get(self, run_id):
        """The PDF to print, once the run is done."""
        run = label_runs.get_run(coop_id(), run_id)  # another cooperative's run: 404, before anything is signed
        name = f"tem-{filename_part(run.batch.lot_code) if run.batch else 'trang'}-{run_id}.pdf"
        try:
            if run.status is RunStatus.DONE:
                return send_stored(Stored(run_rendering.pdf_key(run_id), run_rendering.PDF_TYPE, name))
        except KeyMissing:
            pass
        return problems.problem(409, _l("The PDF is not ready yet."))


@blp.route("/runs/<id:run_id>/retry")
class RunRetry(MethodView):
    @blp.response(202, RunSchema)
    def post(self, run_id):
        """Put a failed, cancelled or interrupted run (or a done run whose PDF is gone) back in the queue: the same codes."""
        run_queue.restart(coop_id(), run_id)
        run = label_runs.get_run(coop_id(), run_id)
        return run_view(run), 202, {"Location": url_for(".RunItem", run_id=run.id, _external=True)}


@blp.route("/runs/<id:run_id>/cancel")
class RunCancel(MethodView):
    @blp.response(200, RunSchema)
    def post(self, run_id):
        """Cancel a run: a queued one at once (`cancelled`); one being printed stops at its worker's next
        progress report, and no stamp or PDF of it remains. A finished run is 422: void its stamps instead."""
        run_queue.cancel(coop_id(), run_id, current_user.id)
        return run_view(label_runs.get_run(coop_id(), run_id))


@blp.route("/runs/<id:run_id>/ranges")
class RunRanges(MethodView):
    @blp.arguments(RangeSchema)
    @blp.response(200, RangeDoneSchema)
    def post(self, values, run_id):
        """Activate serials first–last onto a batch (blank stamps), or void them (a reason is required)."""
        label_runs.get_run(coop_id(), run_id)
        first, last, reason = values["first"], values["last"], values["reason"]
        if values["action"] == "void":
            done = stamp_ranges.void_range(coop_id(), run_id, first, last, current_user.id, reason=reason)
        else:
            done = stamp_ranges.activate_range(coop_id(), run_id, first, last, values["batch_id"], current_user.id, reason)
        return {"action": values["action"], "stamps": done}


@blp.route("/runs/<id:run_id>/void")
class RunVoid(MethodView):
    @blp.arguments(VoidSchema)
    @blp.response(200, RunSchema)
    def post(self, values, run_id):
        """Void every stamp of the run (a lost roll), with the reason."""
        run = stamp_ranges.void_run(coop_id(), run_id, values["reason"], current_user.id)
        return run_view(run)
