"""``provenance sample``: write a synthetic avatar frame or clip to try things on."""

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
@click.option("--seconds", default=4.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Length of a clip (.mp4 OUTPUT).")
@click.option("--fps", default=30, show_default=True, type=click.IntRange(1, 120),
              help="Frame rate of a clip (.mp4 OUTPUT).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def sample(output: Path, size: str, seed: int, seconds: float, fps: int, force: bool) -> None:
    """Write a synthetic avatar frame (PNG, JPEG or WebP by suffix) or, for .mp4, a
    talking-head clip (H.264)."""
    from provenance._internal.files import write_atomic
    from provenance.media import encode_image, format_for_path
    from provenance.media.synthetic import avatar_frame

    width, height = _size(size)
    if output.suffix.lower() == ".mp4":
        _write_clip(output, width, height, seconds=seconds, fps=fps, seed=seed, force=force)
        return
    fmt = format_for_path(output)
    write_atomic(output, encode_image(avatar_frame(height, width, seed=seed), fmt), force=force)
    status(f"wrote {output} ({width}x{height} synthetic avatar frame)")


def _write_clip(output: Path, width: int, height: int, *, seconds: float, fps: int, seed: int,
                force: bool) -> None:
    import os
    import tempfile
    from fractions import Fraction

    from provenance.errors import OutputExistsError
    from provenance.media import Encoding, VideoWriter, YuvFrame
    from provenance.media.synthetic import avatar_clip_frame

    if output.exists() and not force:
        raise OutputExistsError(f"{output}: already exists (use --force to replace it)")
    frames = max(1, round(seconds * fps))
    fd, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".mp4",
                                dir=output.parent if str(output.parent) else ".")
    os.close(fd)
    temporary = Path(name)
    try:
        with VideoWriter(temporary, width=width, height=height, fps=Fraction(fps),
                         encoding=Encoding(preset="veryfast", crf=16)) as writer:
            for index in range(frames):
                rgb = avatar_clip_frame(index, height, width, fps=fps, seed=seed)
                writer.write(YuvFrame.from_rgb(rgb))
        os.chmod(temporary, 0o644)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
    status(f"wrote {output} ({width}x{height}, {frames} frames at {fps} fps, synthetic "
           "talking head)")
