"""A small partner app that shows flask-adobe-admin-auth at work.

Run it with ``flask --app example_app run``. Without any configuration it talks
to a local stand-in for Adobe IMS; with ``ADOBE_ADMIN_AUTH_CLIENT_ID`` and the
other ``ADOBE_ADMIN_AUTH_*`` variables in the environment it talks to Adobe.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, session
from flask_sqlalchemy import SQLAlchemy

from flask_adobe_admin_auth import AdobeAdminAuth

from .accounts import DEMO_ACCOUNTS
from .dev_server import redact_request_log
from .settings import (
    BASE_CONFIG,
    DEFAULT_ADOBE_API_URL,
    config_from_env,
    generate_secret_key,
    start_stand_in,
    uses_real_adobe,
)

__all__ = ["STAND_IN_KEY", "adobe", "create_app", "db"]

logger = logging.getLogger(__name__)

#: Key of the embedded :class:`~flask_adobe_admin_auth.testing.LocalIMS` in
#: ``app.extensions``; absent when the app talks to Adobe.
STAND_IN_KEY = "example_local_ims"

#: Settings read from the environment in either mode.
GENERAL_ENV_KEYS = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "EXAMPLE_ADOBE_API_URL")

db = SQLAlchemy()
adobe = AdobeAdminAuth(db=db)


@adobe.account_loader
def load_account() -> str | None:
    account = session.get("account")
    return account if account in DEMO_ACCOUNTS else None


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the example app.

    Settings come, later ones winning, from built-in defaults, the environment
    (or the embedded stand-in when no client id is configured) and ``config``.

    :param config: settings that override everything else, for tests.
    """
    redact_request_log()
    overrides = dict(config or {})
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(BASE_CONFIG)
    app.config["EXAMPLE_ADOBE_API_URL"] = DEFAULT_ADOBE_API_URL
    for key in GENERAL_ENV_KEYS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]

    # Each process that builds the app gets its own stand-in. Under the
    # reloader of `flask run --debug` the watching parent builds one that no
    # request ever reaches, and every restarted child builds a fresh one.
    if uses_real_adobe(os.environ, overrides):
        app.config.update(config_from_env(os.environ))
    else:
        stand_in, stand_in_config = start_stand_in()
        app.config.update(stand_in_config)
        app.extensions[STAND_IN_KEY] = stand_in
        logger.info("Using the local Adobe IMS stand-in at %s", stand_in.base_url)
    app.config.update(overrides)

    try:
        _finish_config(app)
        _init_extensions(app)
    except BaseException:
        _stop_stand_in(app)
        raise
    return app


def _finish_config(app: Flask) -> None:
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        database = os.path.join(app.instance_path, "example_app.db")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"

    if not app.config.get("SECRET_KEY"):
        logger.warning(
            "SECRET_KEY is not set: using a random key, so sessions and pending consent "
            "flows reset whenever the app restarts"
        )
        app.config["SECRET_KEY"] = generate_secret_key()


def _init_extensions(app: Flask) -> None:
    from .views import blueprint

    db.init_app(app)
    adobe.init_app(app)
    app.register_blueprint(blueprint)

    with app.app_context():
        db.create_all()
        _restore_stand_in_consents(app)


def _restore_stand_in_consents(app: Flask) -> None:
    # A new stand-in remembers no consent, so it would reject token requests
    # for orgs linked before a restart, and the extension would revoke them.
    stand_in = app.extensions.get(STAND_IN_KEY)
    if stand_in is None:
        return

    for account in DEMO_ACCOUNTS:
        for consent in adobe.consents(account):
            stand_in.grant_consent(
                consent.org_id, technical_account_id=consent.technical_account_id
            )


def _stop_stand_in(app: Flask) -> None:
    stand_in = app.extensions.pop(STAND_IN_KEY, None)
    if stand_in is not None:
        stand_in.stop()
