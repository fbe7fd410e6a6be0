"""Helpers shared by the services that create and change tracked rows."""
from typing import Any, Iterable

from app.extensions import db


def create(model: type, actor_id: int | None, **values: Any):
    obj = model(**values, created_by_id=actor_id, updated_by_id=actor_id)
    db.session.add(obj)
    return obj


def assign(obj, values: dict[str, Any], fields: Iterable[str], actor_id: int | None) -> None:
    """Copy the named fields from values onto obj and record who changed it."""
    for name in fields:
        if name in values:
            setattr(obj, name, values[name])
    obj.updated_by_id = actor_id
