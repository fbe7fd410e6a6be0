"""Stamp codes: 80 unguessable bits in Crockford base32 plus a Luhn mod 32 check character.

A code is derived from (run, serial) with HMAC-SHA256 under a key that is not in the database, so a
run's PDF can be rendered again, identical, while the database holds only a hash of each code.
Knowing some codes reveals nothing about the others.
"""
import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from stdnum import luhn

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
BODY_LENGTH = 16  # 16 × 5 bits = 80 bits
CODE_LENGTH = BODY_LENGTH + 1
GROUPS = (4, 4, 4, 5)
# What people and scanners confuse: O for 0, I and L for 1.
MISREADS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_RFC4648_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)


def _base32(data: bytes) -> str:
    """Ten bytes as sixteen Crockford base32 characters (the same bits as RFC 4648 base32)."""
    return base64.b32encode(data).decode("ascii").translate(_RFC4648_TO_CROCKFORD)


def derive_code(key: bytes, run_id: int, serial: int) -> str:
    digest = hmac.digest(key, f"ocop-stamp:{run_id}:{serial}".encode(), "sha256")
    body = _base32(digest[:10])
    return body + luhn.calc_check_digit(body, alphabet=ALPHABET)


def code_hash(code: str) -> bytes:
    """What the database stores for a code: 128 bits of SHA-256 (the code itself has 80 random bits)."""
    return hashlib.sha256(code.encode("ascii")).digest()[:16]


def group(code: str) -> str:
    """The printed form: "7KQ4 M2XD 9PTA 3HVBF"."""
    parts, start = [], 0
    for size in GROUPS:
        parts.append(code[start:start + size])
        start += size
    return " ".join(parts)


class Shape(str, Enum):
    """What a typed or scanned text is, before any lookup."""
    WELL_FORMED = "well_formed"  # right length, alphabet and check character: it may name a stamp
    WRONG_CHECK = "wrong_check"  # right length and alphabet, wrong check character: a typo
    WRONG_LENGTH = "wrong_length"  # a character left out or added
    WRONG_CHARACTERS = "wrong_characters"  # a character no code contains (U, punctuation, letters of another script)


@dataclass(frozen=True)
class Typed:
    shape: Shape
    code: str | None  # the canonical code, only when well-formed
    length: int  # characters typed, grouping spaces and dashes left out


def _canonical_text(typed: str) -> str:
    return "".join(c for c in typed.upper() if c not in " -.").translate(MISREADS)


def read(typed: str) -> Typed:
    """What a person typed or a scanner read. Only a well-formed code can name a stamp; anything else is
    a mistake in typing or reading, told apart without a lookup."""
    text = _canonical_text(typed)
    if any(c not in ALPHABET for c in text):
        return Typed(Shape.WRONG_CHARACTERS, None, len(text))
    if len(text) != CODE_LENGTH:
        return Typed(Shape.WRONG_LENGTH, None, len(text))
    if not luhn.is_valid(text, alphabet=ALPHABET):
        return Typed(Shape.WRONG_CHECK, None, len(text))
    return Typed(Shape.WELL_FORMED, text, len(text))


def normalise(typed: str) -> str | None:
    """The canonical code for what a person typed or a scanner read, or None when it cannot be one."""
    return read(typed).code
