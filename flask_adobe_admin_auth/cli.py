"""Command-line interface: ``flask adobe-admin-auth ...``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

cli_group = AppGroup("adobe-admin-auth", help="Inspect and manage Adobe admin consents and tokens.")


@cli_group.command("check")
def check_command() -> None:
    """Check the configuration."""
    from .runtime import get_runtime

    settings = get_runtime().settings
    click.echo(f"Client id: {settings.client_id}")
