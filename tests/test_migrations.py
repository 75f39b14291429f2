"""Flask-Migrate (Alembic) autogenerates, applies and reverts the extension's tables."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_adobe_admin_auth import AdobeAdminAuth
from flask_adobe_admin_auth.runtime import get_runtime
from flask_adobe_admin_auth.testing import LocalIMS

from .support import ORG_A

DATABASE_URL = os.environ.get("ADOBE_ADMIN_AUTH_TEST_DATABASE_URL")

# The env.py that Flask-Migrate 4.1 generates tries db.get_engine() first,
# which Flask-SQLAlchemy 3.1 deprecates before env.py falls back to db.engine.
pytestmark = pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """A database URL and engine options for an empty database.

    On PostgreSQL the tables go to a schema of their own, dropped afterwards,
    because other tests share the database.
    """
    if DATABASE_URL is None or not DATABASE_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}", {}
        return

    schema = "migrations_" + secrets.token_hex(4)
    engine = sa.create_engine(DATABASE_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield DATABASE_URL, {"connect_args": {"options": f"-csearch_path={schema}"}}
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def preserved_logging() -> Iterator[None]:
    """Restore the logging setup that the migration environment's fileConfig replaces.

    Flask-Migrate's env.py calls logging.config.fileConfig, which disables
    every logger that exists and swaps the root handlers; later tests read
    the extension's log records.
    """
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    saved = {
        name: (logger.disabled, logger.level, list(logger.handlers), logger.propagate)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    yield
    root.setLevel(saved_root[0])
    root.handlers[:] = saved_root[1]
    for name, (disabled, level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.disabled = disabled
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


@pytest.fixture
def migrated_app(
    database: tuple[str, dict[str, Any]], local_ims: LocalIMS, preserved_logging: None
) -> Iterator[Flask]:
    url, engine_options = database
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test-secret-key-that-is-long-enough",
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options,
        **local_ims.config(),
    )
    db = SQLAlchemy(app)

    class Account(db.Model):  # type: ignore[name-defined,misc]
        # An app model, to show the extension's tables migrate next to the app's own.
        __tablename__ = "accounts"
        id = sa.Column(sa.Integer, primary_key=True)

    AdobeAdminAuth(app, db=db)
    flask_migrate.Migrate(app, db)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_autogenerate_creates_tables(migrated_app: Flask, tmp_path: Path) -> None:
    directory = str(tmp_path / "migrations")

    with migrated_app.app_context():
        flask_migrate.init(directory=directory)
        flask_migrate.migrate(directory=directory, message="create tables")
        flask_migrate.upgrade(directory=directory)

        inspector = sa.inspect(get_runtime().store.db.engine)
        tables = set(inspector.get_table_names())
        consent_indexes = {index["name"] for index in inspector.get_indexes("adobe_consents")}
        event_indexes = {index["name"] for index in inspector.get_indexes("adobe_consent_events")}
        uniques = inspector.get_unique_constraints("adobe_consents")
        columns = {column["name"]: column for column in inspector.get_columns("adobe_consents")}

    assert {"accounts", "adobe_consents", "adobe_consent_events", "alembic_version"} <= tables
    assert {"ix_adobe_consents_account_status", "ix_adobe_consents_org_id"} <= consent_indexes
    assert {
        "ix_adobe_consent_events_consent_id",
        "ix_adobe_consent_events_account_id",
    } <= event_indexes
    assert [(unique["name"], unique["column_names"]) for unique in uniques] == [
        ("uq_adobe_consents_account_org", ["account_id", "org_id"])
    ]
    assert columns["granted_at"]["nullable"] is False
    assert columns["revoked_at"]["nullable"] is True


def test_generated_script_needs_no_imports(migrated_app: Flask, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"

    with migrated_app.app_context():
        flask_migrate.init(directory=str(directory))
        flask_migrate.migrate(directory=str(directory), message="create tables")

    [script] = (directory / "versions").glob("*.py")
    text = script.read_text()
    assert "flask_adobe_admin_auth" not in text
    assert "sa.DateTime(timezone=True)" in text
    assert "sa.UniqueConstraint('account_id', 'org_id', name='uq_adobe_consents_account_org')" in (
        text
    )


def test_migrated_tables_store_aware_times(migrated_app: Flask, tmp_path: Path) -> None:
    directory = str(tmp_path / "migrations")

    with migrated_app.app_context():
        flask_migrate.init(directory=directory)
        flask_migrate.migrate(directory=directory, message="create tables")
        flask_migrate.upgrade(directory=directory)
        store = get_runtime().store
        consent, _ = store.grant(
            account_id="alice",
            org_id=ORG_A,
            technical_account_id="tech@techacct.adobe.com",
            scopes="openid,AdobeID",
        )
        loaded = store.get(consent.id)

    assert loaded is not None
    assert loaded.granted_at.tzinfo is not None
    assert loaded.granted_at.utcoffset() == dt.timedelta(0)
    assert loaded.granted_at == consent.granted_at


def test_second_autogenerate_finds_no_changes(migrated_app: Flask, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"

    with migrated_app.app_context():
        flask_migrate.init(directory=str(directory))
        flask_migrate.migrate(directory=str(directory), message="create tables")
        flask_migrate.upgrade(directory=str(directory))
        flask_migrate.migrate(directory=str(directory), message="nothing to do")

    # Flask-Migrate's env.py writes no script when autogenerate finds no change,
    # so a type or index that compares unequal would show up as a second file.
    scripts = [script.name for script in (directory / "versions").glob("*.py")]
    assert len(scripts) == 1
    assert "create_tables" in scripts[0]


def test_downgrade_drops_tables(migrated_app: Flask, tmp_path: Path) -> None:
    directory = str(tmp_path / "migrations")

    with migrated_app.app_context():
        flask_migrate.init(directory=directory)
        flask_migrate.migrate(directory=directory, message="create tables")
        flask_migrate.upgrade(directory=directory)
        flask_migrate.downgrade(directory=directory, revision="base")
        tables = set(sa.inspect(get_runtime().store.db.engine).get_table_names())

    assert "adobe_consents" not in tables
    assert "adobe_consent_events" not in tables
