"""The EPCIS 2.0 events query over a cooperative's events: GE_eventTime, LT_eventTime, EQ_bizStep, MATCH_epc, pages.

Parameters follow EPCIS 2.0's query language (REST binding): times are ISO 8601 with an offset; EQ_bizStep
and MATCH_epc take one or more values, repeated or separated by "|", any of which matches; a bizStep may be
CBV's bare word ("packing") or its URI (https://ref.gs1.org/cbv/BizStep-packing). MATCH_epc matches an epcList
entry exactly or, with a trailing "*", by prefix; a stamp's URI in lower case matches too (codes are read
without regard to case), and a stamp of a range too big to be listed (`ocop:stampRange`, `ocop:stampRanges`)
is found through its code. perPage (1..1000, default 100) and the opaque nextPageToken page through the result.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import LabelRun, Stamp
from app.services import codes
from app.services.epcis import vocabulary as voc
from app.services.errors import RuleViolation

CBV_BIZSTEP = "https://ref.gs1.org/cbv/BizStep-"
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000


@dataclass(frozen=True)
class EventQuery:
    """What the caller asked for; every condition given must hold."""
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    biz_steps: frozenset[str] = frozenset()
    epcs: tuple[str, ...] = ()
    # (run, serial) of the cooperative's stamps named by MATCH_epc: found in ranges that list no URIs
    stamps: frozenset[tuple[int, int]] = frozenset()
    per_page: int = DEFAULT_PER_PAGE
    offset: int = 0


@dataclass(frozen=True)
class Page:
    events: list[dict]
    next_page_token: str | None


def _values(args, name: str) -> list[str]:
    return [part.strip() for value in args.getlist(name) for part in value.split("|") if part.strip()]


def _time(args, name: str) -> datetime | None:
    text = args.get(name, "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise RuleViolation(name, f"{name} must be an ISO 8601 date-time with an offset, e.g. 2026-06-01T00:00:00+07:00")
    return moment


def _whole(args, name: str, default: int, low: int, high: int) -> int:
    text = args.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise RuleViolation(name, f"{name} must be a whole number from {low} to {high}")
    return int(text)


def biz_step_uri(step: str) -> str:
    """A bizStep in one form: CBV's bare words as their URI, anything else as given."""
    return step if ":" in step else CBV_BIZSTEP + step


def named_stamps(coop_id: int, epcs: tuple[str, ...]) -> frozenset[tuple[int, int]]:
    """The cooperative's stamps whose code ends one of the URIs (not the patterns), as (run, serial)."""
    hashes = [codes.code_hash(code) for epc in epcs if not epc.endswith("*")
              if (code := codes.normalise(epc.rstrip("/").rsplit("/", 1)[-1])) is not None]
    if not hashes:
        return frozenset()
    found = db.session.execute(select(Stamp.run_id, Stamp.serial).join(LabelRun, LabelRun.id == Stamp.run_id)
                               .where(Stamp.code_hash.in_(hashes), LabelRun.cooperative_id == coop_id))
    return frozenset((run_id, serial) for run_id, serial in found)


def parse(args, coop_id: int) -> EventQuery:
    """The query from request arguments (a MultiDict); RuleViolation(parameter, message) for a bad value."""
    epcs = tuple(_values(args, "MATCH_epc"))
    return EventQuery(
        ge_event_time=_time(args, "GE_eventTime"),
        lt_event_time=_time(args, "LT_eventTime"),
        biz_steps=frozenset(biz_step_uri(step) for step in _values(args, "EQ_bizStep")),
        epcs=epcs,
        stamps=named_stamps(coop_id, epcs),
        per_page=_whole(args, "perPage", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
        offset=_whole(args, "nextPageToken", 0, 0, 10**9),
    )


def _epc_matches(pattern: str, epc: str) -> bool:
    if pattern.endswith("*"):
        return epc.startswith(pattern[:-1]) or epc.startswith(pattern[:-1].upper())
    return epc in (pattern, pattern.upper())


def _in_ranges(stamps: frozenset[tuple[int, int]], event: dict) -> bool:
    ranges = event.get(voc.term("stampRanges"), []) + ([event[voc.term("stampRange")]] if voc.term("stampRange") in event else [])
    run, first, last = voc.term("labelRun"), voc.term("firstSerial"), voc.term("lastSerial")
    return any(r[run] == run_id and r[first] <= serial <= r[last] for r in ranges for run_id, serial in stamps)


def matches(query: EventQuery, event: dict) -> bool:
    moment = datetime.fromisoformat(event["eventTime"])
    if query.ge_event_time and moment < query.ge_event_time:
        return False
    if query.lt_event_time and moment >= query.lt_event_time:
        return False
    if query.biz_steps and biz_step_uri(event.get("bizStep", "")) not in query.biz_steps:
        return False
    if query.epcs and not (any(_epc_matches(p, epc) for p in query.epcs for epc in event.get("epcList", ()))
                           or _in_ranges(query.stamps, event)):
        return False
    return True


def run(query: EventQuery, events: list[dict]) -> Page:
    """The page of matching events the query asks for, and the token of the next page if there is one."""
    found = [event for event in events if matches(query, event)]
    end = query.offset + query.per_page
    return Page(found[query.offset:end], str(end) if end < len(found) else None)
