"""Hot path: a view behind ``requires_customer_token`` against a bare view.

Run: ``python benchmarks/hot_path.py``. Set ADOBE_ADMIN_AUTH_TEST_DATABASE_URL
and ADOBE_ADMIN_AUTH_TEST_CACHE_URL to measure with PostgreSQL and Redis.
The target is a ratio of at most 1.3 with the consent and token cached.
"""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any

from common import (
    ACCOUNT_HEADER,
    ORG_ID,
    app_config,
    build_app,
    flush_cache,
    interleaved_medians,
    print_machine,
    seed_consent,
    storage_urls,
)

from flask_adobe_admin_auth.testing import LocalIMS

TARGET = 1.3


def wsgi_caller(app: Any, path: str) -> Any:
    """Return a function that calls the WSGI app directly with a prepared environ."""
    base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        "HTTP_" + ACCOUNT_HEADER.upper().replace("-", "_"): "account-1",
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.errors": sys.stderr,
    }

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"{path} returned {status}")

    def call() -> None:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO()
        body = app(environ, start_response)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()

    return call


def client_caller(client: Any, path: str) -> Any:
    headers = {ACCOUNT_HEADER: "account-1", "Accept": "application/json"}

    def call() -> None:
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path} returned {response.status_code}")

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds (default 15)")
    parser.add_argument("--repeat", type=int, default=400, help="requests per round (default 400)")
    args = parser.parse_args()

    database_url, cache_url = storage_urls()
    flush_cache(cache_url)
    print_machine(database_url, cache_url)

    with LocalIMS() as ims:
        app = build_app(app_config(ims, database_url, cache_url), create_tables=True)
        seed_consent(app, ims, "account-1", ORG_ID)
        client = app.test_client()

        calls = {
            "wsgi bare": wsgi_caller(app, "/bare"),
            "wsgi protected": wsgi_caller(app, "/protected"),
            "client bare": client_caller(client, "/bare"),
            "client protected": client_caller(client, "/protected"),
        }
        for call in calls.values():
            call()
        token_requests = ims.token_requests()

        medians = interleaved_medians(calls, args.rounds, args.repeat)
        extra_requests = ims.token_requests() - token_requests

    for name, seconds in medians.items():
        print(f"{name:>17}: {seconds * 1e6:8.1f} us per request (median of {args.rounds} rounds)")
    for kind in ("wsgi", "client"):
        ratio = medians[f"{kind} protected"] / medians[f"{kind} bare"]
        verdict = "ok" if ratio <= TARGET else "ABOVE TARGET"
        print(f"ratio protected/bare ({kind}): {ratio:.2f} (target <= {TARGET}: {verdict})")
    print(f"token requests during the timed runs: {extra_requests}")


if __name__ == "__main__":
    main()
