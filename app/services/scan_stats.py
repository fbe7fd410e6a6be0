"""How often a cooperative's stamps are scanned: scans per product and day, for the cooperative's own members.

A scan's `day` is the day in Vietnam when it was made (scans.look stores local_today()), so a scan at 23:30 and
one at 00:30 Vietnam time fall on two days even when the UTC clock says one; counting groups by that day."""
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import LabelRun, Product, Scan, Stamp
from app.services import products
from app.services.errors import RuleViolation

MAX_DAYS = 366  # a leap year: one season compared with the last
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class DailyScans:
    """One product's scans: `counts[i]` scans on `days[i]`, every day of the range listed (0 when none)."""
    product_id: int
    product: str
    days: list[date]
    counts: list[int]


@dataclass(frozen=True)
class DailyScanReport:
    first: date
    last: date
    series: list[DailyScans]


def day_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The days asked for: `last` defaults to today (in Vietnam), `first` to 30 days ending on `last`; at most
    MAX_DAYS days, first not after last."""
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise RuleViolation("from", _l("The first day must not be after the last day."))
    if (last - first).days + 1 > MAX_DAYS:
        raise RuleViolation("to", _l("Ask for at most %(days)s days at a time.", days=MAX_DAYS))
    return first, last


def daily_scans(coop_id: int, first: date | None, last: date | None, today: date,
                product_id: int | None = None) -> DailyScanReport:
    """Scans per day of each of the cooperative's products scanned in the range (one product when product_id
    is given: another cooperative's is a NotFound). Products with no scan in the range are left out."""
    first, last = day_range(first, last, today)
    stmt = (select(Product.id, Product.name, Scan.day, func.count())
            .join(Stamp, Stamp.id == Scan.stamp_id).join(LabelRun, LabelRun.id == Stamp.run_id)
            .join(Product, Product.id == LabelRun.product_id)
            .where(Product.cooperative_id == coop_id, Scan.day >= first, Scan.day <= last)
            .group_by(Product.id, Product.name, Scan.day))
    if product_id is not None:
        stmt = stmt.where(Product.id == products.get_product(coop_id, product_id).id)
    by_product: dict[int, tuple[str, dict[date, int]]] = {}
    for found_id, name, day, count in db.session.execute(stmt):
        by_product.setdefault(found_id, (name, {}))[1][day] = count
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    series = [DailyScans(found_id, name, span, [counts.get(day, 0) for day in span])
              for found_id, (name, counts) in sorted(by_product.items(), key=lambda item: (item[1][0], item[0]))]
    return DailyScanReport(first, last, series)
