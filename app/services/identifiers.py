"""What users may type: the identifiers' formats and the cleaning of free text, in one place.

Identifiers (lot codes, registration numbers, growing-area codes, GTINs, certificate numbers, logins,
phone numbers) end up in QR URLs, PDF labels, file names, HTTP headers and CSV files long after they are
typed, so each one is checked against its own character set and length when it is saved, whatever path it
comes by: a form, a `flask` command, or a service call. A bad identifier is refused with a message that
says what is allowed; it is never silently changed, except for surrounding white space and Unicode NFC (the same
Vietnamese letter typed by two keyboards is then the same character).

Free text (names, notes, descriptions) is not refused for its characters: it loses what no person means to
type. Control characters (NUL, escape, …), bidirectional overrides and lone surrogates are removed; in a
single-line field, line breaks and tabs become one space; in a multi-line field, line breaks are kept as
"\\n" and tabs become a space.
"""
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from app.services.errors import RuleViolation
from app.services.gtin import check_digit, normalise_gtin

REQUIRED = _l("This field is required.")

# Controls that no one types on purpose: C0 and C1 controls, bidirectional embeddings, overrides and
# isolates (they can make a code read differently from what is stored), and lone surrogates (not UTF-8).
_INVISIBLE = "\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_UNWANTED = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\t\v\f\x1c-\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"[ \t]*(\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029])")


def _nfc(value: Any) -> str:
    return unicodedata.normalize("NFC", "" if value is None else str(value))


def clean_line(value: Any) -> str:
    """Single-line text: line breaks and tabs become one space, other invisible controls go."""
    text = _LINE_BREAKS.sub(" ", _nfc(value))
    return re.sub(" {2,}", " ", _UNWANTED.sub("", text)).strip()


def clean_multiline(value: Any) -> str:
    """Multi-line text: every line break becomes "\\n", a tab a space, other invisible controls go."""
    text = _SPACES.sub("\n", _nfc(value)).replace("\t", " ")
    return _UNWANTED.sub(lambda m: "\n" if m.group() == "\n" else "", text).strip()


@dataclass(frozen=True)
class FreeText:
    """A name, note or description: cleaned, never refused for its characters; refused when too long."""

    max_length: int
    multiline: bool = False
    required: bool = False

    def check(self, value: Any, field: str) -> str:
        text = clean_multiline(value) if self.multiline else clean_line(value)
        if self.required and not text:
            raise RuleViolation(field, REQUIRED)
        if len(text) > self.max_length:
            raise RuleViolation(field, _l("This is too long (at most %(max)d characters).", max=self.max_length))
        return text


@dataclass(frozen=True)
class Identifier:
    """A code with its own alphabet: the whole value must match `pattern` and fit in `max_length`."""

    pattern: re.Pattern
    max_length: int
    message: Any  # a lazy string saying what is allowed
    required: bool = False

    def check(self, value: Any, field: str) -> str:
        text = _nfc(value).strip()
        if not text:
            if self.required:
                raise RuleViolation(field, REQUIRED)
            return text
        if len(text) > self.max_length or not self.pattern.fullmatch(text):
            raise RuleViolation(field, self.message)
        return text


@dataclass(frozen=True)
class Gtin(Identifier):
    """A GTIN: digits (spaces between groups are fine) with a right check digit; stored as GTIN-14."""

    def check(self, value: Any, field: str) -> str:
        text = super().check(value, field)
        if not text:
            return text
        try:
            return normalise_gtin(text)
        except ValueError as exc:
            if str(exc) == "length":
                raise RuleViolation(field, self.message) from exc
            raise RuleViolation(field, _l("This GTIN's last digit (check digit) is wrong: please copy it again from the barcode.")) from exc


@dataclass(frozen=True)
class Gln(Identifier):
    """A GS1 Global Location Number: 13 digits (spaces between groups are fine) with a right check digit, stored
    as the 13 digits; a blank one is None (the place has no GLN). Any GS1 prefix: 893 is Vietnam's, not the only one."""

    def check(self, value: Any, field: str) -> str | None:
        text = super().check(value, field)
        if not text:
            return None
        digits = "".join(text.split())
        if len(digits) != 13:
            raise RuleViolation(field, self.message)
        if check_digit(digits[:-1]) != int(digits[-1]):
            raise RuleViolation(field, _l("This GLN's last digit (check digit) is wrong: please copy it again from the GS1 certificate."))
        return digits


# Letters without accents, because these codes travel in URLs (a lot code is part of a GS1 Digital Link),
# file names and barcodes; "-", "." and "_" are the characters both GS1 and URLs take as they are.
LOT_CODE = Identifier(
    re.compile(r"[A-Za-z0-9._-]+"), 20, required=True,
    message=_l("A lot code has at most 20 characters: letters without accents (A–Z), digits and - . _ only, no spaces."),
)
REGISTRATION_NO = Identifier(
    re.compile(r"[A-Za-z0-9./-]+"), 20, required=True,
    message=_l("A registration number has at most 20 characters: letters without accents (A–Z), digits and - . / only, no spaces."),
)
GROWING_AREA_CODE = Identifier(
    re.compile(r"[A-Za-z0-9._/-]+"), 40,
    message=_l("A growing-area code has at most 40 characters: letters without accents (A–Z), digits and - . _ / only, no spaces."),
)
GTIN = Gtin(re.compile(r"[0-9]+(?: [0-9]+)*"), 20, message=_l("A GTIN has 8, 12, 13 or 14 digits."))
GLN = Gln(re.compile(r"[0-9]+(?: [0-9]+)*"), 20, message=_l("A GLN has 13 digits."))
# A supplier's lot as printed on the bag or invoice ("LOT 2405-12", "L/240512"): it is copied, not made up here, so
# spaces and "/" are allowed; letters without accents, as on packaging and in traceability messages.
SUPPLIER_LOT = Identifier(
    re.compile(r"[A-Za-z0-9]+(?:[ ./_-]+[A-Za-z0-9]+)*"), 40,
    message=_l("A supplier's lot has at most 40 characters: letters without accents (A–Z), digits, spaces and - . / _ only."),
)
# Certificates are numbered by decisions such as "125/QĐ-UBND": Vietnamese letters belong in them.
CERTIFICATE_NO = Identifier(
    re.compile(r"[^\W_]+(?:[ ./_-]+[^\W_]+)*[./_-]*"), 60,
    message=_l("A certificate number has at most 60 characters: letters, digits, spaces and - . / _ only."),
)
PHONE = Identifier(
    re.compile(r"[0-9 +().-]+"), 20,
    message=_l("A phone number has at most 20 characters: digits, spaces and + ( ) . - only."),
)
_EMAIL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+"
EMAIL = Identifier(re.compile(_EMAIL), 254, message=_l("This e-mail address is not valid."))
LOGIN = Identifier(
    re.compile(rf"{_EMAIL}|[0-9 +().-]+"), 254, required=True,
    message=_l("Enter an e-mail address (without accents or spaces) or a Vietnamese phone number such as 0912 345 678."),
)

Rule = Identifier | FreeText


def required(rule: Rule) -> Rule:
    return replace(rule, required=True)


def clean_values(values: Mapping[str, Any], rules: Mapping[str, Rule], partial: bool = False) -> dict:
    """A copy of values with every field that has a rule checked and cleaned.

    Raises RuleViolation for the first bad field. A required field that is missing is refused, unless
    `partial` (an update that leaves the field as it is). Fields without a rule are copied unchanged.
    """
    cleaned = dict(values)
    for field, rule in rules.items():
        if field in values:
            if values[field] is not None or rule.required:
                cleaned[field] = rule.check(values[field], field)
        elif rule.required and not partial:
            raise RuleViolation(field, REQUIRED)
    return cleaned


def filename_part(text: str) -> str:
    """User text made safe inside a download's file name: no controls, no path or quote characters.
    (Non-ASCII letters stay: Werkzeug sends them in the RFC 5987 `filename*` parameter.)"""
    return re.sub(r"[\\/:*?\"<>|\s]+", "_", _UNWANTED.sub(" ", _nfc(text))).strip("._") or "_"
