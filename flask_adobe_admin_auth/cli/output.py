"""Formatting and argument checks shared by the ``adobe-admin-auth`` commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import click

from ..models import ID_MAX_LENGTH


def fail(message: str) -> None:
    """Print ``message`` in red on standard error. The caller sets the exit status."""
    click.secho("Error: " + message, err=True, fg="red")


def format_time(value: dt.datetime | None) -> str:
    """Format ``value`` in UTC to the second, or as ``-`` when it is None."""
    if value is None:
        return "-"
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` under ``header`` in left-aligned columns as wide as their longest cell."""
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    for row in (header, *rows):
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def check_id(option: str, value: str | None) -> None:
    """Raise :class:`click.BadParameter` naming ``option`` when ``value`` is blank or too long."""
    if value is not None and not 0 < len(value.strip()) <= ID_MAX_LENGTH:
        raise click.BadParameter(
            f"must be 1 to {ID_MAX_LENGTH} characters, got {len(value)}.", param_hint=option
        )
