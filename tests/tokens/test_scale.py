"""Scale proof: gunicorn with 4 worker processes, a cold token cache and concurrent traffic.

The app is the small one in ``tests/tokens/apps.py``. Every worker process
builds it against the same PostgreSQL database and Redis, and LocalIMS, run
by this test, must see exactly one token request per org.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from flask_adobe_admin_auth.testing import LocalIMS

from .apps import ACCOUNT_HEADER, CONFIG_ENV
from .helpers import seed_consent
from .test_single_flight import shared_config

pytestmark = [pytest.mark.scale, pytest.mark.shared_storage]

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
THREADS_PER_WORKER = 4
ORGS = [f"{number:02d}A1B2C3D4E5F6A7B8C9D0E1@AdobeOrg" for number in range(1, 5)]
REQUESTS = 200
CLIENT_THREADS = 32

AppBuilder = Callable[..., Flask]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def gunicorn_url(make_app: AppBuilder, local_ims: LocalIMS, tmp_path: Path) -> Iterator[str]:
    app = make_app(ADOBE_ADMIN_AUTH_HTTP_TIMEOUT=5)
    for number, org_id in enumerate(ORGS):
        seed_consent(app, local_ims, f"account-{number}", org_id)

    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {**os.environ, CONFIG_ENV: json.dumps(shared_config(app))}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "gthread",
        "--threads",
        str(THREADS_PER_WORKER),
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(REPO_ROOT),
        "tests.tokens.apps:create_app_from_env()",
    ]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server, log_path)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def wait_until_ready(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited early:\n{log_path.read_text()}")
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            # Workers still booting.
            pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not respond within 30 s:\n{log_path.read_text()}")


def test_gunicorn_mints_once_per_org(gunicorn_url: str, local_ims: LocalIMS) -> None:
    # Slow first responses keep each org's mint in flight while requests pile up.
    local_ims.fail_next(len(ORGS), status=None, delay=0.5)
    results: list[tuple[str, int, dict[str, str] | None]] = []
    lock = threading.Lock()
    next_request = iter(range(REQUESTS))
    start = threading.Barrier(CLIENT_THREADS)

    def work() -> None:
        start.wait()
        with requests.Session() as client:
            while True:
                with lock:
                    number = next(next_request, None)
                if number is None:
                    return
                account = f"account-{number % len(ORGS)}"
                response = client.get(
                    gunicorn_url + "/reports",
                    headers={ACCOUNT_HEADER: account, "Accept": "application/json"},
                    timeout=30,
                )
                body = response.json() if response.status_code == 200 else None
                with lock:
                    results.append((account, response.status_code, body))

    threads = [threading.Thread(target=work) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = Counter(status for _, status, _ in results)
    assert statuses == {200: REQUESTS}
    tokens_by_org: dict[str, set[str]] = defaultdict(set)
    for account, _, body in results:
        assert body is not None
        assert body["org_id"] == ORGS[int(account.split("-")[1])]
        tokens_by_org[body["org_id"]].add(body["token"])
    assert {org: len(tokens) for org, tokens in tokens_by_org.items()} == dict.fromkeys(ORGS, 1)
    for org_id in ORGS:
        assert local_ims.token_requests(org_id) == 1
