"""The diary compliance gate: stamps are activated only for batches whose diary keeps the rules.

A batch fails when a spray's pre-harvest interval (PHI, thời gian cách ly) has not run out by the harvest
date, or when the diary names a banned substance or one of the trade names it is sold under (matched as
app/services/trade_names.py says: whatever the case, accents, spacing or hyphens, whole words only). An
officer of the batch's commune may let a failing batch through, in writing; that holds while the diary and
dates stay as they were.

When an administrator changes the list, the batches whose stamps are in circulation are checked again, before
and after, in the same transaction: each batch the change now blocks gets one notice to its cooperative, and
the administrator is told how many batches and stamps that is. Blocked means what the gate always meant: no
more stamps are printed or activated for the batch. Its stamps already out keep scanning as genuine (they are
ours, and the product did not change); the commune officer, whose listing shows the problem, decides whether
to recall the batch, reject the listing or let it through in writing.
"""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.i18n import format_day
from app.models import (Batch, BatchStatus, BannedSubstance, BannedTradeName, DiaryEvent, EventKind, GateOverride,
                        LabelRun, NoticeKind, Stamp)
from app.services import audit, identifiers, listings, notices
from app.services.errors import LazyText, NotFound, RuleViolation, lazy_text as _l
from app.services.geo import fold
from app.services.trade_names import Found, ListedName, Matcher, key


@dataclass(frozen=True)
class Problem:
    """One reason the gate fails. The message quotes the diary (what was sprayed), so it is text: a page
    escapes it whole, the cooperative's words included."""
    event: DiaryEvent | None
    message: LazyText


def banned_list() -> list[BannedSubstance]:
    return list(db.session.scalars(select(BannedSubstance).order_by(BannedSubstance.group, BannedSubstance.name)))


def banned_names() -> list[str]:
    return [substance.name for substance in banned_list()]


def matcher() -> Matcher:
    """Every name on the live list: the substances' own names and their trade names."""
    substances = [ListedName(key(name), name) for (name,) in db.session.execute(select(BannedSubstance.name))]
    trade = db.session.execute(select(BannedTradeName.name, BannedSubstance.name).join(BannedTradeName.substance))
    return Matcher([*substances, *(ListedName(key(name), substance, name) for name, substance in trade)])


def _banned_message(event: DiaryEvent, found: Found) -> LazyText:
    substance = fold(found.name.substance)
    if found.name.trade_name is None:
        return _l("The diary entry of %(date)s names a banned substance: %(name)s.",
                  date=format_day(event.event_date), name=substance)
    return _l("The diary entry of %(date)s writes “%(written)s”: a trade name of %(substance)s, a banned substance.",
              date=format_day(event.event_date), written=found.written, substance=substance)


def banned_in_diary(batch: Batch, names: Matcher) -> list[tuple[DiaryEvent, Found]]:
    """Each diary entry of the batch that names something on the list, with the first name it names."""
    found = []
    for event in batch.events if names else ():
        match = names.find(f"{event.input_used or ''} {event.description or ''}")
        if match:
            found.append((event, match))
    return found


def problems(batch: Batch, names: Matcher | None = None) -> list[Problem]:
    found = []
    sprays = [e for e in batch.events if e.kind is EventKind.SPRAYING and e.phi_days]
    if sprays and batch.harvest_date is None:
        found.append(Problem(None, _l("Enter the harvest date: the pre-harvest intervals of the sprays are counted to it.")))
    for event in sprays:
        safe_from = event.event_date + timedelta(days=event.phi_days)
        if batch.harvest_date and batch.harvest_date < safe_from:
            found.append(Problem(event, _l(
                "Sprayed %(input)s on %(date)s with a pre-harvest interval of %(days)s days: harvest no earlier than %(safe)s.",
                input=event.input_used or "?", date=format_day(event.event_date), days=event.phi_days,
                safe=format_day(safe_from))))
    for event, match in banned_in_diary(batch, names if names is not None else matcher()):
        found.append(Problem(event, _banned_message(event, match)))
    return found


def override(batch: Batch) -> GateOverride | None:
    """The officer's override that still holds for this batch, if any."""
    latest = db.session.scalar(select(GateOverride).where(GateOverride.batch_id == batch.id).order_by(GateOverride.id.desc()).limit(1))
    if latest and latest.facts_hash == listings.fingerprint(listings.facts(batch)):
        return latest
    return None


def check_passes(batch: Batch) -> None:
    """Refuse (RuleViolation) when stamps may not be activated for this batch."""
    found = problems(batch)
    if found and override(batch) is None:
        reasons = " ".join(str(p.message) for p in found)
        raise RuleViolation("batch_id", _l("Stamps cannot be activated for this batch yet: %(reasons)s Correct the diary, or ask the commune officer.", reasons=reasons))


def override_gate(officer_id: int, batch_id: int, reason: str) -> GateOverride:
    batch = listings.officer_batch(officer_id, batch_id)
    reason = identifiers.clean_multiline(reason)
    if not reason:
        raise RuleViolation("reason", _l("Write why these stamps may be activated anyway."))
    record = GateOverride(batch_id=batch.id, officer_id=officer_id, reason=reason,
                          facts_hash=listings.fingerprint(listings.facts(batch)))
    db.session.add(record)
    db.session.commit()
    return record


# Changing the list ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recheck:
    """What a change of the list did to the batches whose stamps are in circulation."""
    blocked: int  # batches the change now blocks
    stamps: int  # their live stamps
    unblocked: int  # batches it no longer blocks


@dataclass(frozen=True)
class ListChange:
    substances: int  # on the list now
    recheck: Recheck


def _live_stamps() -> dict[int, int]:
    """Batch id → its stamps that scan as genuine (on the batch, neither they nor their run voided, not a
    suspected copy), for batches not recalled (a recalled batch is out of circulation already)."""
    rows = db.session.execute(
        select(Stamp.batch_id, func.count())
        .join(LabelRun, LabelRun.id == Stamp.run_id).join(Batch, Batch.id == Stamp.batch_id)
        .where(Stamp.voided_at.is_(None), LabelRun.voided_at.is_(None), Stamp.copy_suspected_at.is_(None),
               Batch.status != BatchStatus.RECALLED)
        .group_by(Stamp.batch_id))
    return dict(rows.all())


def _blocked_by_list(batch_ids, names: Matcher) -> dict[int, Found]:
    """The batches the list blocks (their diary names something on it and no override lets them through),
    each with the first name found."""
    blocked = {}
    # Every diary in one query rather than one per batch: a change re-checks each batch with live stamps.
    for batch in db.session.scalars(select(Batch).where(Batch.id.in_(batch_ids)).options(selectinload(Batch.events))):
        found = banned_in_diary(batch, names)
        if found and override(batch) is None:
            blocked[batch.id] = found[0][1]
    return blocked


def _rechecked(change) -> Recheck:
    """Apply a change of the list (a function that edits the session) between two checks of the live batches,
    and post one notice for each batch it newly blocks; the caller commits."""
    live = _live_stamps()
    before = _blocked_by_list(live, matcher())
    change()
    db.session.flush()
    after = _blocked_by_list(live, matcher())
    newly = [batch_id for batch_id in after if batch_id not in before]
    for batch_id in newly:
        found = after[batch_id]
        substance = found.name.substance if found.name.trade_name is None else f"{found.written} ({found.name.substance})"
        notices.post(db.session.get(Batch, batch_id).product.cooperative_id, NoticeKind.BATCH_BLOCKED_BY_BANNED_LIST,
                     batch_id=batch_id, params={"substance": substance, "stamps": str(live[batch_id])})
    return Recheck(blocked=len(newly), stamps=sum(live[b] for b in newly),
                   unblocked=sum(1 for batch_id in before if batch_id not in after))


def replace_banned_list(lines: list[str]) -> ListChange:
    """The administrator's new list, one substance per line: "name" or "name; group" (names hold commas).

    A substance that stays on the list (the same name, whatever its case or accents) keeps its trade names;
    one that leaves it takes its trade names with it, and the audit trail keeps them with their sources, so
    that a line deleted by mistake loses nothing that cannot be typed back."""
    rows = {}
    for line in lines:
        name, _, group = line.strip().partition(";")
        if name.strip():
            rows[fold(name)] = {"name": name.strip()[:120], "group": group.strip()[:80]}
    before = banned_names()
    dropped_trade_names = {substance.name: [{"name": t.name, "source": t.source} for t in substance.trade_names]
                           for substance in banned_list() if fold(substance.name) not in rows and substance.trade_names}

    def change():
        kept = {fold(substance.name): substance for substance in banned_list()}
        for folded, substance in kept.items():
            if folded in rows:
                substance.name, substance.group = rows[folded]["name"], rows[folded]["group"]
            else:
                db.session.delete(substance)
        db.session.add_all(BannedSubstance(**row) for folded, row in rows.items() if folded not in kept)

    recheck = _rechecked(change)
    audit.record("banned_list", entity="banned_substances", before={"names": before, "trade_names": dropped_trade_names},
                 after={"names": sorted(row["name"] for row in rows.values())})
    db.session.commit()
    return ListChange(len(rows), recheck)


def add_trade_name(substance_id: int, name: str, source: str) -> Recheck:
    """Add a trade name of a listed substance, with where it is attributed to it; refused when it has no
    letters or digits, or is already listed (in any spelling the gate reads alike)."""
    substance = db.session.get(BannedSubstance, substance_id)
    if substance is None:
        raise NotFound
    name, source = identifiers.clean_line(name)[:120], identifiers.clean_multiline(source)
    if not key(name):
        raise RuleViolation("name", _l("Write the trade name as it is printed on the product."))
    taken = next((listed for listed in _all_listed_names() if key(listed) == key(name)), None)
    if taken is not None:
        raise RuleViolation("name", _l("“%(name)s” is already on the list.", name=taken))
    if not source:
        raise RuleViolation("source", _l("Write where this trade name is shown to contain the substance (a decision, a registration, a label)."))
    added = BannedTradeName(substance_id=substance.id, name=name, source=source)
    recheck = _rechecked(lambda: db.session.add(added))
    audit.record("banned_list", entity="banned_trade_names", entity_id=added.id, before=None,
                 after={"substance": substance.name, "trade_name": name, "source": source})
    db.session.commit()
    return recheck


def remove_trade_name(trade_name_id: int) -> Recheck:
    trade_name = db.session.get(BannedTradeName, trade_name_id)
    if trade_name is None:
        raise NotFound
    before = {"substance": trade_name.substance.name, "trade_name": trade_name.name, "source": trade_name.source}
    recheck = _rechecked(lambda: db.session.delete(trade_name))
    audit.record("banned_list", entity="banned_trade_names", entity_id=trade_name_id, before=before, after=None)
    db.session.commit()
    return recheck


def _all_listed_names() -> list[str]:
    return [*banned_names(), *db.session.scalars(select(BannedTradeName.name))]
