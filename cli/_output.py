"""Rendering helpers shared by commands: results to stdout, status to stderr."""

from __future__ import annotations

import json
from typing import Any

import click


def emit_json(value: Any) -> None:
    """Print ``value`` as pretty JSON on stdout."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def emit_fields(rows: list[tuple[str, str]]) -> None:
    """Print aligned ``label  value`` rows on stdout."""
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        click.echo(f"  {label.ljust(width)}  {value}")


def status(message: str) -> None:
    """A status line on stderr (kept off stdout so results stay pipeable)."""
    click.echo(message, err=True)
