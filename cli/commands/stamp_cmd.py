"""``provenance stamp``: check consent, watermark, sign, store, write."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._output import emit_fields, emit_json, show_progress, status
from .._state import app_state

if TYPE_CHECKING:
    from provenance.clip import StampedClip

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm")
VIDEO_OUTPUTS = (".mp4", ".m4v")


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Output file; its suffix picks the format (.png, .jpg, .webp, or .mp4 "
              "for video).")
@click.option("--license", "license_path", required=True, type=click.Path(path_type=Path),
              help="The face owner's signed license (license.json).")
@click.option("--purpose", required=True, help="Declared purpose, e.g. education.")
@click.option("--territory", help="Declared territories, e.g. DE or EU,US "
              "(default: the license's territories).")
@click.option("--engine", help="Watermark engine (default: the workspace's).")
@click.option("--quality", default=95, show_default=True, type=click.IntRange(50, 100),
              help="JPEG quality of the output.")
@click.option("--crf", default=18, show_default=True, type=click.IntRange(0, 51),
              help="Video: encoder constant rate factor.")
@click.option("--preset", default="medium", show_default=True,
              help="Video: encoder preset (ultrafast ... veryslow).")
@click.option("--codec", type=click.Choice(["h264", "h265"]), default="h264",
              show_default=True, help="Video: encoder (libx264 or libx265).")
@click.option("--fps", help="Frame rate of a SOURCE directory of numbered frames, e.g. 30 "
              "or 30000/1001.")
@click.option("--tsa-url", help="RFC 3161 time-stamp authority to countersign with.")
@click.option("--repository", metavar="URL", help="Manifest repository to store into: a SQLite "
              "file or a postgresql:// URL (default: $PROVENANCE_REPOSITORY, else the "
              "workspace's).")
@click.option("--visible-label/--no-visible-label", default=None,
              help="Render the visible 'AI-generated' label into the frames (default: the "
              "workspace's labelling profile).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def stamp(source: Path, output: Path, license_path: Path, purpose: str, territory: str | None,
          engine: str | None, quality: int, crf: int, preset: str, codec: str,
          fps: str | None, tsa_url: str | None, repository: str | None,
          visible_label: bool | None, as_json: bool,
          force: bool) -> None:
    """Stamp SOURCE under a face owner's license: refuse out-of-scope use, else watermark
    every frame and sign a C2PA manifest into OUTPUT.

    SOURCE is a still (PNG, JPEG, WebP), a video (MP4, MOV, MKV, WebM; written as MP4 with
    every frame marked and the audio kept), or a directory of numbered frames with --fps.
    """
    from provenance.consent import License
    from provenance.stamp import Stamper, stamp_file

    state = app_state()
    workspace = state.workspace()
    license = License.load(license_path)
    stamper = Stamper.from_workspace(
        workspace, passphrase=state.passphrase(), engine=engine, tsa_url=tsa_url,
        repository=repository,
    )
    video = (output.suffix.lower() in VIDEO_OUTPUTS
             or (not source.is_dir() and source.suffix.lower() in VIDEO_SUFFIXES))
    try:
        if video:
            clip = _stamp_clip(stamper, source, output, license=license, purpose=purpose,
                               territory=territory, crf=crf, preset=preset, codec=codec,
                               fps=fps, force=force, quiet=as_json,
                               visible_label=visible_label)
        else:
            stamped = stamp_file(stamper, source, output, license=license, purpose=purpose,
                                 territory=territory, quality=quality, force=force,
                                 visible_label=visible_label)
    finally:
        stamper.close()
    if video:
        _report(source, output, _clip_result(output, clip), as_json)
        return
    result = {
        "output": str(output),
        "content_id": stamped.content_id.hex,
        "face_id": stamped.face_id,
        "license_id": stamped.license_id,
        "purpose": stamped.purpose,
        "territory": stamped.territory,
        "engine": stamped.engine,
        "format": stamped.format.mime,
        "sha256": stamped.sha256,
    }
    _report(source, output, result, as_json)


def _report(source: Path, output: Path, result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    status(f"stamped {source} -> {output}")
    emit_fields([(key.replace("_", " "), str(value)) for key, value in result.items()
                 if key != "output"])


def _stamp_clip(stamper: Any, source: Path, output: Path, *, license: Any, purpose: str,
                territory: str | None, crf: int, preset: str, codec: str, fps: str | None,
                force: bool, quiet: bool, visible_label: bool | None) -> StampedClip:
    from provenance.clip import stamp_frame_directory, stamp_video
    from provenance.errors import InputError
    from provenance.media import Encoding, VideoCodec

    encoding = Encoding(codec=VideoCodec(codec), crf=crf, preset=preset)
    progress = None if quiet or not sys.stderr.isatty() else show_progress
    common: dict[str, Any] = dict(license=license, purpose=purpose, territory=territory,
                                  encoding=encoding, force=force, progress=progress,
                                  visible_label=visible_label)
    try:
        if source.is_dir():
            if fps is None:
                raise InputError(f"{source}: a directory of frames needs --fps")
            return stamp_frame_directory(stamper, source, output, fps=_fraction(fps), **common)
        return stamp_video(stamper, source, output, **common)
    finally:
        if progress is not None:
            click.echo("", err=True)


def _fraction(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError) as exc:
        raise click.BadParameter(f"'{text}' is not a frame rate", param_hint="--fps") from exc
    if value <= 0 or value > 1000:
        raise click.BadParameter(f"'{text}' is not a usable frame rate", param_hint="--fps")
    return value


def _clip_result(output: Path, clip: StampedClip) -> dict[str, Any]:
    return {
        "output": str(output),
        "content_id": clip.content_id.hex,
        "face_id": clip.face_id,
        "license_id": clip.license_id,
        "purpose": clip.purpose,
        "territory": clip.territory,
        "engine": clip.engine,
        "format": "video/mp4",
        "frames": clip.frames,
        "duration_s": round(clip.duration_s, 3),
        "size": f"{clip.width}x{clip.height}",
        "fps": f"{clip.fps.numerator}/{clip.fps.denominator}",
        "audio": clip.audio,
        "sha256": clip.sha256,
    }
