"""Stamp codes: unguessable, checkable, tolerant of the usual misreads."""
import itertools

import pytest

from app.services import codes

KEY = b"k" * 32


def test_code_shape_and_check_character():
    code = codes.derive_code(KEY, 1, 1)
    assert len(code) == codes.CODE_LENGTH == 17
    assert set(code) <= set(codes.ALPHABET)
    assert codes.normalise(code) == code


def test_codes_differ_by_run_serial_and_key():
    seen = {codes.derive_code(KEY, run, serial) for run in (1, 2) for serial in range(1, 20_001)}
    assert len(seen) == 40_000
    assert codes.derive_code(KEY, 1, 1) != codes.derive_code(b"x" * 32, 1, 1)


def test_every_single_character_substitution_is_caught():
    code = codes.derive_code(KEY, 7, 42)
    for position, replacement in itertools.product(range(len(code)), codes.ALPHABET):
        if replacement != code[position]:
            typo = code[:position] + replacement + code[position + 1:]
            assert codes.normalise(typo) is None, typo


def test_adjacent_transpositions_are_caught():
    caught = total = 0
    for serial in range(1, 200):
        code = codes.derive_code(KEY, 3, serial)
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
                total += 1
                caught += codes.normalise(swapped) is None
    # Luhn mod N misses only the transposition of the first and last symbols of the alphabet.
    assert caught / total > 0.99


def test_printed_grouping_lower_case_and_misreads_are_accepted():
    code = codes.derive_code(KEY, 9, 9)
    printed = codes.group(code)
    assert printed.replace(" ", "") == code and printed.count(" ") == 3
    assert codes.normalise(printed.lower()) == code
    assert codes.normalise("-".join(printed.split())) == code
    misread = code.replace("0", "O").replace("1", "I")
    assert codes.normalise(misread) == code


@pytest.mark.parametrize("text", ["", "ABC", "U" * 17, "!" * 17, "0" * 40])
def test_garbage_is_not_a_code(text):
    assert codes.normalise(text) is None


def test_hash_is_fixed_length_and_distinct():
    a, b = codes.derive_code(KEY, 1, 1), codes.derive_code(KEY, 1, 2)
    assert len(codes.code_hash(a)) == 16 and codes.code_hash(a) != codes.code_hash(b)
