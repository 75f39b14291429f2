"""Code that runs in child processes of the cross-process tests (started with spawn)."""

from __future__ import annotations

import threading
from typing import Any

from flask_adobe_admin_auth import AdobeAdminAuthError
from flask_adobe_admin_auth.runtime import get_runtime

from .apps import build_app


def fetch_tokens(
    config: dict[str, Any], orgs: list[str], threads: int, start: threading.Barrier
) -> list[tuple[str, str, str]]:
    """Ask for every org's token from ``threads`` threads at once after ``start`` opens.

    :returns: one ``(requested org, token org or error class, token or error code)``
        per call.
    """
    app = build_app(config)
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

    start.wait()
    workers = [threading.Thread(target=work, args=(offset,)) for offset in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results
