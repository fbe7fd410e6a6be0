"""GTIN (barcode number) validation: GTIN-8, -12, -13 and -14, stored as GTIN-14."""

VALID_LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalise_gtin(raw: str) -> str:
    """Return the GTIN-14 form of raw, or raise ValueError saying what is wrong."""
    digits = "".join(raw.split())
    if not digits.isdigit() or len(digits) not in VALID_LENGTHS:
        raise ValueError("length")
    if check_digit(digits[:-1]) != int(digits[-1]):
        raise ValueError("check digit")
    return digits.zfill(14)


def as_entered(gtin14: str | None) -> str:
    """A stored GTIN-14 as people read it under the barcode: the shortest standard form it pads (GTIN-8, -12 or the
    13-digit EAN-13 that Vietnamese products carry), so "08938505974194" shows as "8938505974194". Storage, the
    API and GS1 Digital Link URIs keep the GTIN-14."""
    if not gtin14:
        return ""
    for length in (8, 12, 13):
        if gtin14[:14 - length].strip("0") == "":
            return gtin14[14 - length:]
    return gtin14
