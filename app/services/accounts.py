"""Users: creation and changes, sign-in checks, server-side sessions and one-time password-reset links.

A browser is signed in only while its row in `user_sessions` exists: the signed cookie carries the
session's random token, the database its SHA-256. Ending a session deletes its row, so copies of the
cookie die with it. Reset links work the same way (`password_resets`), once, and for a limited time.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from email_validator import EmailNotValidError, validate_email
from flask import session
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Commune, Cooperative, PasswordReset, Role, User, UserSession
from app.models.mixins import utcnow
from app.services import audit, identifiers
from app.services.errors import NotFound, RuleViolation
from app.services.records import assign, create

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 200
# scrypt with N=2^15, r=8, p=1: the OWASP-recommended floor for scrypt.
PASSWORD_METHOD = "scrypt:32768:8:1"
# Compared against when the login is unknown, so that the time taken does not reveal which logins exist.
_DUMMY_HASH = generate_password_hash("not-a-password", method=PASSWORD_METHOD)

SESSION_KEY = "sid"  # the key, in Flask's signed cookie, of the session's token
SESSION_IDLE_LIMIT = timedelta(days=30)  # a session unused this long is over
SESSION_TOUCH_EVERY = timedelta(minutes=10)  # how stale "last seen" may get: a write at most this often
RESET_LINK_LIFETIME = timedelta(hours=24)
USER_FIELDS = ("name", "login", "role", "cooperative_id", "is_disabled")


def normalise_login(raw: str) -> str:
    """An e-mail address lower-cased, or a phone number as digits (+84 → 0)."""
    text = raw.strip()
    if "@" in text:
        return text.lower()
    digits = "".join(c for c in text if c.isdigit())
    if text.startswith("+84") or (digits.startswith("84") and len(digits) == 11):
        digits = "0" + digits[2:]
    return digits


def check_login_format(login: str) -> None:
    identifiers.LOGIN.check(login, "login")  # the same characters as the forms and the CLI allow
    if "@" in login:
        try:
            validate_email(login, check_deliverability=False)
        except EmailNotValidError as exc:
            raise RuleViolation("login", _l("This e-mail address is not valid.")) from exc
    elif not (9 <= len(login) <= 11 and login.startswith("0")):
        raise RuleViolation("login", _l("Enter an e-mail address or a Vietnamese phone number such as 0912 345 678."))


def check_new_password(password: str, login: str, field: str = "password") -> None:
    """The rules every new password meets, whoever sets it."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolation(field, _l("The password must have at least 8 characters."))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise RuleViolation(field, _l("The password is too long (at most 200 characters)."))
    if normalise_login(password) == login:
        raise RuleViolation(field, _l("The password must not be the same as the login."))


def _password_hash(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


# --- Signing in and sessions -------------------------------------------------------------------------

def authenticate(login: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.login == normalise_login(login)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or user.is_disabled:
        return None
    return user


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user only while the session named in the signed cookie is live."""
    return session_user(int(user_id), session.get(SESSION_KEY))


def session_user(user_id: int, token: str | None) -> User | None:
    """The enabled user whose live session this token names, else None.

    Also notes when the session was last seen, at most every SESSION_TOUCH_EVERY, and only when this
    lookup opens the request's transaction (so the commit carries nothing but that time)."""
    if not token:
        return None
    opens_transaction = not db.session().in_transaction()
    found = db.session.execute(
        select(User, UserSession).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == _digest(token), User.id == user_id)
    ).first()
    if found is None:
        return None
    user, live = found
    now = utcnow()
    if user.is_disabled or live.last_seen_at < now - SESSION_IDLE_LIMIT:
        return None
    if opens_transaction and live.last_seen_at < now - SESSION_TOUCH_EVERY:
        live.last_seen_at = now
        db.session.commit()
    return user


def _add_session(user: User, user_agent: str) -> str:
    # Sessions idle past SESSION_IDLE_LIMIT are deleted by a periodic job (housekeeping.purge_idle_sessions).
    token = _new_token()
    db.session.add(UserSession(token_hash=_digest(token), user_id=user.id, device=device_summary(user_agent)))
    return token


def open_session(user: User, user_agent: str) -> str:
    """Start a session for a user who has just proved who they are; returns the token for the cookie."""
    token = _add_session(user, user_agent)
    audit.record("sign_in", entity="user", entity_id=user.id, cooperative_id=user.cooperative_id, actor=user,
                 detail="sign-in")
    db.session.commit()
    return token


def end_session(token: str | None) -> None:
    """Sign-out: the session ends here, for this browser and every copy of its cookie."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))
        db.session.commit()


def _end_sessions(user_id: int, keep_token: str | None = None) -> int:
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_token:
        query = query.where(UserSession.token_hash != _digest(keep_token))
    return db.session.execute(query).rowcount


def end_other_sessions(user: User, keep_token: str | None) -> int:
    """"Sign out of all other devices": every session of this user but the one holding keep_token."""
    ended = _end_sessions(user.id, keep_token)
    audit.record("sign_out_others", entity="user", entity_id=user.id, cooperative_id=user.cooperative_id, actor=user,
                 after={"sessions_ended": ended}, detail="account page")
    db.session.commit()
    return ended


def end_one_session(user: User, session_id: int) -> None:
    """End one of the user's own sessions (another device); NotFound for anybody else's."""
    ended = db.session.execute(delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)).rowcount
    if not ended:
        raise NotFound
    db.session.commit()


@dataclass(frozen=True)
class ActiveSession:
    id: int
    device: str
    created_at: datetime
    last_seen_at: datetime
    is_current: bool


def active_sessions(user_id: int, current_token: str | None) -> list[ActiveSession]:
    """The user's live sessions, the most recently used first."""
    current = _digest(current_token) if current_token else None
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.last_seen_at >= utcnow() - SESSION_IDLE_LIMIT)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return [ActiveSession(r.id, r.device, r.created_at, r.last_seen_at, r.token_hash == current) for r in rows]


# Product tokens looked for in a User-Agent header, most specific first; shown to the user only, never trusted.
_BROWSERS = (("Zalo", "Zalo"), ("coc_coc", "Cốc Cốc"), ("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser", "Samsung Internet"),
             ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"), ("Mac OS X", "macOS"),
            ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_summary(user_agent: str) -> str:
    """"Chrome · Android": enough for a user to tell their own devices apart."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), "")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    return " · ".join(filter(None, (browser, system))) or user_agent[:80]


# --- Passwords -----------------------------------------------------------------------------------------

def change_password(user: User, current_password: str, new_password: str, keep_token: str | None) -> int:
    """The user's own change: the current password is required; every other session of the user ends.
    Returns how many other sessions ended."""
    if not check_password_hash(user.password_hash, current_password):
        raise RuleViolation("current_password", _l("The current password is wrong."))
    check_new_password(new_password, user.login, "new_password")
    if check_password_hash(user.password_hash, new_password):
        raise RuleViolation("new_password", _l("Choose a password different from the current one."))
    user.password_hash = _password_hash(new_password)
    ended = _end_sessions(user.id, keep_token)
    audit.record("password_changed", entity="user", entity_id=user.id, cooperative_id=user.cooperative_id, actor=user,
                 after={"other_sessions_ended": ended}, detail="account page")
    db.session.commit()
    return ended


def resettable_user(actor: User, user_id: int) -> User:
    """The account this actor may make a reset link for: an administrator any other account, an officer
    only members of cooperatives in the officer's communes. NotFound for anything else, as if it did not exist."""
    user = db.session.get(User, user_id)
    if user is None or user.id == actor.id:
        raise NotFound
    if actor.role is Role.ADMIN:
        return user
    if actor.role is Role.OFFICER and user.role is Role.MEMBER and user.cooperative is not None:
        if user.cooperative.commune_code in {c.code for c in actor.communes}:
            return user
    raise NotFound


@dataclass(frozen=True)
class ResetLink:
    user: User
    token: str
    expires_at: datetime


def create_reset_link(actor: User, user_id: int) -> ResetLink:
    """A new one-time link for the user (older unused ones stop working); every session of the user ends
    at once. The token is returned this once: only its digest is stored."""
    user = resettable_user(actor, user_id)
    db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    token = _new_token()
    expires_at = utcnow() + RESET_LINK_LIFETIME
    db.session.add(PasswordReset(token_hash=_digest(token), user_id=user.id, created_by_id=actor.id, expires_at=expires_at))
    ended = _end_sessions(user.id)
    audit.record("password_reset_link", entity="user", entity_id=user.id, cooperative_id=user.cooperative_id, actor=actor,
                 after={"expires_at": expires_at.isoformat(timespec="minutes"), "sessions_ended": ended},
                 detail=f"reset link for {user.login}")
    db.session.commit()
    return ResetLink(user, token, expires_at)


def reset_link_user(token: str) -> User:
    """The user of a live (unused, unexpired) link; NotFound otherwise."""
    found = db.session.execute(
        select(User).join(PasswordReset, PasswordReset.user_id == User.id)
        .where(PasswordReset.token_hash == _digest(token), PasswordReset.expires_at > utcnow())
    ).scalar()
    if found is None or found.is_disabled:
        raise NotFound
    return found


def use_reset_link(token: str, new_password: str, user_agent: str) -> tuple[User, str]:
    """Set the password from a live link, which then stops working; every session of the user ends and a
    fresh one starts. Returns the user and the new session's token."""
    user = reset_link_user(token)
    check_new_password(new_password, user.login, "new_password")
    user.password_hash = _password_hash(new_password)
    db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    ended = _end_sessions(user.id)
    session_token = _add_session(user, user_agent)
    # The path holds the token: the trail gets a fixed description instead.
    audit.record("password_reset", entity="user", entity_id=user.id, cooperative_id=user.cooperative_id, actor=user,
                 after={"sessions_ended": ended}, detail="password set from a reset link")
    db.session.commit()
    return user, session_token


# --- Accounts ----------------------------------------------------------------------------------------

def _check_account(user_id: int | None, login: str, role: Role, cooperative_id: int | None,
                   commune_codes: Iterable[int]) -> list[Commune]:
    """The rules creating and editing an account share; returns the officer's communes."""
    check_login_format(login)
    clash = select(User.id).where(User.login == login)
    if user_id is not None:
        clash = clash.where(User.id != user_id)
    if db.session.scalar(clash) is not None:
        raise RuleViolation("login", _l("This login is already used by another account."))
    if role is Role.MEMBER and db.session.get(Cooperative, cooperative_id or 0) is None:
        raise RuleViolation("cooperative_id", _l("Choose the cooperative this member belongs to."))
    communes = [db.session.get(Commune, code) for code in commune_codes]
    if role is Role.OFFICER and (not communes or None in communes):
        raise RuleViolation("communes", _l("Choose at least one commune for this officer."))
    return communes if role is Role.OFFICER else []


def create_user(
    *,
    name: str,
    login: str,
    password: str,
    role: Role,
    cooperative_id: int | None = None,
    commune_codes: Iterable[int] = (),
    actor_id: int | None = None,
) -> User:
    login = normalise_login(login)
    communes = _check_account(None, login, role, cooperative_id, commune_codes)
    check_new_password(password, login)
    user = create(
        User,
        actor_id,
        name=name.strip(),
        login=login,
        password_hash=_password_hash(password),
        role=role,
        cooperative_id=cooperative_id if role is Role.MEMBER else None,
    )
    user.communes = communes
    db.session.commit()
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound
    return user


def update_user(user_id: int, values: dict, commune_codes: Iterable[int], actor_id: int) -> User:
    """An administrator's change of an account, under the same rules as its creation. Disabling it ends
    its sessions; administrators cannot disable or demote themselves (nobody would be left to undo it)."""
    user = get_user(user_id)
    login = normalise_login(values["login"])
    role = values["role"]
    if user.id == actor_id and role is not user.role:
        raise RuleViolation("role", _l("You cannot change your own role."))
    if user.id == actor_id and values.get("is_disabled"):
        raise RuleViolation("is_disabled", _l("You cannot disable your own account."))
    communes = _check_account(user.id, login, role, values.get("cooperative_id"), commune_codes)
    assign(user, {**values, "name": values["name"].strip(), "login": login,
                  "cooperative_id": values.get("cooperative_id") if role is Role.MEMBER else None}, USER_FIELDS, actor_id)
    _set_communes(user, communes)
    if user.is_disabled:
        _end_sessions(user.id)
    db.session.commit()
    return user


def _set_communes(user: User, communes: list[Commune]) -> None:
    """An officer's communes decide what the officer sees: a change is written to the trail (the session
    hook records columns, not this link table)."""
    before, after = [c.code for c in user.communes], [c.code for c in communes]
    if sorted(before) != sorted(after):
        user.communes = communes
        audit.record("update", entity="user", entity_id=user.id, before={"communes": before}, after={"communes": after},
                     detail="officer communes")


def set_disabled(user_id: int, disabled: bool, actor_id: int | None) -> None:
    """Disabling an account also ends its sessions."""
    user = db.session.get(User, user_id)
    if user is None:
        raise RuleViolation("user", _l("This user does not exist."))
    user.is_disabled = disabled
    user.updated_by_id = actor_id
    if disabled:
        _end_sessions(user.id)
    db.session.commit()


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.role, User.name)))


def members_in_communes(commune_codes: list[int]) -> list[User]:
    """The member accounts of cooperatives in these communes (an officer's reach)."""
    return list(db.session.scalars(
        select(User).join(Cooperative, User.cooperative_id == Cooperative.id)
        .where(User.role == Role.MEMBER, Cooperative.commune_code.in_(commune_codes))
        .order_by(Cooperative.name, User.name)
    ))
