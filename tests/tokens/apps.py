"""A small partner app that the child processes of the cross-process tests build from settings.

The parent test passes the same ``SECRET_KEY``, database URL and Redis URL to
every process, so that each one reads the tokens the others cached.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_adobe_admin_auth import AdobeAdminAuth


def build_app(config: dict[str, Any]) -> Flask:
    """Build the app from ``config``, which must contain ``SECRET_KEY``, the database and IMS URLs.

    The child processes ask the runtime for tokens directly, so the app has no
    routes and no account loader.
    """
    app = Flask(__name__)
    app.config.update(config)
    db = SQLAlchemy(app)
    AdobeAdminAuth(app, db=db)
    return app
