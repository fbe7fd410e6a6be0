"""Event IDs: the EPCIS event hash (GS1's canonical pre-hash string, SHA-256), as `ni:///sha-256;…?ver=CBV2.0`.

The hash is computed by epcis-event-hash-generator, GS1's reference algorithm: it leaves out eventID and
recordTime, so two records of the same happening get the same ID, and recomputing an exported event's hash
gives back its eventID.
"""
import copy

from epcis_event_hash_generator import hash_generator, json_to_py

from app.services.epcis import vocabulary as voc


def event_hashes(events: list[dict]) -> list[str]:
    """The hash of each event, in order. All events go through one JSON-LD expansion (one document)."""
    if not events:
        return []
    document = {"@context": voc.context(), "type": "EPCISDocument", "schemaVersion": "2.0",
                "epcisBody": {"eventList": copy.deepcopy(events)}}
    hashes = hash_generator.epcis_hashes_from_events(json_to_py.event_list_from_epcis_document_json(document))
    # The generator logs and skips an event it cannot read; an ID must never shift to the wrong event.
    if len(hashes) != len(events):
        raise ValueError("an event could not be hashed")
    return hashes


def with_event_ids(events: list[dict]) -> list[dict]:
    """The events with their eventID set to their hash (put first, where a reader looks for it)."""
    return [{"eventID": event_id, **event} for event_id, event in zip(event_hashes(events), events)]
