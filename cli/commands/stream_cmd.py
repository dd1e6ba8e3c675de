"""``provenance stream``: stamp a live stream segment by segment into signed HLS."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._output import emit_fields, emit_json, status
from .._state import app_state

if TYPE_CHECKING:
    from provenance.live import SegmentWritten, StampedStream
    from provenance.media import Progress


@click.command()
@click.argument("source")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The HLS playlist to write (.m3u8); the init segment, the segments "
              "and a DASH .mpd go beside it.")
@click.option("--license", "license_path", required=True, type=click.Path(path_type=Path),
              help="The face owner's signed license (license.json).")
@click.option("--purpose", required=True, help="Declared purpose, e.g. education.")
@click.option("--territory", help="Declared territories (default: the license's).")
@click.option("--size", help="Raw frames on stdin (SOURCE '-'): WIDTHxHEIGHT, e.g. 1280x720.")
@click.option("--fps", help="Raw frames on stdin: frame rate, e.g. 30 or 30000/1001.")
@click.option("--pix-fmt", default="rgb24", show_default=True,
              type=click.Choice(["rgb24", "yuv420p"]), help="Raw frames on stdin: layout.")
@click.option("--realtime", is_flag=True,
              help="Play a file SOURCE at its real frame rate (default: as fast as possible).")
@click.option("--segment-seconds", default=2.0, show_default=True,
              type=click.FloatRange(0.5, 10), help="Segment length (one GOP each).")
@click.option("--preset", default="veryfast", show_default=True,
              help="Encoder preset (ultrafast ... veryslow).")
@click.option("--crf", default=18, show_default=True, type=click.IntRange(0, 51),
              help="Encoder constant rate factor.")
@click.option("--engine", help="Watermark engine (default: the workspace's).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--force", is_flag=True, help="Replace the playlist and its segments.")
def stream(source: str, output: Path, license_path: Path, purpose: str, territory: str | None,
           size: str | None, fps: str | None, pix_fmt: str, realtime: bool,
           segment_seconds: float, preset: str, crf: int, engine: str | None, as_json: bool,
           force: bool) -> None:
    """Stamp a live stream from SOURCE into signed fMP4 segments and an HLS playlist.

    SOURCE is '-' for raw frames on stdin (with --size and --fps), or any video file or
    URL FFmpeg opens. Consent is checked before anything starts; every frame carries the
    stream's watermark; each segment is signed as it is written (spec/live.md).
    """
    from provenance.consent import License
    from provenance.live import StreamStamper, paced, raw_frames, stream_frames
    from provenance.media import Encoding
    from provenance.media.live import read_source
    from provenance.stamp import Stamper

    state = app_state()
    workspace = state.workspace()
    license = License.load(license_path)
    if source == "-":
        if size is None or fps is None:
            raise click.UsageError("raw frames on stdin need --size and --fps")
        width, height = _size(size)
        rate = _fraction(fps)
        frames: Any = raw_frames(sys.stdin.buffer, width=width, height=height, pix_fmt=pix_fmt)
    else:
        info, frames = read_source(Path(source))
        width, height, rate = info.width, info.height, info.fps
        if realtime:
            frames = paced(frames, rate)
    stamper = Stamper.from_workspace(workspace, passphrase=state.passphrase(), engine=engine)
    tty = not as_json and sys.stderr.isatty()
    try:
        live = StreamStamper(
            stamper, output, license=license, purpose=purpose, territory=territory,
            width=width, height=height, fps=rate, segment_seconds=segment_seconds,
            encoding=Encoding(crf=crf, preset=preset), force=force,
            progress=_show_progress if tty else None,
            on_segment=_show_segment if tty else None,
        )
        result = stream_frames(live, frames)
    finally:
        stamper.close()
        if tty:
            click.echo("", err=True)
    _report(result, as_json)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as exc:
        raise click.BadParameter(f"'{text}' is not WIDTHxHEIGHT", param_hint="--size") from exc
    return width, height


def _fraction(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError) as exc:
        raise click.BadParameter(f"'{text}' is not a frame rate", param_hint="--fps") from exc
    if value <= 0 or value > 240:
        raise click.BadParameter(f"'{text}' is not a usable frame rate", param_hint="--fps")
    return value


def _show_progress(progress: Progress) -> None:
    rate = progress.frames / progress.elapsed_s if progress.elapsed_s > 0 else 0.0
    click.echo(f"\r  {progress.frames} frames, {rate:.1f} fps   ", nl=False, err=True)


def _show_segment(segment: SegmentWritten) -> None:
    click.echo(f"\r  signed {segment.path.name} ({segment.frames} frames, "
               f"{segment.size // 1024} KiB, {segment.sign_ms:.2f} ms)", err=True)


def _report(result: StampedStream, as_json: bool) -> None:
    fields: dict[str, Any] = {
        "playlist": str(result.playlist),
        "init": str(result.init),
        "content_id": result.content_id.hex,
        "stream_id": result.stream_id,
        "face_id": result.face_id,
        "license_id": result.license_id,
        "purpose": result.purpose,
        "territory": result.territory,
        "frames": result.frames,
        "segments": len(result.segments),
        "duration_s": round(result.duration_s, 3),
        "size": f"{result.width}x{result.height}",
        "fps": f"{result.fps.numerator}/{result.fps.denominator}",
    }
    if as_json:
        emit_json(fields)
        return
    status(f"streamed -> {result.playlist}")
    emit_fields([(k.replace("_", " "), str(v)) for k, v in fields.items() if k != "playlist"])
