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
