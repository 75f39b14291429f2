"""Testing aids: a local stand-in for Adobe IMS and pytest fixtures.

This package imports nothing from the rest of ``flask_adobe_admin_auth``, so
it also serves apps and tests that do not use the extension.
"""

from __future__ import annotations

from .ims import DEFAULT_ORGS, LocalIMS
from .pages import CONSENT_ERROR_CODES

__all__ = ["CONSENT_ERROR_CODES", "DEFAULT_ORGS", "LocalIMS"]
