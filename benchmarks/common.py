"""Helpers shared by the benchmark scripts: the app under test, storage and the machine."""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy

from flask_adobe_admin_auth import AdobeAdminAuth, current_token, requires_customer_token
from flask_adobe_admin_auth.runtime import get_runtime
from flask_adobe_admin_auth.testing import LocalIMS

ACCOUNT_HEADER = "X-Account"
ORG_ID = "0123456789ABCDEF01234567@AdobeOrg"


def storage_urls() -> tuple[str, str | None]:
    """Return the database URL and cache URL from the test suite's variables, or SQLite and None."""
    database_url = os.environ.get("ADOBE_ADMIN_AUTH_TEST_DATABASE_URL")
    if database_url is None:
        database_url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    return database_url, os.environ.get("ADOBE_ADMIN_AUTH_TEST_CACHE_URL")


def app_config(ims: LocalIMS, database_url: str, cache_url: str | None) -> dict[str, Any]:
    return {
        "SECRET_KEY": "benchmark-secret-key-that-is-long-enough",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ADOBE_ADMIN_AUTH_CACHE": cache_url,
        **ims.config(),
    }


def build_app(config: dict[str, Any], *, create_tables: bool = False) -> Flask:
    """Build an app with a bare view and a protected view; the account comes from a header."""
    app = Flask(__name__)
    app.config.update(config)
    db = SQLAlchemy(app)
    adobe = AdobeAdminAuth(app, db=db)

    @adobe.account_loader
    def load_account() -> str | None:
        return request.headers.get(ACCOUNT_HEADER)

    @app.get("/bare")
    def bare() -> Any:
        return jsonify(ok=True)

    @app.get("/protected")
    @requires_customer_token
    def protected() -> Any:
        return jsonify(ok=current_token is not None)

    if create_tables:
        with app.app_context():
            db.drop_all()
            db.create_all()
    return app


def seed_consent(app: Flask, ims: LocalIMS, account_id: str, org_id: str) -> None:
    technical_account_id = ims.grant_consent(org_id)
    with app.app_context():
        runtime = get_runtime(app)
        runtime.store.grant(
            account_id=account_id,
            org_id=org_id,
            technical_account_id=technical_account_id,
            scopes=runtime.settings.scope_param,
        )


def flush_cache(cache_url: str | None) -> None:
    if cache_url is not None:
        import redis

        client = redis.Redis.from_url(cache_url)
        client.flushdb()
        client.close()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_machine(database_url: str, cache_url: str | None) -> None:
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}")
    database = database_url.split("://", 1)[0]
    print(f"storage: database {database}, cache {cache_url or 'in-process SimpleCache'}")


def time_per_call(call: Callable[[], object], repeat: int) -> float:
    """Return the seconds one call takes, over ``repeat`` calls in a row."""
    started = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - started) / repeat


def interleaved_medians(
    calls: dict[str, Callable[[], object]], rounds: int, repeat: int
) -> dict[str, float]:
    """Time each call ``repeat`` times per round, alternating, and return the median per call.

    Alternating the candidates inside each round spreads noise from the
    machine evenly over them, so that their ratio is fair.
    """
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            samples[name].append(time_per_call(call, repeat))
    return {name: statistics.median(values) for name, values in samples.items()}
