"""Rendering helpers shared by commands: results to stdout, status to stderr."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from provenance.media import Progress


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


def show_progress(progress: Progress) -> None:
    """Overwrite one stderr line with frames done, rate and time left (terminals only)."""
    rate = progress.frames / progress.elapsed_s if progress.elapsed_s > 0 else 0.0
    line = f"  {progress.frames} frames, {rate:.1f} fps"
    if progress.total:
        left = (progress.total - progress.frames) / rate if rate > 0 else 0.0
        line = (f"  {progress.frames}/{progress.total} frames, {rate:.1f} fps, "
                f"ETA {left:.0f} s")
    click.echo(f"\r{line}   ", nl=False, err=True)
