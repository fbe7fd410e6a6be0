"""The diary compliance gate: stamps are activated only for batches whose diary keeps the rules.

A batch fails when a spray's pre-harvest interval (PHI, thời gian cách ly) has not run out by the harvest
date, or when the diary names a banned substance (matched without regard to case or Vietnamese diacritics).
An officer of the batch's commune may let a failing batch through, in writing; that holds while the diary and
dates stay as they were.
"""
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from app.extensions import db
from app.i18n import format_day
from app.models import Batch, BannedSubstance, DiaryEvent, EventKind, GateOverride
from app.services import audit, identifiers, listings
from app.services.errors import LazyText, RuleViolation, lazy_text as _l
from app.services.geo import fold


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


def _pattern(names: list[str]) -> re.Pattern | None:
    if not names:
        return None
    # Whole words only, so that "DDT" is found in "thuốc DDT 50%" but not inside another word.
    alternatives = "|".join(re.escape(fold(name)) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![0-9a-z])({alternatives})(?![0-9a-z])")


def problems(batch: Batch) -> list[Problem]:
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
    pattern = _pattern(banned_names())
    for event in batch.events if pattern else ():
        match = pattern.search(fold(f"{event.input_used} {event.description}"))
        if match:
            found.append(Problem(event, _l("The diary entry of %(date)s names a banned substance: %(name)s.",
                                           date=format_day(event.event_date), name=match.group(1))))
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


def replace_banned_list(lines: list[str]) -> int:
    """The administrator's new list, one substance per line: "name" or "name; group" (names hold commas)."""
    rows = {}
    for line in lines:
        name, _, group = line.strip().partition(";")
        if name.strip():
            rows[fold(name)] = {"name": name.strip()[:120], "group": group.strip()[:80]}
    before = banned_names()
    db.session.execute(delete(BannedSubstance))
    db.session.add_all(BannedSubstance(**row) for row in rows.values())
    audit.record("banned_list", entity="banned_substances", before={"names": before},
                 after={"names": sorted(row["name"] for row in rows.values())})
    db.session.commit()
    return len(rows)
