"""Command-line interface: ``flask adobe-admin-auth ...``.

The group is named after the extension rather than a bare ``adobe``, so that
it cannot clash with the commands of another Adobe-related extension in the
same app. Every command runs in an app context and uses the same runtime as
the app's views, so tokens minted here land in the shared cache.

Exit status: 0 on success, 1 when the operation failed (IMS unreachable, a
token not minted, a consent not found by ``revoke``), 2 for invalid arguments.
"""

from __future__ import annotations

from flask.cli import AppGroup

cli_group = AppGroup(
    "adobe-admin-auth",
    help="Inspect and manage Adobe admin consents and the tokens minted for them.",
)

# Imported after cli_group exists, because each module attaches its commands to it.
from . import check, consents, tokens  # noqa: E402, F401
