"""Redirect targets that stay on this site."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Browsers treat a backslash as a slash and drop tabs and newlines inside
# URLs, so `/\evil.example` and `/\t/evil.example` lead off-site.
_UNSAFE_CHARACTERS = re.compile(r"[\\\x00-\x1f\x7f]")


def is_safe_path(target: str | None, max_length: int = 2048) -> bool:
    """Whether ``target`` is a relative path on this site, safe to redirect to.

    Accepted: ``/reports?tab=1``. Rejected: absolute URLs, scheme-relative
    ``//host``, ``/\\host``, ``https:host``, ``javascript:...``, and anything
    with control characters or backslashes.
    """
    if not target or len(target) > max_length:
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    if _UNSAFE_CHARACTERS.search(target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
