"""Scale proof: the example app under gunicorn, 4 worker processes, a cold token cache.

Every worker process builds the example app from the environment, against
the same PostgreSQL database and Redis, and talks to a LocalIMS run by this
test. Client threads sign in as the three demo accounts and open the
organization page at once, and the stand-in must see exactly one token
request per org.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from importlib.metadata import version
from pathlib import Path

import pytest
import requests
from flask import Flask

from example_app.accounts import DEMO_ACCOUNTS
from flask_adobe_admin_auth.testing import DEFAULT_ORGS, LocalIMS

from .helpers import seed_consent

pytestmark = [pytest.mark.scale, pytest.mark.shared_storage]

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
THREADS_PER_WORKER = 4
REQUESTS = 200
CLIENT_THREADS = 32
BOOT_TIMEOUT = 30

#: Each demo account has consented to its own org of the stand-in.
ACCOUNT_ORGS = dict(zip(DEMO_ACCOUNTS, DEFAULT_ORGS, strict=False))

#: Same for every worker, so that a session cookie signed by one is valid in all.
SECRET_KEY = "scale-test-secret-key-shared-by-all-workers"

AppBuilder = Callable[..., Flask]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def without_control_socket() -> list[str]:
    """Turn off the control socket that gunicorn opens since release 25.1.

    Its default path is in the home directory, shared by every gunicorn that
    runs at the same time. Older releases have neither the socket nor the flag.
    """
    major, minor = (int(part) for part in version("gunicorn").split(".")[:2])
    return ["--no-control-socket"] if (major, minor) >= (25, 1) else []


def example_env(local_ims: LocalIMS, database_url: str, cache_url: str) -> dict[str, str]:
    """Build the environment that makes the example app read its settings, aimed at the stand-in."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ADOBE_ADMIN_AUTH_") or name.startswith("ADOBE_ADMIN_AUTH_TEST_")
    }
    for name, value in local_ims.config().items():
        env[name] = json.dumps(value) if isinstance(value, list) else str(value)
    env.update(
        ADOBE_ADMIN_AUTH_CACHE=cache_url,
        SECRET_KEY=SECRET_KEY,
        SQLALCHEMY_DATABASE_URI=database_url,
        EXAMPLE_ADOBE_API_URL=local_ims.demo_api_url + "/organization",
    )
    return env


@pytest.fixture
def gunicorn_url(
    make_app: AppBuilder,
    local_ims: LocalIMS,
    database_url: str,
    cache_url: str | None,
    tmp_path: Path,
) -> Iterator[str]:
    assert cache_url is not None
    # The app of the make_app fixture creates the extension's tables before the workers
    # start, so their create_all calls find them and never race, and it drops
    # the tables at the end. It mints nothing, so the token cache stays cold.
    seeding_app = make_app()
    for account, org_id in ACCOUNT_ORGS.items():
        seed_consent(seeding_app, local_ims, account, org_id)

    port = free_port()
    log_path = tmp_path / "gunicorn.log"
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
        *without_control_socket(),
        "example_app:create_app()",
    ]
    with log_path.open("wb") as log:
        # A session of its own puts gunicorn in its own process group, so the
        # cleanup can kill the master and its workers together if the master hangs.
        server = subprocess.Popen(  # noqa: S603
            command,
            cwd=REPO_ROOT,
            env=example_env(local_ims, database_url, cache_url),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server, log_path)
        yield url
    finally:
        stop(server)


def wait_until_ready(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited early:\n{log_path.read_text()}")
        try:
            if requests.get(url + "/sign-in", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            # Workers still booting.
            pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not respond within {BOOT_TIMEOUT} s:\n{log_path.read_text()}")


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the gunicorn master, which stops its workers, or kill the whole group if it hangs."""
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        # The master is not reaped yet, so its group id still names this group.
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


@pytest.fixture
def clients(gunicorn_url: str) -> Iterator[list[tuple[str, requests.Session]]]:
    """One client per thread, signed in through the sign-in form, spread over the accounts."""
    accounts = list(ACCOUNT_ORGS)
    with ExitStack() as stack:
        signed_in = []
        for number in range(CLIENT_THREADS):
            account = accounts[number % len(accounts)]
            client = stack.enter_context(requests.Session())
            response = client.post(gunicorn_url + "/sign-in", data={"account": account}, timeout=30)
            assert response.status_code == 200
            assert response.url == gunicorn_url + "/dashboard"
            signed_in.append((account, client))
        yield signed_in


def test_gunicorn_mints_once_per_org(
    gunicorn_url: str, clients: list[tuple[str, requests.Session]], local_ims: LocalIMS
) -> None:
    # Slow first responses keep each org's mint in flight while requests pile up.
    local_ims.fail_next(len(ACCOUNT_ORGS), status=None, delay=0.5)
    results: list[tuple[str, int | str, str]] = []
    lock = threading.Lock()
    next_request = iter(range(REQUESTS))
    start = threading.Barrier(CLIENT_THREADS)

    def work(account: str, client: requests.Session) -> None:
        start.wait()
        while True:
            with lock:
                number = next(next_request, None)
            if number is None:
                return
            try:
                response = client.get(gunicorn_url + "/organization", timeout=30)
                outcome: tuple[str, int | str, str] = (
                    account,
                    response.status_code,
                    response.text,
                )
            except requests.RequestException as error:
                # Recorded as a failed request, because an exception would only end this thread.
                outcome = (account, type(error).__name__, "")
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=work, args=client) for client in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    statuses = Counter(status for _, status, _ in results)
    assert statuses == {200: REQUESTS}, f"statuses {dict(statuses)} after {elapsed:.1f} s"
    consented = local_ims.consented_orgs()
    for account, _, page in results:
        org_id = ACCOUNT_ORGS[account]
        assert org_id in page
        assert DEFAULT_ORGS[org_id] in page
        assert consented[org_id] in page
        others = [other for other in ACCOUNT_ORGS.values() if other != org_id]
        assert not any(other in page for other in others)
    # Every page called the demo API, and the stand-in saw no token request but the first per org.
    assert local_ims.demo_requests() == REQUESTS
    assert local_ims.token_requests() == len(ACCOUNT_ORGS)
    for org_id in ACCOUNT_ORGS.values():
        assert local_ims.token_requests(org_id) == 1
