"""Sphinx configuration of the flask-adobe-admin-auth documentation."""

from __future__ import annotations

from importlib.metadata import version as package_version

project = "flask-adobe-admin-auth"
author = "flask-adobe-admin-auth contributors"
copyright = "flask-adobe-admin-auth contributors"
release = package_version("flask-adobe-admin-auth")
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

# The docs environment installs the package and Sphinx only: no pytest, no
# Alembic. Modules that need them are documented by hand.
autodoc_member_order = "bysource"
autodoc_typehints = "description"


# No intersphinx: the build must not depend on fetching other sites' inventories.

html_theme = "furo"
html_title = f"flask-adobe-admin-auth {release}"
html_static_path = ["_static"]

exclude_patterns = ["_build"]
