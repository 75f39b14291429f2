"""Configuration of the example app: real Adobe from the environment, or an embedded stand-in.

With ``ADOBE_ADMIN_AUTH_CLIENT_ID`` in the environment the app reads every
``ADOBE_ADMIN_AUTH_*`` variable and talks to Adobe. Without it the app starts
a :class:`~flask_adobe_admin_auth.testing.LocalIMS` on 127.0.0.1 and points the
extension at it, so the demo runs with no Adobe credential at all.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from flask_adobe_admin_auth.testing import LocalIMS

ENV_PREFIX = "ADOBE_ADMIN_AUTH_"

#: Variables with this prefix configure the project's own test suite, not the app.
TEST_ENV_PREFIX = "ADOBE_ADMIN_AUTH_TEST_"

#: Adobe API that the organization page calls in environment mode: the first
#: page of the org's users from the User Management API. ``{org_id}`` is
#: replaced with the consenting org's id. Override with ``EXAMPLE_ADOBE_API_URL``.
DEFAULT_ADOBE_API_URL = "https://usermanagement.adobe.io/v2/usermanagement/users/{org_id}/0"

#: Settings that either mode uses unless the environment or the caller overrides them.
BASE_CONFIG: Mapping[str, Any] = {
    "ADOBE_ADMIN_AUTH_LOGIN_ENDPOINT": "example.sign_in",
    "ADOBE_ADMIN_AUTH_AFTER_CONNECT_ENDPOINT": "example.dashboard",
    "ADOBE_ADMIN_AUTH_AFTER_DISCONNECT_ENDPOINT": "example.dashboard",
}


def parse_env_value(value: str) -> Any:
    """Decode a JSON list, object or boolean, and keep every other value as the string it is.

    Numbers stay strings on purpose: a client id or secret made of digits must
    not turn into an int, and the extension accepts numeric strings for times.
    """
    text = value.strip()
    if text[:1] in ("[", "{") or text in ("true", "false"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value
    return value


def config_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Collect the ``ADOBE_ADMIN_AUTH_*`` variables with their names kept whole.

    Flask's ``from_prefixed_env`` strips the prefix, but the extension reads
    the prefixed keys, so the variables are copied here instead.
    """
    return {
        name: parse_env_value(value)
        for name, value in environ.items()
        if name.startswith(ENV_PREFIX) and not name.startswith(TEST_ENV_PREFIX)
    }


def uses_real_adobe(environ: Mapping[str, str], overrides: Mapping[str, Any]) -> bool:
    """Tell whether a client id is configured, so that no stand-in is needed."""
    return bool(environ.get(ENV_PREFIX + "CLIENT_ID")) or bool(
        overrides.get(ENV_PREFIX + "CLIENT_ID")
    )


def start_stand_in() -> tuple[LocalIMS, dict[str, Any]]:
    """Start an interactive :class:`LocalIMS` on a free port and return it with its settings."""
    ims = LocalIMS(host="127.0.0.1", port=0).start()
    config: dict[str, Any] = dict(ims.config())
    config["EXAMPLE_ADOBE_API_URL"] = ims.demo_api_url + "/organization"
    return ims, config


def generate_secret_key() -> str:
    """Return a random key for sessions, valid until the process ends."""
    return secrets.token_hex(32)
