"""Mints: N threads in each of P processes ask for one org's token while the cache is cold.

Run: ``python benchmarks/mints.py``. Set ADOBE_ADMIN_AUTH_TEST_CACHE_URL (Redis)
and ADOBE_ADMIN_AUTH_TEST_DATABASE_URL so that the processes share a cache;
with the in-process cache each process mints once. Side by side, a naive
client calls the token endpoint on every cache miss. The target for the
extension is one request reaching the stand-in per org.
"""

from __future__ import annotations

import argparse
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from common import (
    ORG_ID,
    app_config,
    build_app,
    flush_cache,
    print_machine,
    seed_consent,
    storage_urls,
)

from flask_adobe_admin_auth.runtime import get_runtime
from flask_adobe_admin_auth.testing import LocalIMS
from flask_adobe_admin_auth.token_endpoint import TokenEndpoint


def run_threads(config: dict[str, Any], threads: int, naive: bool, start: threading.Barrier) -> int:
    """Ask for the token from ``threads`` threads; return how many calls got one."""
    app = build_app(config)
    runtime = get_runtime(app)
    endpoint = TokenEndpoint(
        url=runtime.settings.token_url,
        client_id=runtime.settings.client_id,
        scope=runtime.settings.scope_param,
        timeout=runtime.settings.http_timeout,
    )
    local_start = threading.Barrier(threads)
    got: list[bool] = []

    def work() -> None:
        local_start.wait()
        with app.app_context():
            result: object
            if naive:
                result = endpoint.request(ORG_ID, runtime.settings.client_secrets[0])
            else:
                result = runtime.get_token(ORG_ID)
        got.append(result is not None)

    start.wait()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(got)


def measure(
    ims: LocalIMS, config: dict[str, Any], processes: int, threads: int, naive: bool
) -> tuple[int, int, float]:
    """Return the calls that got a token, the token requests IMS counted and the seconds it took."""
    flush_cache(config["ADOBE_ADMIN_AUTH_CACHE"])
    ims.reset_counters()
    # A slow first response keeps the mint in flight while every caller arrives.
    ims.fail_next(status=None, delay=0.3)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(processes, mp_context=context) as pool:
        start = manager.Barrier(processes)
        began = time.perf_counter()
        futures = [
            pool.submit(run_threads, config, threads, naive, start) for _ in range(processes)
        ]
        answered = sum(future.result(timeout=120) for future in futures)
        elapsed = time.perf_counter() - began
    return answered, ims.token_requests(ORG_ID), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4, help="processes (default 4)")
    parser.add_argument("--threads", type=int, default=16, help="threads per process (default 16)")
    args = parser.parse_args()

    database_url, cache_url = storage_urls()
    print_machine(database_url, cache_url)
    if cache_url is None:
        print("note: no shared cache, so each process mints on its own")

    with LocalIMS() as ims:
        config = app_config(ims, database_url, cache_url)
        seed_app = build_app(config, create_tables=True)
        seed_consent(seed_app, ims, "account-1", ORG_ID)

        calls = args.processes * args.threads
        print(f"{args.processes} processes x {args.threads} threads = {calls} calls, cold cache")
        results = {}
        for name, naive in (("extension", False), ("naive", True)):
            answered, requests_seen, elapsed = measure(
                ims, config, args.processes, args.threads, naive
            )
            results[name] = requests_seen
            print(
                f"  {name:>9}: {answered} calls got a token, {requests_seen} token request(s) "
                f"reached the stand-in, {elapsed:.2f} s"
            )
    print(
        f"ratio naive / extension: {results['naive'] / max(results['extension'], 1):.0f}x token "
        f"requests (target for the extension: 1 request)"
    )


if __name__ == "__main__":
    main()
