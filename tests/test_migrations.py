"""The schema changes only through migrations: models and migrations agree, and they run both ways."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from app import create_app
from app.extensions import db as _db
from app.models import Commune
from tests.conftest import _config


def test_models_and_migrations_agree(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        assert compare_metadata(context, db.metadata) == []


def test_upgrade_downgrade_upgrade_on_an_empty_database(tmp_path):
    app = create_app(_config(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path))
    with app.app_context():
        upgrade()
        assert _db.session.scalar(select(func.count()).select_from(Commune)) == 3321
        _db.session.remove()
        downgrade(revision="base")
        tables = _db.session.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars().all()
        assert set(tables) <= {"alembic_version"}
        _db.session.remove()
        upgrade()
        assert _db.session.scalar(select(func.count()).select_from(Commune)) == 3321
        _db.session.remove()
        _db.engine.dispose()
