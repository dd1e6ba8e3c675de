"""Stamping clips: every frame watermarked as it streams past, then the MP4 signed.

Frames flow decoder -> watermark -> encoder one at a time (``media.video``), so memory does
not grow with the clip. The encoded MP4 goes to a temporary file beside the output, is
signed from there into a second temporary file, and only that is renamed into place: a
failure anywhere leaves no output and releases the reserved content ID. The order of checks
is the still's (``spec/stamping.md``): consent first, before any ID is minted.

Three entry points share one :class:`_ClipSession`:

- :func:`stamp_video`: a video file in (MP4, MOV, MKV, WebM), a signed MP4 out;
- :func:`stamp_frame_directory`: numbered stills plus a frame rate;
- :class:`StampedVideoWriter`: a renderer pushes frames as it makes them.

    >>> writer = StampedVideoWriter(stamper, Path("out.mp4"), license=lic,  # doctest: +SKIP
    ...     purpose="education", width=1280, height=720, fps=Fraction(30))
    >>> with writer:  # doctest: +SKIP
    ...     for rgb in render():
    ...         writer.write_rgb(rgb)
    >>> writer.result.content_id  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

from . import _c2pa
from ._internal.files import read_input, sha256_file
from .consent import License
from .errors import (
    EncodingError,
    ImageTooSmallError,
    InputError,
    OutputExistsError,
    WatermarkError,
)
from .fingerprint import TimelineBuilder
from .labels import build_xmp
from .ledger import MediaKind
from .manifest import ClipFacts, DeclaredUse, StampClaims, build_definition
from .media import (
    Encoding,
    FrameHook,
    Progress,
    VideoWriter,
    YuvFrame,
    frames_from_directory,
    load_image,
    probe_video,
    thumbnail_jpeg,
    transcode,
)
from .media.metadata import append_mp4_xmp
from .media.overlay import LabelOverlay
from .repository import ManifestRecord
from .stamp import Stamper
from .watermark import ContentId
from .watermark.luma import LumaMarker

__all__ = [
    "StampedClip",
    "StampedVideoWriter",
    "stamp_frame_directory",
    "stamp_video",
]

_logger = logging.getLogger(__name__)

MP4 = "video/mp4"
POSTER_ID = "poster.jpg"
# Smallest clip stamped. Below this the mark's cells approach a pixel each and the encoder
# erases too much of them: measured, 2-4 of 20 fifteen-frame 320x240 clips at CRF 18 did not
# decode, against 0 of 20 at 480x272 and 640x360 (spec/video.md).
_MIN_CLIP_SHORT = 270
_MIN_CLIP_LONG = 480
# The poster thumbnail's long edge: enough to recognise the face in a report.
_POSTER_EDGE = 480
# Frames marked ahead of the encoder, in a worker thread: the mark then overlaps decoding
# and x264's own threads instead of waiting its turn (benchmarks/README.md, stamp vs
# transcode). Each frame in flight is one decoded frame's planes, 3 MB at 1080p.
_MARK_AHEAD = 2
# How long the visible label shows from the first frame: GB 45438 asks for at least 2 s at
# normal speed on the opening frames; the extra second absorbs frame-rate changes and
# players that start a few frames in.
VISIBLE_LABEL_MS = 3000

ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class StampedClip:
    """What one clip stamp produced (the file is already in place)."""

    path: Path
    content_id: ContentId
    face_id: str
    license_id: str
    engine: str
    purpose: str
    territory: str
    frames: int
    duration_s: float
    width: int
    height: int
    fps: Fraction
    audio: str | None
    sha256: str


class _ClipSession:
    """One clip being stamped: consent checked, ID reserved, frames marked, then signed."""

    def __init__(
        self,
        stamper: Stamper,
        destination: Path,
        *,
        license: License,
        purpose: str,
        territory: str | None,
        force: bool,
        visible_label: bool | None = None,
    ) -> None:
        _check_destination(destination, force)
        marker_factory = _marker_factory(stamper)
        self.visible_label = visible_label
        self.overlay: LabelOverlay | None = None
        self.stamper = stamper
        self.destination = destination
        self.force = force
        self.license = license
        self.use: DeclaredUse = stamper.check_use(license, purpose, territory)
        self.content_id = stamper.repository.reserve(stamper.issuer)
        self.aigc, _ = stamper.label_claims(self.content_id, datetime.now(UTC))
        self.marker: LumaMarker = marker_factory(self.content_id)
        self.timeline = TimelineBuilder()
        self.frames = 0
        self.last_time = 0.0
        self.first_time: float | None = None
        self.poster: bytes | None = None
        self._temporaries: list[Path] = []

    def temporary(self, suffix: str) -> Path:
        """A fresh temporary path beside the output, removed when the session ends."""
        fd, name = tempfile.mkstemp(
            prefix=f".{self.destination.name}.", suffix=suffix, dir=self.destination.parent
        )
        os.close(fd)
        path = Path(name)
        self._temporaries.append(path)
        return path

    @property
    def metadata(self) -> dict[str, str]:
        """Container tags of the encoded MP4: the GB 45438 label under key ``AIGC``."""
        return {"AIGC": self.aigc.to_json()}

    def mark(self, frame: YuvFrame, time_s: float) -> None:
        """Label and watermark one frame (``y`` becomes the marked plane) and note what the
        manifest needs from it.

        ``time_s`` is the frame's presentation time; the fingerprint timeline counts from
        the first frame, as a verifier of a re-encoded copy will. The visible label goes
        into the opening :data:`VISIBLE_LABEL_MS` before the watermark.
        """
        if self.first_time is None:
            self.first_time = time_s
            self.overlay = self.stamper.overlay(
                self.visible_label, width=frame.width, height=frame.height
            )
        offset_ms = round((time_s - self.first_time) * 1000)
        if self.overlay is not None and offset_ms < VISIBLE_LABEL_MS:
            self.overlay.apply_yuv(frame)
        frame.y = self.marker.mark(frame.y)
        if self.poster is None:
            self.poster = _poster(frame)
        self.timeline.offer(offset_ms, frame.y, full_range=frame.full_range)
        self.frames += 1

    def finish(
        self,
        encoded: Path,
        *,
        width: int,
        height: int,
        fps: Fraction,
        duration_s: float,
        audio: str | None,
    ) -> StampedClip:
        """Sign the encoded MP4, store the manifest, and move the result into place."""
        if self.frames == 0:
            raise InputError(f"{self.destination}: no frames to stamp")
        duration_ms = round(duration_s * 1000)
        stamped_at = datetime.now(UTC)
        _, disclosure = self.stamper.label_claims(self.content_id, stamped_at)
        # Appended after the last box, before signing: the manifest then covers it.
        append_mp4_xmp(encoded, build_xmp(aigc=self.aigc))
        claims = StampClaims(
            content_id=self.content_id,
            watermark_alg=self.stamper.engine.alg,
            watermark_alg_params=self.stamper.engine.alg_params,
            grant=self.license.grant,
            owner_signature=self.license.signature,
            license_sha256=self.license.sha256(),
            use=self.use,
            stamped_at=stamped_at,
            vendor=self.stamper.vendor,
            timespan_ms=(0, duration_ms),
            aigc=self.aigc,
            disclosure=disclosure,
            visible_label=self.stamper.visible_facts(
                self.overlay, min(VISIBLE_LABEL_MS, duration_ms)
            ),
            clip=ClipFacts(
                frames=self.frames,
                duration_ms=duration_ms,
                width=width,
                height=height,
                fps=f"{fps.numerator}/{fps.denominator}",
                timeline=self.timeline.build(),
            ),
        )
        signed = self.temporary(".mp4")
        resources = {POSTER_ID: self.poster} if self.poster else {}
        with encoded.open("rb") as source, signed.open("w+b") as target:
            store = _c2pa.sign_stream(
                build_definition(claims, title=self.destination.name, poster=bool(resources)),
                self.stamper.signer,
                mime=MP4,
                source=source,
                destination=target,
                resources=resources,
                tsa_url=self.stamper.tsa_url,
            )
        digest = sha256_file(signed)
        self.stamper.repository.complete(
            ManifestRecord(
                content_id=self.content_id,
                manifest_store=store,
                mime=MP4,
                face_id=self.license.face_id,
                license_id=self.license.license_id,
                watermark_alg=self.stamper.engine.alg,
                asset_sha256=digest,
                created_at=claims.stamped_at,
            )
        )
        self.stamper.record_use(
            self.license,
            self.use,
            self.content_id,
            kind=MediaKind.CLIP,
            frames=self.frames,
            duration_ms=duration_ms,
        )
        _move_into_place(signed, self.destination, self.force)
        _logger.info("stamped clip %s as %s", self.destination, self.content_id)
        return StampedClip(
            path=self.destination,
            content_id=self.content_id,
            face_id=self.license.face_id,
            license_id=self.license.license_id,
            engine=self.stamper.engine.name,
            purpose=self.use.purpose,
            territory=self.use.territory,
            frames=self.frames,
            duration_s=duration_s,
            width=width,
            height=height,
            fps=fps,
            audio=audio,
            sha256=digest,
        )

    def abort(self) -> None:
        """Give back the content ID (a failed stamp leaves no trace in the repository)."""
        self.stamper.repository.release(self.content_id)

    def cleanup(self) -> None:
        for path in self._temporaries:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


@contextlib.contextmanager
def _guarded(session: _ClipSession) -> Iterator[_ClipSession]:
    """Release the ID on failure and remove the temporaries either way."""
    try:
        yield session
    except BaseException:
        session.abort()
        raise
    finally:
        session.cleanup()


def stamp_video(
    stamper: Stamper,
    source: Path,
    destination: Path,
    *,
    license: License,
    purpose: str,
    territory: str | None = None,
    encoding: Encoding | None = None,
    force: bool = False,
    progress: ProgressCallback | None = None,
    visible_label: bool | None = None,
) -> StampedClip:
    """Stamp the video at ``source`` into a signed MP4 at ``destination``.

    Every frame is watermarked; audio is remuxed untouched; timing, rotation and colour
    tags are kept (``spec/video.md``). ``source`` is only read.

    Raises:
        OutputExistsError: ``destination`` exists and ``force`` is false.
        InputError: unreadable, truncated, no video stream, undecodable, or too small.
        ConsentError, ScopeViolationError: the use is refused; nothing was minted.
        SigningError, RepositoryError: signing or storing failed; the ID is released.
    """
    _check_distinct(source, destination)
    _marker_factory(stamper)
    info = probe_video(source)
    _check_size(stamper, info.width, info.height, source)
    default_step = 1 / float(info.fps) if info.fps else 1 / 30
    session = _ClipSession(
        stamper,
        destination,
        license=license,
        purpose=purpose,
        territory=territory,
        force=force,
        visible_label=visible_label,
    )
    with _guarded(session):
        encoded = session.temporary(".mp4")

        def on_frame(frame: YuvFrame) -> None:
            time_s = frame.time if frame.time is not None else session.frames * default_step
            session.mark(frame, time_s)

        result = transcode(
            source,
            encoded,
            encoding or Encoding(),
            on_frame,
            progress=progress,
            metadata=session.metadata,
            hook_ahead=_MARK_AHEAD,
        )
        return session.finish(
            encoded,
            width=result.width,
            height=result.height,
            fps=result.fps,
            duration_s=result.duration_s,
            audio=result.audio,
        )


def stamp_frame_directory(
    stamper: Stamper,
    directory: Path,
    destination: Path,
    *,
    fps: Fraction,
    license: License,
    purpose: str,
    territory: str | None = None,
    encoding: Encoding | None = None,
    force: bool = False,
    progress: ProgressCallback | None = None,
    visible_label: bool | None = None,
) -> StampedClip:
    """Stamp a directory of numbered stills (PNG, JPEG, WebP) as a clip at ``fps``.

    Raises:
        InputError: no numbered frames, a frame unreadable, or frames of different sizes.
        (and as :func:`stamp_video`)
    """
    paths = frames_from_directory(directory)
    first = _load_frame(paths[0])
    with StampedVideoWriter(
        stamper,
        destination,
        license=license,
        purpose=purpose,
        territory=territory,
        width=first.shape[1],
        height=first.shape[0],
        fps=fps,
        encoding=encoding,
        force=force,
        progress=progress,
        total=len(paths),
        visible_label=visible_label,
    ) as writer:
        writer.write_rgb(first)
        for path in paths[1:]:
            rgb = _load_frame(path)
            if rgb.shape != first.shape:
                raise InputError(
                    f"{path}: frame is {rgb.shape[1]}x{rgb.shape[0]}, the first frame is "
                    f"{first.shape[1]}x{first.shape[0]}"
                )
            writer.write_rgb(rgb)
    return writer.result


class StampedVideoWriter:
    """A stamped MP4 written frame by frame, for renderers that make frames themselves.

    Consent is checked and the content ID reserved when the writer opens, so an
    out-of-scope use is refused before the first frame is rendered. Frames are marked in a
    worker thread (at most two behind the caller, in order) and encoded as soon as they are
    marked, so marking overlaps the rendering of the next frames; :meth:`close` signs the
    MP4 and moves it into place. Leaving the ``with`` block by an exception discards
    everything and releases the ID.

    Raises (on open):
        OutputExistsError, ConsentError, ScopeViolationError, ImageTooSmallError.
    """

    def __init__(
        self,
        stamper: Stamper,
        destination: Path,
        *,
        license: License,
        purpose: str,
        width: int,
        height: int,
        fps: Fraction,
        territory: str | None = None,
        encoding: Encoding | None = None,
        force: bool = False,
        progress: ProgressCallback | None = None,
        total: int | None = None,
        visible_label: bool | None = None,
    ) -> None:
        _marker_factory(stamper)
        _check_size(stamper, width, height, destination)
        self._fps = Fraction(fps)
        if self._fps <= 0:
            raise InputError(f"{destination}: frame rate must be positive, not {fps}")
        self._size = (height, width)
        self._session = _ClipSession(
            stamper,
            destination,
            license=license,
            purpose=purpose,
            territory=territory,
            force=force,
            visible_label=visible_label,
        )
        self._progress = _Throttle(progress, total)
        self._result: StampedClip | None = None
        self._pushed = self._writer_frames = 0
        self._hook = FrameHook(self._mark, _MARK_AHEAD)
        try:
            self._encoded = self._session.temporary(".mp4")
            self._writer = VideoWriter(
                self._encoded,
                width=width,
                height=height,
                fps=self._fps,
                encoding=encoding or Encoding(),
                metadata=self._session.metadata,
            )
        except BaseException:
            self._discard()
            raise

    @property
    def content_id(self) -> ContentId:
        """The ID every frame of this clip carries."""
        return self._session.content_id

    @property
    def result(self) -> StampedClip:
        """The stamped clip, once :meth:`close` has returned.

        Raises:
            RuntimeError: the writer is not closed yet.
        """
        if self._result is None:
            raise RuntimeError("the stamped clip exists only after close()")
        return self._result

    def write_rgb(self, rgb: NDArray[np.uint8]) -> None:
        """Mark and encode the next frame, given as ``(H, W, 3)`` RGB ``uint8``.

        The frame is converted at once (``rgb`` may be reused when this returns) and
        marked in a worker thread while the caller renders the next ones; a marking error
        is raised by a later write or by :meth:`close`.

        Raises:
            InputError: wrong shape, dtype or size.
        """
        self._write(YuvFrame.from_rgb(self._checked_rgb(rgb)))

    def write_yuv(self, y: NDArray[np.uint8], u: NDArray[np.uint8], v: NDArray[np.uint8]) -> None:
        """Mark and encode the next frame, given as 4:2:0 planes (none is modified).

        The planes are copied at once (they may be reused when this returns) and marked as
        :meth:`write_rgb` says.

        Raises:
            InputError: plane shapes do not match the writer's size.
        """
        height, width = self._size
        expected = [(height, width), (height // 2, width // 2), (height // 2, width // 2)]
        if [getattr(p, "shape", None) for p in (y, u, v)] != expected:
            raise InputError(f"{self._session.destination}: expected 4:2:0 planes {expected}")
        y, u, v = (np.array(plane, dtype=np.uint8) for plane in (y, u, v))
        self._write(YuvFrame(y=y, u=u, v=v))

    def close(self) -> StampedClip:
        """Flush the encoder, sign the MP4, store the manifest, move it into place."""
        if self._result is not None:
            return self._result
        try:
            self._encode(self._hook.drain())
            self._writer.close()
            frames = self._session.frames
            self._result = self._session.finish(
                self._encoded,
                width=self._size[1],
                height=self._size[0],
                fps=self._fps,
                duration_s=float(frames / self._fps),
                audio=None,
            )
        except BaseException:
            self._discard()
            raise
        self._hook.close()
        self._session.cleanup()
        return self._result

    def abort(self) -> None:
        """Discard the clip: no output, the ID released."""
        if self._result is None:
            self._hook.close()
            with contextlib.suppress(Exception):
                self._writer.close()
            self._discard()

    def __enter__(self) -> StampedVideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _write(self, frame: YuvFrame) -> None:
        if self._result is not None:
            raise EncodingError(f"{self._session.destination}: the writer is closed")
        frame.pts = self._pushed
        frame.time_base = 1 / self._fps
        self._pushed += 1
        self._encode(self._hook.push(frame))

    def _mark(self, frame: YuvFrame) -> None:
        # In the hook's worker thread, one frame at a time, in the order written.
        self._session.mark(frame, float((frame.pts or 0) / self._fps))

    def _encode(self, frames: list[YuvFrame]) -> None:
        for frame in frames:
            self._writer.write(frame)
            self._writer_frames += 1
            self._progress(self._writer_frames)

    def _checked_rgb(self, rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8:
            raise InputError(f"{self._session.destination}: frames must be uint8 arrays")
        if rgb.shape != (*self._size, 3):
            raise InputError(
                f"{self._session.destination}: frame shape {rgb.shape}, expected {(*self._size, 3)}"
            )
        return rgb

    def _discard(self) -> None:
        self._hook.close()
        self._session.abort()
        self._session.cleanup()


class _Throttle:
    """Turns per-frame counts into :class:`Progress` reports about twice a second."""

    def __init__(self, callback: ProgressCallback | None, total: int | None) -> None:
        self._callback = callback
        self._total = total
        self._start = time.monotonic()
        self._last = 0.0

    def __call__(self, frames: int) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if now - self._last >= 0.5 or frames == self._total:
            self._last = now
            self._callback(Progress(frames=frames, total=self._total, elapsed_s=now - self._start))


def _load_frame(path: Path) -> NDArray[np.uint8]:
    return load_image(read_input(path), source=str(path)).rgb


def _poster(frame: YuvFrame) -> bytes:
    """A small JPEG of the first (marked) frame, for the manifest's thumbnail."""
    return thumbnail_jpeg(frame.to_rgb(), long_edge=_POSTER_EDGE)


def _marker_factory(stamper: Stamper, *, live: bool = False) -> Callable[[ContentId], LumaMarker]:
    kind = "live_marker" if live else "clip_marker"
    factory: Callable[[ContentId], LumaMarker] | None = getattr(stamper.engine, kind, None)
    if factory is None:
        raise WatermarkError(
            f"{stamper.engine.name}: cannot mark video (it has no luma-plane path); "
            "use the luma-iss engine for clips"
        )
    return factory


def _check_destination(destination: Path, force: bool) -> None:
    if destination.suffix.lower() not in {".mp4", ".m4v"}:
        raise InputError(f"{destination}: stamped clips are written as MP4 (.mp4)")
    if destination.exists() and not force:
        raise OutputExistsError(f"{destination}: already exists (use --force to replace it)")
    if not destination.parent.is_dir():
        raise InputError(f"{destination.parent}: output directory does not exist")


def _check_distinct(source: Path, destination: Path) -> None:
    if destination.exists() and destination.resolve() == source.resolve():
        raise InputError(f"{destination}: output would overwrite the input")


def _check_size(stamper: Stamper, width: int, height: int, where: Path) -> None:
    engine = stamper.engine
    short_side, long_side = sorted((width, height))
    if short_side < _MIN_CLIP_SHORT or long_side < _MIN_CLIP_LONG:
        raise ImageTooSmallError(
            f"{where}: frames are {width}x{height}; a clip's {engine.name} watermark needs "
            f"at least {_MIN_CLIP_LONG}x{_MIN_CLIP_SHORT} (smaller clips do not decode "
            "reliably once encoded)"
        )


def _move_into_place(temporary: Path, destination: Path, force: bool) -> None:
    if not force and destination.exists():
        raise OutputExistsError(f"{destination}: already exists (use --force to replace it)")
    os.chmod(temporary, 0o644)
    os.replace(temporary, destination)
