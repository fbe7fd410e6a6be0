"""Personal access tokens: a user makes one for a program (a phone app, a spreadsheet script), sees its
secret once, and revokes it when done. The token acts as its user, with the user's role and cooperative,
for reading only unless made read-write. Only the secret's SHA-256 is stored."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, User
from app.models.mixins import utcnow
from app.services import audit
from app.services.errors import NotFound
from app.services.identifiers import FreeText, clean_values

PREFIX = "ocop_"  # lets secret scanners and people recognise a leaked token
TOUCH_EVERY = timedelta(minutes=1)  # how stale "last used" may get: a write at most this often
RULES = {"name": FreeText(80, required=True)}


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` exists only here, to be shown once."""

    token: ApiToken
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user_id: int, values: dict, can_write: bool) -> NewToken:
    values = clean_values(values, RULES)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user_id, name=values["name"], token_hash=_digest(secret), can_write=bool(can_write))
    db.session.add(token)
    db.session.flush()
    audit.record("api_token_created", entity="api_token", entity_id=token.id,
                 after={"name": token.name, "can_write": token.can_write})
    db.session.commit()
    return NewToken(token, secret)


def list_tokens(user_id: int) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def revoke_token(user_id: int, token_id: int) -> None:
    """Deletes the token: it stops working at once. Another user's token is NotFound."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound
    audit.record("api_token_revoked", entity="api_token", entity_id=token.id, before={"name": token.name})
    db.session.delete(token)
    db.session.commit()


def token_user(secret: str) -> tuple[User, ApiToken] | None:
    """The enabled user and the token this secret names, else None.

    Notes when the token was last used, at most every TOUCH_EVERY, and only when this lookup opens the
    request's transaction (so that commit carries nothing else)."""
    if not secret.startswith(PREFIX):
        return None
    opens_transaction = not db.session().in_transaction()
    found = db.session.execute(
        select(User, ApiToken).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == _digest(secret))
    ).first()
    if found is None or found[0].is_disabled:
        return None
    user, token = found
    now = utcnow()
    if opens_transaction and (token.last_used_at is None or token.last_used_at < now - TOUCH_EVERY):
        token.last_used_at = now
        db.session.commit()
    return user, token
