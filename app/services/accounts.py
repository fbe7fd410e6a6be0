"""Users: creation, sign-in checks and roles."""
from typing import Iterable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Commune, Cooperative, Role, User
from app.services.errors import RuleViolation
from app.services.records import create

MIN_PASSWORD_LENGTH = 8
# scrypt with N=2^15, r=8, p=1: the OWASP-recommended floor for scrypt.
PASSWORD_METHOD = "scrypt:32768:8:1"
# Compared against when the login is unknown, so that the time taken does not reveal which logins exist.
_DUMMY_HASH = generate_password_hash("not-a-password", method=PASSWORD_METHOD)


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
    if "@" in login:
        try:
            validate_email(login, check_deliverability=False)
        except EmailNotValidError as exc:
            raise RuleViolation("login", _l("This e-mail address is not valid.")) from exc
    elif not (9 <= len(login) <= 11 and login.startswith("0")):
        raise RuleViolation("login", _l("Enter an e-mail address or a Vietnamese phone number such as 0912 345 678."))


def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user and user.is_active else None


def authenticate(login: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.login == normalise_login(login)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or user.is_disabled:
        return None
    return user


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
    check_login_format(login)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolation("password", _l("The password must have at least 8 characters."))
    if db.session.scalar(select(User.id).where(User.login == login)) is not None:
        raise RuleViolation("login", _l("This login is already used by another account."))
    if role is Role.MEMBER and db.session.get(Cooperative, cooperative_id or 0) is None:
        raise RuleViolation("cooperative_id", _l("Choose the cooperative this member belongs to."))
    communes = [db.session.get(Commune, code) for code in commune_codes]
    if role is Role.OFFICER and (not communes or None in communes):
        raise RuleViolation("commune_codes", _l("Choose at least one commune for this officer."))
    user = create(
        User,
        actor_id,
        name=name.strip(),
        login=login,
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
        role=role,
        cooperative_id=cooperative_id if role is Role.MEMBER else None,
    )
    user.communes = communes if role is Role.OFFICER else []
    db.session.commit()
    return user


def set_disabled(user_id: int, disabled: bool, actor_id: int | None) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        raise RuleViolation("user", _l("This user does not exist."))
    user.is_disabled = disabled
    user.updated_by_id = actor_id
    db.session.commit()


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.role, User.name)))
