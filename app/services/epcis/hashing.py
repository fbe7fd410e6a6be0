"""Event IDs: the EPCIS event hash (GS1's canonical pre-hash string, SHA-256), as `ni:///sha-256;…?ver=CBV2.0`.

The hash is computed by epcis-event-hash-generator, GS1's reference algorithm: it leaves out eventID and
recordTime, so two records of the same happening get the same ID, and recomputing an exported event's hash
gives back its eventID.

The generator is slow (a JSON-LD expansion and a canonical form of every value: about 10 ms for an event
listing a thousand stamps), and the events query builds every event of a cooperative for each page; so each
worker remembers the hashes it computed, keyed by the SHA-256 of the event's JSON and the context it is read
in. An event that changes in any way is a new key, hashed afresh.
"""
import copy
import hashlib
import json
import threading

from cachetools import LRUCache
from epcis_event_hash_generator import hash_generator, json_to_py

from app.services.epcis import vocabulary as voc

_known: LRUCache = LRUCache(maxsize=100_000)
_known_lock = threading.Lock()


def _content_key(context: list, event: dict) -> bytes:
    return hashlib.sha256(json.dumps([context, event], sort_keys=True, ensure_ascii=False).encode()).digest()


def _computed_hashes(context: list, events: list[dict]) -> list[str]:
    """The generator's hash of each event, in order. All events go through one JSON-LD expansion (one document)."""
    document = {"@context": context, "type": "EPCISDocument", "schemaVersion": "2.0",
                "epcisBody": {"eventList": copy.deepcopy(events)}}
    hashes = hash_generator.epcis_hashes_from_events(json_to_py.event_list_from_epcis_document_json(document))
    # The generator logs and skips an event it cannot read; an ID must never shift to the wrong event.
    if len(hashes) != len(events):
        raise ValueError("an event could not be hashed")
    return hashes


def event_hashes(events: list[dict]) -> list[str]:
    """The hash of each event, in order (those seen before by this worker from memory)."""
    context = voc.context()
    keys = [_content_key(context, {k: v for k, v in event.items() if k != "eventID"}) for event in events]
    with _known_lock:
        found = [_known.get(key) for key in keys]
    missing = [i for i, value in enumerate(found) if value is None]
    if missing:
        computed = _computed_hashes(context, [events[i] for i in missing])
        with _known_lock:
            for i, value in zip(missing, computed):
                found[i] = _known[keys[i]] = value
    return found


def with_event_ids(events: list[dict]) -> list[dict]:
    """The events with their eventID set to their hash (put first, where a reader looks for it)."""
    return [{"eventID": event_id, **event} for event_id, event in zip(event_hashes(events), events)]
