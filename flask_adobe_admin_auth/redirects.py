"""Redirect targets that stay on this site."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

# Browsers treat a backslash as a slash and drop tabs and newlines inside
# URLs, so `/\evil.example` and `/\t/evil.example` lead off-site.
_UNSAFE_CHARACTERS = re.compile(r"[\\\x00-\x1f\x7f]")

# Unicode control, format (zero-width, bidi override) and line or paragraph
# separator characters have no place in a path this site generated.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def is_safe_path(target: str | None, max_length: int) -> bool:
    """Return whether ``target`` is a relative path on this site, safe to redirect to.

    :param max_length: the longest target accepted, in characters
        (``ADOBE_ADMIN_AUTH_MAX_PARAM_LENGTH``).

    Accepted: ``/reports?tab=1``. Rejected: absolute URLs, scheme-relative
    ``//host``, ``/\\host``, ``https:host``, ``javascript:...``, anything
    with control characters or backslashes, and targets that turn into one
    of those once percent-decoded (``/%09/host``, ``/%2F/host``,
    ``/%5Chost``), in case a proxy or the app decodes the path again.
    """
    if not target or len(target) > max_length:
        return False
    return _is_relative_path(target) and _is_relative_path(unquote(target))


def _is_relative_path(target: str) -> bool:
    if not target.startswith("/") or target.startswith("//"):
        return False
    if _UNSAFE_CHARACTERS.search(target):
        return False
    if any(unicodedata.category(character) in _UNSAFE_CATEGORIES for character in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
