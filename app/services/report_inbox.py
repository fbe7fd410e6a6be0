"""Consumers' reports of fakes as an inbox shared by a cooperative and its commune officer.

A report of one of a cooperative's stamps shows to that cooperative and to the officers of its commune; a
report whose code names no stamp shows to no cooperative, only to the officers of the commune it was given.
Either side moves a report along: new → being checked → closed, and a closed one may be opened again. Closing
needs a note saying what was found. Each change is recorded in the audit trail with the change itself.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Batch, Cooperative, FakeReport, LabelRun, Product, ReportStatus, Stamp, User
from app.models.mixins import utcnow
from app.services import audit, identifiers, listings
from app.services.errors import NotFound, RuleViolation

SHOWN = 200  # newest reports listed; the counts count all

# Where a report may go from each state.
NEXT_STATES = {
    ReportStatus.NEW: (ReportStatus.CHECKING, ReportStatus.CLOSED),
    ReportStatus.CHECKING: (ReportStatus.CLOSED,),
    ReportStatus.CLOSED: (ReportStatus.CHECKING,),  # opened again
}

STATUS_LABELS = {
    ReportStatus.NEW: _l("New"),
    ReportStatus.CHECKING: _l("Being checked"),
    ReportStatus.CLOSED: _l("Closed"),
}


@dataclass(frozen=True)
class InboxItem:
    """A report with what its stamp names: product, batch and cooperative (empty for a forged code)."""
    report: FakeReport
    product: str
    batch_id: int | None
    lot_code: str
    cooperative: str


def _items(condition) -> list[InboxItem]:
    """The reports meeting the condition, open ones first, newest first."""
    rows = db.session.execute(
        select(FakeReport, Product.name, Batch.id, Batch.lot_code, Cooperative.name)
        .outerjoin(Stamp, Stamp.id == FakeReport.stamp_id).outerjoin(LabelRun, LabelRun.id == Stamp.run_id)
        .outerjoin(Product, Product.id == LabelRun.product_id).outerjoin(Batch, Batch.id == Stamp.batch_id)
        .outerjoin(Cooperative, Cooperative.id == FakeReport.cooperative_id)
        .where(condition).order_by(FakeReport.status == ReportStatus.CLOSED, FakeReport.id.desc()).limit(SHOWN)
    )
    return [InboxItem(report, product or "", batch_id, lot or "", coop or "") for report, product, batch_id, lot, coop in rows]


# The cooperative's side --------------------------------------------------------------------------------

def cooperative_reports(coop_id: int) -> list[InboxItem]:
    """Reports of the cooperative's own stamps: open ones first, newest first."""
    return _items(FakeReport.cooperative_id == coop_id)


def cooperative_report(coop_id: int, report_id: int) -> FakeReport:
    """One report of the cooperative's stamps; any other is NotFound, as if it did not exist."""
    report = db.session.get(FakeReport, report_id)
    if report is None or report.cooperative_id is None or report.cooperative_id != coop_id:
        raise NotFound
    return report


def new_count(coop_id: int) -> int:
    return db.session.scalar(select(func.count(FakeReport.id))
                             .where(FakeReport.cooperative_id == coop_id, FakeReport.status == ReportStatus.NEW))


# The officer's side ------------------------------------------------------------------------------------

def _in_communes(commune_codes: list[int]):
    return FakeReport.commune_code.in_(commune_codes)


def officer_reports(officer_id: int) -> list[InboxItem]:
    """Reports in the officer's communes: of their cooperatives' stamps, and of forged codes given there."""
    return _items(_in_communes(listings.officer_communes(officer_id)))


def officer_report(officer_id: int, report_id: int) -> FakeReport:
    report = db.session.get(FakeReport, report_id)
    if report is None or report.commune_code not in listings.officer_communes(officer_id):
        raise NotFound
    return report


# Reports nobody was given ------------------------------------------------------------------------------

def unrouted_reports() -> list[InboxItem]:
    """Reports of codes that name no stamp, from buyers whose place names no commune: no cooperative or
    officer sees them, so the administrators do."""
    return _items(FakeReport.commune_code.is_(None))


# Moving a report along ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    status: ReportStatus
    note: str = ""


def move(report: FakeReport, actor_id: int, change: Move) -> FakeReport:
    """Put a report (already checked to be the actor's to see) in a new state; closing needs a note.
    Commits the change with its audit event."""
    note = identifiers.clean_multiline(change.note or "")
    if change.status not in NEXT_STATES[report.status]:
        raise RuleViolation("status", _l("This report cannot go from “%(current)s” to “%(target)s”.",
                                         current=STATUS_LABELS[report.status], target=STATUS_LABELS[change.status]))
    if change.status is ReportStatus.CLOSED and not note:
        raise RuleViolation("note", _l("Write what you found before closing the report."))
    before = {"status": report.status.value, "closing_note": report.closing_note}
    report.status = change.status
    if change.status is ReportStatus.CLOSED:
        report.closing_note = note
    report.status_changed_by_id, report.status_changed_at = actor_id, utcnow()
    audit.record("report_status", entity="fake_report", entity_id=report.id, cooperative_id=report.cooperative_id,
                 commune_code=report.commune_code, before=before,
                 after={"status": report.status.value, "closing_note": report.closing_note},
                 actor=db.session.get(User, actor_id))
    db.session.commit()
    return report
