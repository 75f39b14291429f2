"""Code that runs in child processes of the cross-process tests (started with spawn)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from flask import Flask

from flask_adobe_admin_auth import AdobeAdminAuthError
from flask_adobe_admin_auth.runtime import get_runtime

from .apps import build_app


def fetch_tokens(
    config: dict[str, Any], orgs: list[str], threads: int, start: threading.Barrier
) -> list[tuple[str, str, str]]:
    """Build an app from ``config`` and run :func:`fetch_in_threads` once ``start`` opens."""
    app = build_app(config)
    start.wait()
    return fetch_in_threads(app, orgs, threads)


def fetch_in_threads(app: Flask, orgs: Sequence[str], threads: int) -> list[tuple[str, str, str]]:
    """Ask for every org's token from ``threads`` threads that start at once.

    :returns: one ``(requested org, token org or error class, token or error code)``
        per call.
    """
    results: list[tuple[str, str, str]] = []
    lock = threading.Lock()
    local_start = threading.Barrier(threads)

    def work(offset: int) -> None:
        local_start.wait()
        for index in range(len(orgs)):
            org_id = orgs[(index + offset) % len(orgs)]
            with app.app_context():
                try:
                    token = get_runtime(app).get_token(org_id)
                    outcome = (org_id, token.org_id, token.access_token)
                except AdobeAdminAuthError as error:
                    outcome = (org_id, type(error).__name__, error.code)
            with lock:
                results.append(outcome)

    workers = [threading.Thread(target=work, args=(offset,)) for offset in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results
