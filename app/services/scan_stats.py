"""How often a cooperative's stamps are scanned, for the cooperative's own members: scans per product and day (the
API), and what happens to one product's or one run's stamps after printing (the statistics pages).

A scan's `day` is the day in Vietnam when it was made (scans.look stores local_today()), so a scan at 23:30 and
one at 00:30 Vietnam time fall on two days even when the UTC clock says one; counting groups by that day."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.models import Batch, LabelRun, Product, RangeAction, RunStatus, Scan, ScanDevice, Stamp, StampRangeEvent
from app.models.scan_counts import NO_BATCH, ScanDayCount, block_size
from app.services import batches, label_runs, listings, products
from app.i18n import vietnam_day
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
    days = span(first, last)
    series = [DailyScans(found_id, name, days, [counts.get(day, 0) for day in days])
              for found_id, (name, counts) in sorted(by_product.items(), key=lambda item: (item[1][0], item[0]))]
    return DailyScanReport(first, last, series)


# What happens to the stamps of one product or one run after printing: scans and first scans per day, where
# the first scans come from (the app keeps no location of a scan, so "where" is a batch or a serial range),
# stamps judged copied, and activations and voids. Scans and first scans are read from scan_day_counts (a few rows
# per run and day, kept by the scan log as it writes), so their cost follows the days shown, not the scope's stamps;
# a scan counts toward the batch its stamp was on when it was scanned. The stamp totals and copies are one SQL
# aggregation over the scope's stamps.

SHOWN_COPIES = 200  # copied stamps listed on a page (the newest); the totals count all
MAX_RANGES = 50  # activated serial ranges shown one by one on a run page; more, and the run is cut in blocks


@dataclass(frozen=True)
class StampScope:
    """The stamps one statistics page counts: every stamp of one product's runs, or of one run when run_id is
    set. Made by product_scope() and run_scope(), which find the product or run among the cooperative's own
    (another cooperative's is a NotFound), so holding a scope means the caller may see its stamps."""
    cooperative_id: int
    product_id: int
    run_id: int | None = None

    def stamps(self):
        """The clause that keeps the scope's stamps (on Stamp.run_id, which leads an index)."""
        if self.run_id is not None:
            return Stamp.run_id == self.run_id
        return Stamp.run_id.in_(select(LabelRun.id).where(LabelRun.product_id == self.product_id).scalar_subquery())

    def runs(self):
        """The clause that keeps the scope's runs."""
        if self.run_id is not None:
            return LabelRun.id == self.run_id
        return LabelRun.product_id == self.product_id

    def counts(self):
        """The clause that keeps the scope's rows of scan_day_counts (on their run, which leads the primary key)."""
        if self.run_id is not None:
            return ScanDayCount.run_id == self.run_id
        return ScanDayCount.run_id.in_(select(LabelRun.id).where(LabelRun.product_id == self.product_id).scalar_subquery())


def product_scope(coop_id: int, product_id: int) -> StampScope:
    return StampScope(coop_id, products.get_product(coop_id, product_id).id)


def run_scope(coop_id: int, run_id: int) -> StampScope:
    run = label_runs.get_run(coop_id, run_id)
    return StampScope(coop_id, run.product_id, run.id)


@dataclass(frozen=True)
class Place:
    """Where a stamp went, as far as the app knows without any location of a scan: its batch (lot) on the product
    page; an activated serial range, or a block of serials, on the run page. `key` is the value the scope's place
    expression gives the stamp (None: a stamp on no batch, or a serial outside every activated range)."""
    key: int | None
    lot_code: str = ""
    first_serial: int | None = None
    last_serial: int | None = None


@dataclass(frozen=True)
class Places:
    """The places of a page and the SQL expression that puts each stamp in one of them; `kind` is "batches",
    "ranges" (activated serial ranges) or "blocks" (blocks of serials). `counted` is the same over a row of
    scan_day_counts; None when the counts cannot tell the places apart (two activated ranges of one run on one
    batch): the page then counts the scans themselves."""
    kind: str
    expression: object
    places: list[Place]
    counted: object = None


def batch_places(scope: StampScope) -> Places:
    """Product page: one place per batch of the product, and stamps on no batch (blank, not activated)."""
    found = [Place(batch.id, batch.lot_code) for batch in batches.list_batches(scope.cooperative_id, scope.product_id)]
    return Places("batches", Stamp.batch_id, [*found, Place(None)], func.nullif(ScanDayCount.batch_id, NO_BATCH))


def run_places(scope: StampScope) -> Places:
    """Run page: each activated serial range (a roll put on a batch), with the serials outside them as one more
    place; a run printed for a batch, or with more than MAX_RANGES activations, in blocks of serials."""
    stmt = (select(StampRangeEvent.id, StampRangeEvent.first_serial, StampRangeEvent.last_serial, Batch.lot_code, StampRangeEvent.batch_id)
            .outerjoin(Batch, Batch.id == StampRangeEvent.batch_id)
            .where(StampRangeEvent.run_id == scope.run_id, StampRangeEvent.action == RangeAction.ACTIVATE)
            .order_by(StampRangeEvent.first_serial))
    ranges = db.session.execute(stmt).all()
    if ranges and len(ranges) <= MAX_RANGES:
        expression = case(*((Stamp.serial.between(first, last), index) for index, (_, first, last, _lot, _batch) in enumerate(ranges)),
                          else_=None)
        places = [Place(index, lot or "", first, last) for index, (_, first, last, lot, _batch) in enumerate(ranges)]
        return Places("ranges", expression, [*places, Place(None)], _range_of_count(ranges))
    count = db.session.get(LabelRun, scope.run_id).count
    size = block_size(count)
    blocks = [Place(index, "", index * size + 1, min((index + 1) * size, count)) for index in range(-(-count // size))]
    return Places("blocks", (Stamp.serial - 1) // size, blocks, ScanDayCount.block)


def _range_of_count(ranges) -> object:
    """A count's activated range, told by its batch: each range put its stamps on one batch, so when no two ranges
    share a batch the batch names the range (None when two do)."""
    batch_ids = [batch_id for _, _first, _last, _lot, batch_id in ranges]
    if len(set(batch_ids)) < len(batch_ids):
        return None
    return case(*((ScanDayCount.batch_id == batch_id, index) for index, batch_id in enumerate(batch_ids)), else_=None)


@dataclass(frozen=True)
class DaySeries:
    """`counts[i]` on `days[i]`, every day of a range listed (0 when none): what templates/_scan_chart.html draws."""
    days: list[date]
    counts: list[int]


@dataclass(frozen=True)
class Tally:
    """Counts per day and place over a range of days (every day listed): `cells[(day, place key)]`."""
    days: list[date]
    cells: dict[tuple[date, int | None], int]

    def per_day(self) -> DaySeries:
        totals: dict[date, int] = {}
        for (day, _place), count in self.cells.items():
            totals[day] = totals.get(day, 0) + count
        return DaySeries(self.days, [totals.get(day, 0) for day in self.days])

    def per_place(self, key: int | None) -> int:
        return sum(count for (_day, place), count in self.cells.items() if place == key)


def span(first: date, last: date) -> list[date]:
    """Every day from first to last, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def scans_by_day_and_place(scope: StampScope, places: Places, first: date, last: date) -> Tally:
    """Every scan of the scope's stamps made on a day of the range (Vietnam's days, as stored), per day and place."""
    if places.counted is not None:
        place = places.counted.label("place")
        stmt = (select(ScanDayCount.day, place, func.sum(ScanDayCount.scans))
                .where(scope.counts(), ScanDayCount.day >= first, ScanDayCount.day <= last).group_by(ScanDayCount.day, place))
        return Tally(span(first, last), {(day, key): int(n) for day, key, n in db.session.execute(stmt) if n})
    place = places.expression.label("place")
    stmt = (select(Scan.day, place, func.count()).join(Stamp, Stamp.id == Scan.stamp_id)
            .where(scope.stamps(), Scan.day >= first, Scan.day <= last).group_by(Scan.day, place))
    return Tally(span(first, last), {(day, key): count for day, key, count in db.session.execute(stmt)})


@dataclass(frozen=True)
class FirstScans:
    """Each stamp of the scope that was ever scanned, counted once on the day of its first scan (Vietnam's day),
    per place: `cells[(day, place key)]`, over all days."""
    cells: dict[tuple[date, int | None], int]

    def in_range(self, first: date, last: date) -> Tally:
        """The stamps first scanned on a day of the range (a stamp reaching a buyer)."""
        return Tally(span(first, last), {(day, key): n for (day, key), n in self.cells.items() if first <= day <= last})

    @property
    def stamps(self) -> int:
        """The scope's stamps scanned at least once."""
        return sum(self.cells.values())


def first_scans(scope: StampScope, places: Places) -> FirstScans:
    """When and where each of the scope's stamps was first scanned: from scan_day_counts, or, when the counts cannot
    tell the places apart, in one pass over its stamps.

    In that pass a stamp's first scan is the earliest first day of the phones that scanned it, read per stamp in the primary key
    of scan_devices (a few rows a stamp) instead of the scan log, so the cost follows the scope's stamps, not the
    whole table."""
    if places.counted is not None:
        place = places.counted.label("place")
        counted = (select(ScanDayCount.day, place, func.sum(ScanDayCount.first_scans))
                   .where(scope.counts()).group_by(ScanDayCount.day, place))
        return FirstScans({(day, key): int(n) for day, key, n in db.session.execute(counted) if n})
    first_day = select(func.min(ScanDevice.first_day)).where(ScanDevice.stamp_id == Stamp.id).scalar_subquery()
    per_stamp = select(places.expression.label("place"), first_day.label("first_day")).where(scope.stamps()).subquery()
    stmt = (select(per_stamp.c.first_day, per_stamp.c.place, func.count())
            .group_by(per_stamp.c.first_day, per_stamp.c.place))
    return FirstScans({(_as_date(day), key): count for day, key, count in db.session.execute(stmt) if day is not None})


def _as_date(value) -> date:
    """A day read back from an aggregate: SQLite gives aggregates of a date column as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class StampTotals:
    """The scope's stamps: printed (minted), ever put on a batch, voided, scanned at least once."""
    printed: int
    activated: int
    voided: int
    scanned: int
    copied: int

    @property
    def share_scanned(self) -> float | None:
        """The share of the stamps put on goods that a buyer or seller has scanned (None when none was)."""
        return self.scanned / self.activated if self.activated else None


MINTED = (RunStatus.RENDERING, RunStatus.DONE)  # minting commits all of a run's stamps with the move to RENDERING


def stamp_totals(scope: StampScope, scanned: int) -> StampTotals:
    """The scope's stamps counted without reading them: those printed are the counts of its minted runs plus the
    stamps of any other run (one failed or still minting holds all or none), the blank, voided and copied ones come
    from partial indexes holding only those (app/models/scan_counts.py); `scanned` (stamps scanned at least once)
    is FirstScans.stamps."""
    def count(*where) -> int:
        return db.session.scalar(select(func.count()).select_from(Stamp).where(scope.stamps(), *where))

    minted = db.session.scalar(select(func.coalesce(func.sum(LabelRun.count), 0)).where(scope.runs(), LabelRun.status.in_(MINTED)))
    others = select(LabelRun.id).where(scope.runs(), LabelRun.status.not_in(MINTED)).scalar_subquery()
    printed = minted + db.session.scalar(select(func.count()).select_from(Stamp).where(Stamp.run_id.in_(others)))
    return StampTotals(printed, printed - count(Stamp.batch_id.is_(None)), count(Stamp.voided_at.is_not(None)), scanned,
                       count(Stamp.copy_suspected_at.is_not(None)))


@dataclass(frozen=True)
class CopiedStamp:
    """A stamp of the scope that the scan page judges copied, with its evidence."""
    stamp_id: int
    run_id: int
    serial: int
    lot_code: str
    suspected_at: datetime
    first_day: date | None
    phones: int
    scans: int
    voided: bool


def copied_stamps(scope: StampScope) -> list[CopiedStamp]:
    """The scope's stamps judged copied, newest judgement first (at most SHOWN_COPIES), with the phones and
    scans the copy check counted (scan_devices) and the day of their first scan."""
    of_stamp = ScanDevice.stamp_id == Stamp.id
    stmt = (select(Stamp.id, Stamp.run_id, Stamp.serial, Batch.lot_code, Stamp.copy_suspected_at,
                   select(func.min(ScanDevice.first_day)).where(of_stamp).scalar_subquery(),
                   select(func.count()).where(of_stamp).scalar_subquery(),
                   select(func.coalesce(func.sum(ScanDevice.scans), 0)).where(of_stamp).scalar_subquery(),
                   Stamp.voided_at.is_not(None))
            .outerjoin(Batch, Batch.id == Stamp.batch_id)
            .where(scope.stamps(), Stamp.copy_suspected_at.is_not(None))
            .order_by(Stamp.copy_suspected_at.desc(), Stamp.id).limit(SHOWN_COPIES))
    return [CopiedStamp(stamp_id, run_id, serial, lot or "", at, _as_date(day) if day else None, phones, scans, bool(voided))
            for stamp_id, run_id, serial, lot, at, day, phones, scans, voided in db.session.execute(stmt)]


@dataclass(frozen=True)
class RangeChanges:
    """Stamps activated and voided on each day of a range (Vietnam's days)."""
    activated: DaySeries
    voided: DaySeries


def range_changes_per_day(scope: StampScope, first: date, last: date) -> RangeChanges:
    """From the runs' range history (stamp_range_events): stamps put on a batch and stamps voided per day. A run
    printed for a batch puts all its stamps on it the day it is ordered, so it counts as that day's activation."""
    days = span(first, last)
    activated, voided = dict.fromkeys(days, 0), dict.fromkeys(days, 0)
    # A moment's day in Vietnam is at most a day from its UTC date: read a day more on each side, then sort.
    start, end = datetime.combine(first - timedelta(days=1), time()), datetime.combine(last + timedelta(days=2), time())
    runs = select(LabelRun.id).where(LabelRun.product_id == scope.product_id)
    if scope.run_id is not None:
        runs = runs.where(LabelRun.id == scope.run_id)
    events = db.session.execute(
        select(StampRangeEvent.at, StampRangeEvent.action, StampRangeEvent.stamp_count)
        .where(StampRangeEvent.run_id.in_(runs.scalar_subquery()), StampRangeEvent.at >= start, StampRangeEvent.at < end))
    printed = db.session.execute(
        select(LabelRun.created_at, LabelRun.count)
        .where(LabelRun.id.in_(runs.scalar_subquery()), LabelRun.batch_id.is_not(None), LabelRun.created_at >= start,
               LabelRun.created_at < end))
    for moment, action, count in events:
        tally = activated if action is RangeAction.ACTIVATE else voided
        day = vietnam_day(moment)
        if day in tally:
            tally[day] += count or 0
    for moment, count in printed:
        day = vietnam_day(moment)
        if day in activated:
            activated[day] += count
    return RangeChanges(DaySeries(days, list(activated.values())), DaySeries(days, list(voided.values())))


def officer_product_scope(officer_id: int, product_id: int) -> StampScope:
    """A product of a cooperative in one of the officer's communes (read-only pages); any other is a NotFound."""
    product = db.session.get(Product, product_id)
    if product is None or product.cooperative.commune_code not in listings.officer_communes(officer_id):
        raise NotFound
    return StampScope(product.cooperative_id, product.id)


def officer_run_scope(officer_id: int, run_id: int) -> StampScope:
    """A run of a cooperative in one of the officer's communes; any other is a NotFound."""
    run = db.session.get(LabelRun, run_id)
    if run is None:
        raise NotFound
    officer_product_scope(officer_id, run.product_id)
    return StampScope(run.cooperative_id, run.product_id, run.id)
