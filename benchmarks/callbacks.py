"""Callbacks: verifying many id_tokens with the cached JWKS against a fetch per token.

Run: ``python benchmarks/callbacks.py``. Our verifier checks each token with
the key set cached in the extension's cache. The baseline does what a
per-call verification does: fetch the key set with ``requests``, build the
key and check the signature and claims, for every token.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import requests
from common import app_config, build_app, flush_cache, print_machine, storage_urls
from joserfc import jwt
from joserfc.jwk import KeySet

from flask_adobe_admin_auth.runtime import get_runtime
from flask_adobe_admin_auth.testing import LocalIMS

# The same header rules as our verifier, which accepts Adobe's x5u and itt headers.
from flask_adobe_admin_auth.verifier import _REGISTRY as registry

ORG_ID = "0123456789ABCDEF01234567@AdobeOrg"


def verify_with_fetch_per_call(ims: LocalIMS, id_token: str, nonce: str, registry: Any) -> None:
    """Verify one id_token the per-call way: a new HTTP fetch of the key set each time."""
    key_set = KeySet.import_key_set(requests.get(ims.base_url + "/ims/keys", timeout=5).json())
    token = jwt.decode(id_token, key_set, algorithms=["RS256"], registry=registry)
    claims = token.claims
    if claims["aud"] != ims.client_id or claims["nonce"] != nonce or claims["exp"] < time.time():
        raise ValueError("claims do not match")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000, help="id_tokens (default 1000)")
    args = parser.parse_args()

    database_url, cache_url = storage_urls()
    flush_cache(cache_url)
    print_machine(database_url, cache_url)

    with LocalIMS() as ims:
        app = build_app(app_config(ims, database_url, cache_url), create_tables=True)
        verifier = get_runtime(app).verifier
        nonces = [f"nonce-{number}" for number in range(args.tokens)]
        ours_tokens = [ims.make_id_token(org_id=ORG_ID, nonce=nonce) for nonce in nonces]
        baseline_tokens = [ims.make_id_token(org_id=ORG_ID, nonce=nonce) for nonce in nonces]
        started = time.perf_counter()
        for id_token, nonce in zip(ours_tokens, nonces, strict=True):
            verifier.verify(id_token, nonce=nonce)
        ours = time.perf_counter() - started
        ours_fetches = ims.jwks_requests()

        ims.reset_counters()
        started = time.perf_counter()
        for id_token, nonce in zip(baseline_tokens, nonces, strict=True):
            verify_with_fetch_per_call(ims, id_token, nonce, registry)
        baseline = time.perf_counter() - started
        baseline_fetches = ims.jwks_requests()

    print(f"{args.tokens} id_tokens verified")
    print(
        f"  cached JWKS (ours): {ours / args.tokens * 1e3:7.3f} ms each, "
        f"{ours_fetches} JWKS fetch(es)"
    )
    print(
        f"  fetch per token:    {baseline / args.tokens * 1e3:7.3f} ms each, "
        f"{baseline_fetches} JWKS fetch(es)"
    )
    print(
        f"ratio fetch-per-token / ours: {baseline / ours:.1f}x time, "
        f"{baseline_fetches / max(ours_fetches, 1):.0f}x JWKS fetches"
    )


if __name__ == "__main__":
    main()
