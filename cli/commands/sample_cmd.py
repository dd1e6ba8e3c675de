"""``provenance sample``: write a synthetic avatar frame to try things on."""

from __future__ import annotations

from pathlib import Path

import click

from .._output import status


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as exc:
        raise click.BadParameter(f"'{text}' is not WIDTHxHEIGHT") from exc
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise click.BadParameter(f"'{text}' is outside 16x16..8192x8192")
    return width, height


@click.command()
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--size", default="640x480", show_default=True, help="WIDTHxHEIGHT.")
@click.option("--seed", default=0, show_default=True, help="Varies colours, pose and noise.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def sample(output: Path, size: str, seed: int, force: bool) -> None:
    """Write a synthetic avatar frame (PNG, JPEG or WebP by suffix)."""
    from provenance._internal.files import write_atomic
    from provenance.media import encode_image, format_for_path
    from provenance.media.synthetic import avatar_frame

    width, height = _size(size)
    fmt = format_for_path(output)
    write_atomic(output, encode_image(avatar_frame(height, width, seed=seed), fmt), force=force)
    status(f"wrote {output} ({width}x{height} synthetic avatar frame)")
