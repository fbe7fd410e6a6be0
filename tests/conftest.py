"""Fixtures: a real database (an SQLite file, or PostgreSQL from TEST_DATABASE_URL) built by the migrations."""
import contextvars
import os
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.config import TestingConfig, celery_settings
from app.extensions import db as _db
from app.models import Role
from app.services import accounts, cooperatives

PASSWORD = "mat-khau-thu-nghiem"
# Kept between tests: reference data, and the audit trail, which the database refuses to delete from.
REFERENCE_TABLES = {"provinces", "communes", "alembic_version", "banned_substances", "banned_trade_names", "audit_events"}
LUC_NGAN, PHUC_HOA = 7582, 7330


def _config(database_url: str, tmp: Path) -> type[TestingConfig]:
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        INSTANCE_PATH = str(tmp)
        UPLOAD_FOLDER = str(tmp / "uploads")
        CELERY = {**celery_settings(tmp), "broker_url": f"sqla+sqlite:///{tmp / 'jobs.db'}"}  # each test its own queue

    return Config


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """Migrate a fresh database once per run; each test then empties the non-reference tables."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app(_config(url, tmp_path_factory.mktemp("migrate")))
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            _db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            _db.session.commit()
        upgrade()
        _db.engine.dispose()
    return url


class RequestClient(FlaskClient):
    """Each request served as a real server serves it, even though the test itself holds an application
    context for calling services: the request, and the reading of its whole response body, run in a fresh,
    empty `contextvars.Context`, so they see no application context but the one the request pushes and pops
    (fresh `g` and database session). A response whose body needs the request's context after the view has
    returned (a generator that queries the database) fails here as it fails under gunicorn."""

    def open(self, *args, **kwargs):
        # End the test's own transaction first, as a real client's request never shares one: on SQLite
        # every transaction takes the write lock (BEGIN IMMEDIATE), so a test holding one would block.
        _db.session.commit()
        kwargs["buffered"] = True  # the body is read now, inside the empty context, not later by the test
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(_config(database_url, tmp_path))
    app.test_client_class = RequestClient
    with app.app_context():
        yield app
        _db.session.remove()
        # users ↔ cooperatives and users → users point at each other: cut the links, then empty the tables.
        _db.session.execute(text("UPDATE users SET cooperative_id = NULL, created_by_id = NULL, updated_by_id = NULL"))
        for table in reversed(_db.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                _db.session.execute(table.delete())
        _db.session.commit()
        _db.engine.dispose()
        if app.extensions.get("scan_reader") not in (None, _db.engine):
            app.extensions["scan_reader"].dispose()  # the scan page's own pool (PostgreSQL): no connection left open


@pytest.fixture
def app_with(app, database_url, tmp_path):
    """Build another application on the test database with some settings changed: app_with(TRUSTED_PROXIES=1).
    The `app` fixture's context stays the test's, and still empties the tables afterwards."""
    def make(**settings):
        other = create_app(type("Config", (_config(database_url, tmp_path),), settings))
        other.test_client_class = RequestClient
        return other

    return make


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path: str, data: dict | None = None, **kwargs):
    """POST like a browser: with the session's CSRF token."""
    payload = {"csrf_token": csrf_token(client), **(data or {})}
    return client.post(path, data=payload, **kwargs)


def sign_in(client, login: str, password: str = PASSWORD):
    response = post_form(client, "/sign-in", {"login": login, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def make_cooperative(name: str, registration_no: str, commune_code: int = LUC_NGAN):
    return cooperatives.create_cooperative(
        {"name": name, "registration_no": registration_no, "commune_code": commune_code}, None
    )


def make_member(coop, login: str):
    return accounts.create_user(name=f"Thành viên {coop.name}", login=login, password=PASSWORD, role=Role.MEMBER, cooperative_id=coop.id)


@pytest.fixture
def coop_a(db):
    coop = make_cooperative("HTX Vải thiều Lục Ngạn", "2401000001", LUC_NGAN)
    make_member(coop, "a@htx.vn")
    return coop


@pytest.fixture
def coop_b(db):
    coop = make_cooperative("HTX nuôi ong Phồn Nhi", "2401000002", PHUC_HOA)
    make_member(coop, "b@htx.vn")
    return coop


@pytest.fixture
def member_client(client, coop_a):
    """A client signed in as a member of cooperative A."""
    sign_in(client, "a@htx.vn")
    return client


@pytest.fixture
def officer_client(client, db):
    accounts.create_user(name="Cán bộ xã Lục Ngạn", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    sign_in(client, "canbo@xa.vn")
    return client


@pytest.fixture
def admin_client(client, db):
    accounts.create_user(name="Quản trị", login="admin@ocop.vn", password=PASSWORD, role=Role.ADMIN)
    sign_in(client, "admin@ocop.vn")
    return client


def pytest_configure(config):
    config.addinivalue_line("markers", "served: starts the application under gunicorn (tests/served.py)")
