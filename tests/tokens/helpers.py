"""Helpers shared by the token tests: seeding consents and reading the runtime."""

from __future__ import annotations

from flask import Flask

from flask_adobe_admin_auth.models import Consent
from flask_adobe_admin_auth.runtime import Runtime, get_runtime
from flask_adobe_admin_auth.testing import LocalIMS


def runtime_of(app: Flask) -> Runtime:
    return get_runtime(app)


def seed_consent(app: Flask, local_ims: LocalIMS, account_id: str, org_id: str) -> Consent:
    """Record a consent on both sides, as the browser flow would, without the browser."""
    technical_account_id = local_ims.grant_consent(org_id)
    with app.app_context():
        consent, _ = runtime_of(app).store.grant(
            account_id=account_id,
            org_id=org_id,
            technical_account_id=technical_account_id,
            scopes=runtime_of(app).settings.scope_param,
        )
    return consent
