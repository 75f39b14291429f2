"""The demo accounts that can sign in to the example app."""

from __future__ import annotations

from collections.abc import Mapping

#: Account id to the company name shown on the sign-in page. Each account is
#: one tenant of the partner app and links its own Adobe org.
DEMO_ACCOUNTS: Mapping[str, str] = {
    "acme-admin": "Acme Corporation",
    "globex-admin": "Globex",
    "initech-admin": "Initech",
}


def is_local_path(target: str | None) -> bool:
    """Tell whether ``target`` is a path on this site, safe to redirect to after sign-in."""
    if not target or len(target) > 2048:
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    # Browsers read a backslash as a slash, and drop control characters.
    return not any(char == "\\" or ord(char) < 0x20 or ord(char) == 0x7F for char in target)
