"""Provinces and communes, searchable without diacritics ("luc ngan" finds "Xã Lục Ngạn")."""
import unicodedata

from sqlalchemy import select

from app.extensions import db
from app.models import Commune

COMMUNE_PREFIXES = ("xa ", "phuong ", "dac khu ")


def fold(text: str) -> str:
    """Lower-case text with Vietnamese diacritics removed, for searching."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.lower().split())


def search_communes(query: str, limit: int = 20) -> list[Commune]:
    needle = fold(query)
    for prefix in COMMUNE_PREFIXES:
        needle = needle.removeprefix(prefix)
    if not needle:
        return []
    stmt = (
        select(Commune)
        .where(Commune.search_name.contains(needle, autoescape=True))
        .order_by(Commune.search_name)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def get_commune(code: int) -> Commune | None:
    return db.session.get(Commune, code)


def commune_label(commune: Commune) -> str:
    return f"{commune.name}, {commune.province.name}"


def resolve_commune(typed: str) -> tuple[Commune | None, list[Commune]]:
    """The commune a typed label names, and the candidates to offer when it names none or several."""
    name, _, province = typed.partition(",")
    candidates = search_communes(name, limit=30)
    if province.strip():
        wanted = fold(province)
        candidates = [c for c in candidates if wanted in fold(c.province.name)] or candidates
    exact = [c for c in candidates if fold(c.name) in (fold(name), f"xa {fold(name)}", f"phuong {fold(name)}")]
    if len(exact) == 1:
        return exact[0], exact
    if len(candidates) == 1:
        return candidates[0], candidates
    return None, candidates


def commune_in_place(place: str) -> Commune | None:
    """The one commune a free-text place names, read from its end ("chợ X, xã Phúc Hòa, Bắc Ninh"): each tail of
    the comma-separated parts is tried as "commune, province", longest first; None when none names exactly one."""
    parts = [part.strip() for part in place.split(",") if part.strip()]
    for start in range(len(parts)):
        commune, _candidates = resolve_commune(", ".join(parts[start:]))
        if commune is not None:
            return commune
    return None
