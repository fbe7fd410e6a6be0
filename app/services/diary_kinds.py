"""Which fields a diary entry of each kind shows and asks for: the one place that says so.

Every entry has a date, a kind, a description ("what was done"), who did it and a photo. On top of these each
kind has its own fields: a spray names the product, its dose and its pre-harvest interval; a fertilising names
the input and its dose; a harvest says how much was picked, in the batch's unit; planting and packing may name
what they used (seedlings, boxes); the other kinds are told in the description.

The entry form, the phone diary and the service all read these rules:

- a page shows only the fields of the chosen kind (`as_json()` is what its script reads);
- `without_other_fields()` is how the service stores an entry: a field that does not belong to its kind is
  cleared, never stored, whatever path the values come by (a form sent without JavaScript shows every field,
  so it may carry a dose typed for a spray and then switched to a harvest);
- `missing()` is what a person's entry must fill for its kind. The service itself does not refuse an entry
  that leaves these empty: older entries, imported paper diaries and the API may lack a dose or a quantity,
  and a partly filled entry is still better than none. The forms people type into ask for them.
"""
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.models import EventKind
from app.services.errors import RuleViolation, lazy_text as _l

# Fields every entry has, whatever its kind.
COMMON_FIELDS = ("event_date", "kind", "description", "done_by", "photo")
# Fields that only some kinds have, with the value that means "not filled".
KIND_FIELD_EMPTY = {"input_id": None, "input_used": "", "dose": "", "phi_days": None, "quantity": None}

# The column is NUMERIC(12, 2): 10 digits before the point.
MAX_QUANTITY = Decimal(10) ** 10


@dataclass(frozen=True)
class KindFields:
    """The fields of one kind of diary entry.

    `fields` are its own fields among KIND_FIELD_EMPTY, in the order a form shows them; `required` are the
    fields (its own, or "description") a person must fill. An entry that picked one of the batch's inputs
    (`input_id`) has named its input: the service writes the input's name into `input_used`."""

    kind: EventKind
    fields: tuple[str, ...]
    required: tuple[str, ...]

    def has(self, name: str) -> bool:
        return name in COMMON_FIELDS or name in self.fields

    @property
    def links_input(self) -> bool:
        """Whether the entry may point at one of its batch's inputs."""
        return "input_id" in self.fields


_INPUT = ("input_id", "input_used")

KINDS: dict[EventKind, KindFields] = {
    kind.kind: kind
    for kind in (
        KindFields(EventKind.PLANTING, _INPUT, ("description",)),
        KindFields(EventKind.FERTILISING, (*_INPUT, "dose"), ("input_used",)),
        KindFields(EventKind.SPRAYING, (*_INPUT, "dose", "phi_days"), ("input_used", "phi_days")),
        KindFields(EventKind.IRRIGATION, (), ("description",)),
        KindFields(EventKind.HARVEST, ("quantity",), ("quantity",)),
        KindFields(EventKind.PACKING, _INPUT, ("description",)),
        KindFields(EventKind.TRANSPORT, (), ("description",)),
        KindFields(EventKind.INSPECTION, (), ("description",)),
        KindFields(EventKind.OTHER, ("input_used", "dose"), ("description",)),
    )
}


def fields_of(kind: EventKind | str) -> KindFields:
    """The fields of a kind (an EventKind or its value); ValueError for an unknown kind."""
    return KINDS[EventKind(kind)]


def as_json() -> dict:
    """The rules as plain data for a page's script: {"common": [...], "kinds": {"spraying": {"fields": [...],
    "required": [...]}, ...}}."""
    return {
        "common": list(COMMON_FIELDS),
        "kinds": {kind.value: {"fields": list(rules.fields), "required": list(rules.required)} for kind, rules in KINDS.items()},
    }


def without_other_fields(kind: EventKind | str, values: dict) -> dict:
    """A copy of an entry's values in which every field that does not belong to `kind` is empty.

    When the values set the kind, every other kind's field is emptied, given or not, so that changing a spray
    into a harvest leaves no dose behind; otherwise (an update that keeps the kind) only the fields given are.
    `input_id` is left to the service's input link, which refuses a link from a kind that uses no input."""
    rules = fields_of(kind)
    cleared = dict(values)
    for name, empty in KIND_FIELD_EMPTY.items():
        if name == "input_id" or rules.has(name):
            continue
        if "kind" in values or name in values:
            cleared[name] = empty
    return cleared


def missing(kind: EventKind | str, values: dict) -> list[str]:
    """The required fields of `kind` that `values` leave empty (an input picked by `input_id` names it)."""
    def filled(name):
        if name == "input_used" and values.get("input_id") not in (None, ""):
            return True
        value = values.get(name)
        return value is not None and (not isinstance(value, str) or value.strip() != "")
    return [name for name in fields_of(kind).required if not filled(name)]


def check_quantity(value, field: str = "quantity") -> Decimal | None:
    """A harvest's quantity: empty, or a number above zero and below MAX_QUANTITY, kept to two decimals."""
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise RuleViolation(field, _l("Enter a number.")) from exc
    if not number.is_finite() or number <= 0 or number >= MAX_QUANTITY:
        raise RuleViolation(field, _l("Enter a quantity above 0 and below 10,000,000,000."))
    return number.quantize(Decimal("0.01"))


# What "copy the previous entry" carries over: the work and who did it, never its day, text, quantity or photo.
COPIED_FIELDS = ("kind", "input_id", "input_used", "dose", "phi_days", "done_by")


def copied_values(event) -> dict:
    """The values a new entry starts from when it copies `event` (a DiaryEvent), only those of its kind."""
    values = {name: getattr(event, name) for name in COPIED_FIELDS}
    values["kind"] = event.kind.value
    return without_other_fields(event.kind, values)
