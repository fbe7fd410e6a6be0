"""Finding the names of banned substances, and the trade names they are sold under, in what a diary says.

Farmers write products as they read them on the bottle: "Regent 800WG", "REGENT 800 WG", "regent800wg". The
listed name and the diary's text are both normalised the same way:

1. Unicode NFC, then each character on its own: lower case, Vietnamese diacritics dropped, "đ" read as "d".
2. Cut into words: a word is a run of letters or a run of digits. Anything else (spaces, hyphens, dots,
   commas, slashes, brackets) separates words, and so does the step between letters and digits, so "800WG"
   is the two words "800" "wg".

A listed name is found where its words stand in the text as consecutive whole words. So "Regent" is found in
"REGENT 800 WG", "regent800wg" and "Regent-800WG" but never inside another word ("Regentino", "agent"); "2,4-D"
in "2,4 D" and "2.4D" but not in "2,4-DB"; "DDT" not in "Đ.D.T" (three one-letter words). Folding diacritics
makes some Vietnamese words collide ("cỏ cháy" and "có chảy" are both "co chay"), which is why the list avoids
short Vietnamese nicknames. Pure functions: no database, no Flask.
"""
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_]+|\d+")
# Formulation codes printed after a product's strength ("800WG", "20 SL", "3GR"): quoted with the name found.
FORMULATION_CODES = frozenset({
    "bhn", "bth", "cs", "dc", "dd", "dp", "ec", "es", "ew", "fs", "g", "gb", "gr", "h", "hn", "l", "me", "nd", "od",
    "sc", "se", "sg", "sl", "sp", "ss", "tb", "ul", "ulv", "wdg", "wg", "wp", "ws", "zc",
})


@dataclass(frozen=True)
class Word:
    """One word of a text, folded, with where it stands in the text (NFC)."""
    text: str
    start: int
    end: int


def _fold_character(character: str) -> str:
    """One character, lower case and without its diacritics; always exactly one character, so that a folded
    text's positions are the original's."""
    if character in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", character)[0]
    return base.lower()[:1] or base


def words(text: str) -> list[Word]:
    """The words of a text (module docstring), positions counted in its NFC form."""
    folded = "".join(_fold_character(c) for c in unicodedata.normalize("NFC", text))
    return [Word(m.group(), m.start(), m.end()) for m in _WORD.finditer(folded)]


def key(name: str) -> tuple[str, ...]:
    """What two spellings of one name have in common: "Regent 800WG" and "regent-800 wg" give the same key."""
    return tuple(word.text for word in words(name))


@dataclass(frozen=True)
class ListedName:
    """A name on the banned list: a substance's own name, or one of its trade names."""
    words: tuple[str, ...]
    substance: str  # the substance, as the list names it
    trade_name: str | None = None  # as the list writes it; None for the substance's own name


@dataclass(frozen=True)
class Found:
    """A listed name in a text: what the text says there (a product's strength and formulation included, as
    in "Regent 800WG"), and the name it matched."""
    written: str
    name: ListedName


class Matcher:
    """Finds listed names in texts. Where two listed names start at the same word, the longer wins."""

    def __init__(self, names: Iterable[ListedName]):
        self._by_first_word: dict[str, list[ListedName]] = {}
        for name in names:
            if name.words:
                self._by_first_word.setdefault(name.words[0], []).append(name)
        for candidates in self._by_first_word.values():
            candidates.sort(key=lambda n: len(n.words), reverse=True)

    def __bool__(self) -> bool:
        return bool(self._by_first_word)

    def find(self, text: str) -> Found | None:
        """The first listed name in the text, or None."""
        text = unicodedata.normalize("NFC", text)
        found = words(text)
        for at, word in enumerate(found):
            for name in self._by_first_word.get(word.text, ()):
                if tuple(w.text for w in found[at:at + len(name.words)]) == name.words:
                    last = _with_formulation(found, at + len(name.words) - 1)
                    return Found(text[word.start:found[last].end], name)
        return None


def _with_formulation(found: list[Word], last: int) -> int:
    """The last word to quote: the name's, or the formulation right after it ("800" "wg")."""
    if (last + 2 < len(found) and found[last + 1].text.isdigit()
            and found[last + 2].text in FORMULATION_CODES):
        return last + 2
    return last
