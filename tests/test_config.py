"""Configuration from the environment: secrets, database URLs, SQLite settings."""
import os
import stat

import pytest

from app import config


def test_production_refuses_to_start_without_a_real_secret(monkeypatch):
    for value in (None, "", "changeme", "short-secret"):
        if value is None:
            monkeypatch.delenv("SECRET_KEY", raising=False)
        else:
            monkeypatch.setenv("SECRET_KEY", value)
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            config.ProductionConfig.load_secret()
    monkeypatch.setenv("SECRET_KEY", "a" * 64)
    monkeypatch.setenv("STAMP_KEY", "b" * 64)
    config.ProductionConfig.load_secret()
    assert config.ProductionConfig.SECRET_KEY == "a" * 64


def test_development_generates_the_secret_once_with_mode_0600(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config, "INSTANCE", tmp_path)
    first = config.instance_secret_key()
    assert len(first) == 64 and config.instance_secret_key() == first
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_database_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@h/db")
    assert config.database_url() == "postgresql+psycopg://u:p@h/db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@h/db")
    assert config.database_url() == "postgresql+psycopg://u:p@h/db"


def test_sqlite_is_set_up_for_a_web_server(db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite settings")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_the_sqlite_busy_timeout_comes_from_the_environment(monkeypatch, tmp_path):
    from sqlalchemy import create_engine

    def busy_timeout() -> int:
        engine = create_engine(f"sqlite:///{tmp_path / 'busy.db'}")
        with engine.connect() as connection:
            value = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        engine.dispose()
        return value

    monkeypatch.delenv("SQLITE_BUSY_TIMEOUT_MS", raising=False)
    assert busy_timeout() == 10_000
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "1500")
    assert busy_timeout() == 1500
