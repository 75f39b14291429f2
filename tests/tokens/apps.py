"""A small partner app that child processes and gunicorn workers build from plain settings.

The parent test passes the same ``SECRET_KEY``, database URL and Redis URL to
every process, so that each one reads the tokens the others cached.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy

from flask_adobe_admin_auth import AdobeAdminAuth, current_token, requires_customer_token

#: Environment variable that carries the app's config as JSON for gunicorn workers.
CONFIG_ENV = "ADOBE_ADMIN_AUTH_TEST_APP_CONFIG"

#: Request header that names the signed-in account in these test apps.
ACCOUNT_HEADER = "X-Test-Account"


def build_app(config: dict[str, Any]) -> Flask:
    """Build the app; ``config`` must hold ``SECRET_KEY``, the database URL and the IMS URLs."""
    app = Flask(__name__)
    app.config.update(config)
    db = SQLAlchemy(app)
    adobe = AdobeAdminAuth(app, db=db)

    @adobe.account_loader
    def load_account() -> str | None:
        return request.headers.get(ACCOUNT_HEADER)

    @app.get("/reports")
    @requires_customer_token
    def reports() -> Any:
        return jsonify(org_id=current_token.org_id, token=current_token.access_token)

    @app.get("/health")
    def health() -> str:
        return "ok"

    return app


def create_app_from_env() -> Flask:
    """Build the app from the JSON in :data:`CONFIG_ENV`; gunicorn calls it as a factory."""
    return build_app(json.loads(os.environ[CONFIG_ENV]))
