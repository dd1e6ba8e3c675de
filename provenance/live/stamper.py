"""Stamping a live stream: consent first, every frame watermarked, each segment signed as
it leaves the encoder.

:class:`StreamStamper` takes frames as a renderer makes them (RGB or 4:2:0 planes). When
it opens it checks the use against the license (nothing starts for a refused use), mints
the stream's one content ID (the watermark payload of every frame) and makes the stream's
session key. The encoder's first output, the init segment, is signed with c2pa-python by
the vendor's certificate (the *stream manifest*: the still's assertions plus
:data:`~provenance.live.session.LIVE_LABEL`, which carries the session key), stored in
the repository under the content ID, and written; from then on every segment the encoder
cuts is signed with the session key, chained to the one before, written, and listed in
the HLS playlist. ``spec/live.md`` is normative.

    >>> with StreamStamper(stamper, Path("live/stream.m3u8"), license=lic,  # doctest: +SKIP
    ...                    purpose="education", width=1280, height=720,
    ...                    fps=Fraction(30)) as live:
    ...     for rgb in render():
    ...         live.write_rgb(rgb)
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

from .. import _c2pa
from .._internal.files import write_atomic
from ..clip import _marker_factory
from ..consent import License
from ..errors import ImageTooSmallError, InputError, OutputExistsError
from ..manifest import DeclaredUse, StampClaims, build_definition
from ..media import Encoding, Progress, YuvFrame
from ..media.live import FragmentedEncoder, Piece
from ..repository import ManifestRecord
from ..stamp import Stamper
from ..trust import TrustAnchors
from ..watermark import ContentId
from ..watermark.luma import LumaMarker
from .playlist import Playlist, PlaylistEntry, render_mpd
from .session import LIVE_LABEL, SessionKey, StreamFacts, init_hash

__all__ = ["LIVE_ENCODING", "SegmentWritten", "StampedStream", "StreamStamper"]

_logger = logging.getLogger(__name__)

MP4 = "video/mp4"
# Live defaults: veryfast keeps 720p30 real time on two cores; CRF 18 as for clips: at
# CRF 23 a 360p stream's mark no longer read after a second CRF 23 re-encode (measured).
LIVE_ENCODING = Encoding(preset="veryfast", crf=18)
# A session key signs for at most a day; a longer stream would need a new init segment.
_SESSION_VALIDITY_S = 24 * 3600
_MIN_SHORT, _MIN_LONG = 270, 480

ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class SegmentWritten:
    """One signed segment, already on disk and in the playlist."""

    sequence: int
    path: Path
    frames: int
    duration_s: float
    size: int
    sign_ms: float


@dataclass(frozen=True)
class StampedStream:
    """What a finished (or aborted) stream produced."""

    playlist: Path
    init: Path
    content_id: ContentId
    stream_id: str
    manifest_id: str
    face_id: str
    license_id: str
    purpose: str
    territory: str
    width: int
    height: int
    fps: Fraction
    frames: int
    segments: tuple[SegmentWritten, ...]
    ended: bool

    @property
    def duration_s(self) -> float:
        return float(self.frames / self.fps)


@dataclass
class _Published:
    init: bytes | None = None
    manifest_id: str | None = None
    previous: bytes = b""
    segments: list[SegmentWritten] = field(default_factory=list)


class StreamStamper:
    """A live stream, stamped and segmented as frames arrive.

    Output: ``PLAYLIST`` (``.m3u8``), and beside it ``<stem>_init.mp4``,
    ``<stem>_00001.m4s`` ... and, at the end, ``<stem>.mpd``. The encoder cuts a segment
    every ``segment_seconds`` (rounded to whole frames, each segment starting on a keyframe).

    Raises (on open):
        OutputExistsError: the playlist exists and ``force`` is false.
        InputError: not a ``.m3u8`` path, no such directory, bad size or frame rate.
        ImageTooSmallError: frames below 480x270.
        ConsentError, ScopeViolationError: the use is refused; nothing was minted.
        WatermarkError: the stamper's engine cannot mark video.
    """

    def __init__(
        self,
        stamper: Stamper,
        playlist: Path,
        *,
        license: License,
        purpose: str,
        width: int,
        height: int,
        fps: Fraction,
        territory: str | None = None,
        segment_seconds: float = 2.0,
        encoding: Encoding | None = None,
        force: bool = False,
        progress: ProgressCallback | None = None,
        on_segment: Callable[[SegmentWritten], None] | None = None,
    ) -> None:
        self._fps = Fraction(fps)
        self._gop = _segment_frames(playlist, self._fps, segment_seconds)
        _check_output(playlist, force)
        _check_size(playlist, width, height)
        factory = _marker_factory(stamper, live=True)
        self._stamper, self._license = stamper, license
        self._playlist_path, self._size = playlist, (height, width)
        self._progress, self._on_segment = progress, on_segment
        self._use: DeclaredUse = stamper.check_use(license, purpose, territory)
        self._content_id = stamper.repository.reserve(stamper.issuer)
        self._marker: LumaMarker = factory(self._content_id)
        # One ledger entry per stream, appended when it ends: a stream is one use.
        self._tally = stamper.start_stream(license, self._use, self._content_id)
        self._session = SessionKey()
        self._stream_id = f"urn:uuid:{uuid.uuid4()}"
        self._published = _Published()
        self._playlist = Playlist(init_uri=self._init_path.name, target_s=round(segment_seconds))
        self._frames = 0
        self._start = time.monotonic()
        self._result: StampedStream | None = None
        base = encoding or LIVE_ENCODING
        try:
            self._encoder = FragmentedEncoder(
                width=width,
                height=height,
                fps=self._fps,
                encoding=Encoding(base.codec, base.crf, base.preset, base.threads, gop=self._gop),
                name=str(playlist),
            )
        except BaseException:
            stamper.repository.release(self._content_id)
            raise

    @property
    def content_id(self) -> ContentId:
        """The stream's content ID: the watermark payload of every frame."""
        return self._content_id

    @property
    def stream_id(self) -> str:
        return self._stream_id

    @property
    def _init_path(self) -> Path:
        return self._playlist_path.with_name(f"{self._playlist_path.stem}_init.mp4")

    def _segment_path(self, sequence: int) -> Path:
        return self._playlist_path.with_name(f"{self._playlist_path.stem}_{sequence:05d}.m4s")

    @property
    def result(self) -> StampedStream:
        """The stream, once :meth:`close` (or :meth:`abort`) has returned.

        Raises:
            RuntimeError: the stream is still running.
        """
        if self._result is None:
            raise RuntimeError("the stamped stream exists only after close()")
        return self._result

    def write_rgb(self, rgb: NDArray[np.uint8]) -> None:
        """Mark, encode and (when a segment completes) sign the next ``(H, W, 3)`` frame.

        Raises:
            InputError: wrong shape or dtype.
        """
        if (
            not isinstance(rgb, np.ndarray)
            or rgb.dtype != np.uint8
            or rgb.shape != (*self._size, 3)
        ):
            shape = getattr(rgb, "shape", None)
            raise InputError(
                f"{self._playlist_path}: frame {shape}, expected {(*self._size, 3)} uint8"
            )
        self.write_frame(YuvFrame.from_rgb(rgb))

    def write_yuv(self, y: NDArray[np.uint8], u: NDArray[np.uint8], v: NDArray[np.uint8]) -> None:
        """As :meth:`write_rgb`, for 4:2:0 planes (``y`` is copied, not modified)."""
        height, width = self._size
        expected = [(height, width), (height // 2, width // 2), (height // 2, width // 2)]
        if [getattr(p, "shape", None) for p in (y, u, v)] != expected:
            raise InputError(f"{self._playlist_path}: expected 4:2:0 planes {expected}")
        self.write_frame(YuvFrame(y=np.array(y, dtype=np.uint8), u=u, v=v))

    def write_frame(self, frame: YuvFrame) -> None:
        """As :meth:`write_rgb`, for a :class:`YuvFrame` (its ``y`` is marked in place)."""
        if self._result is not None:
            raise InputError(f"{self._playlist_path}: the stream has ended")
        self._marker.mark(frame.y, out=frame.y)
        self._publish(self._encoder.encode(frame))
        self._frames += 1
        if self._progress is not None and self._frames % 15 == 0:
            self._report_progress()

    def close(self) -> StampedStream:
        """Flush the encoder, sign the last segments, end the playlist, write the MPD."""
        if self._result is not None:
            return self._result
        try:
            self._publish(self._encoder.close(), final=True)
            if self._published.init is None:
                raise InputError(f"{self._playlist_path}: no frames were streamed")
        except BaseException:
            self.abort()
            raise
        self._end(write_mpd=True)
        return self.result

    def abort(self) -> None:
        """Stop now. Before the init segment was published the ID is released and nothing
        is left; after it, what was published stays valid and the playlist is ended."""
        if self._result is not None:
            return
        self._encoder.abort()
        if self._published.init is None:
            self._stamper.repository.release(self._content_id)
        self._end(write_mpd=False)

    def __enter__(self) -> StreamStamper:
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

    # ---------------------------------------------------------------------------------

    def _publish(self, pieces: list[Piece], *, final: bool = False) -> None:
        for index, piece in enumerate(pieces):
            if piece.kind == "init":
                self._publish_init(piece.data)
            else:
                last = final and index == len(pieces) - 1
                self._publish_segment(piece.data, last=last)

    def _publish_init(self, data: bytes) -> None:
        stamped_at = datetime.now(UTC)
        facts = StreamFacts(
            stream_id=self._stream_id,
            session_key=self._session.public_key,
            kid=self._session.kid,
            min_sequence=1,
            created_at=stamped_at.isoformat(),
            validity_s=_SESSION_VALIDITY_S,
            segment_frames=self._gop,
            fps=f"{self._fps.numerator}/{self._fps.denominator}",
            width=self._size[1],
            height=self._size[0],
        )
        claims = StampClaims(
            content_id=self._content_id,
            watermark_alg=self._stamper.engine.alg,
            watermark_alg_params=self._stamper.engine.alg_params,
            grant=self._license.grant,
            owner_signature=self._license.signature,
            license_sha256=self._license.sha256(),
            use=self._use,
            stamped_at=stamped_at,
            vendor=self._stamper.vendor,
        )
        definition = build_definition(claims, title=self._playlist_path.name)
        definition["assertions"].append({"label": LIVE_LABEL, "data": facts.assertion()})
        signed = _c2pa.sign(
            definition, self._stamper.signer, mime=MP4, asset=data, tsa_url=self._stamper.tsa_url
        )
        reading = _c2pa.read(mime=MP4, asset=signed.asset, trust=TrustAnchors.none())
        if reading is None:  # pragma: no cover - c2pa verified it after signing
            raise InputError(f"{self._init_path}: the signed init segment lost its manifest")
        write_atomic(self._init_path, signed.asset, force=True)
        self._stamper.repository.complete(
            ManifestRecord(
                content_id=self._content_id,
                manifest_store=signed.manifest_store,
                mime=MP4,
                face_id=self._license.face_id,
                license_id=self._license.license_id,
                watermark_alg=self._stamper.engine.alg,
                asset_sha256=init_hash(signed.asset).hex(),
                created_at=stamped_at,
            )
        )
        self._published.init = signed.asset
        self._published.manifest_id = reading.label
        self._published.previous = init_hash(signed.asset)
        self._playlist.write(self._playlist_path)
        _logger.info("stream %s started as %s", self._stream_id, self._content_id)

    def _publish_segment(self, data: bytes, *, last: bool) -> None:
        published = self._published
        if published.manifest_id is None:
            raise InputError(f"{self._playlist_path}: a segment came before the init segment")
        sequence = len(published.segments) + 1
        frames = self._gop
        if last:
            frames = self._encoder.frames - (sequence - 1) * self._gop
        duration = float(frames / self._fps)
        started = time.perf_counter()
        signed, digest = self._session.sign_segment(
            data,
            sequence=sequence,
            manifest_id=published.manifest_id,
            stream_id=self._stream_id,
            previous=published.previous,
            duration_ms=round(duration * 1000),
        )
        sign_ms = (time.perf_counter() - started) * 1000
        path = self._segment_path(sequence)
        write_atomic(path, signed, force=True)
        published.previous = digest
        written = SegmentWritten(sequence, path, frames, duration, len(signed), sign_ms)
        published.segments.append(written)
        if self._tally is not None:
            self._tally.add(frames, duration_ms=round(duration * 1000))
        self._playlist.entries.append(PlaylistEntry(path.name, duration))
        self._playlist.write(self._playlist_path)
        if self._on_segment is not None:
            self._on_segment(written)

    def _end(self, *, write_mpd: bool) -> None:
        published = self._published
        if published.init is not None:
            if self._tally is not None:
                self._tally.close()
            self._playlist.ended = True
            self._playlist.write(self._playlist_path)
            if write_mpd and published.segments:
                self._write_mpd(published.init)
        self._result = StampedStream(
            playlist=self._playlist_path,
            init=self._init_path,
            content_id=self._content_id,
            stream_id=self._stream_id,
            manifest_id=published.manifest_id or "",
            face_id=self._license.face_id,
            license_id=self._license.license_id,
            purpose=self._use.purpose,
            territory=self._use.territory,
            width=self._size[1],
            height=self._size[0],
            fps=self._fps,
            frames=self._encoder.frames,
            segments=tuple(published.segments),
            ended=published.init is not None,
        )
        if self._progress is not None:
            self._report_progress()

    def _write_mpd(self, init: bytes) -> None:
        codecs = _avc_codecs(init)
        if codecs is None:
            return  # only H.264 gets an MPD; HLS carries every codec
        mpd = render_mpd(
            init_uri=self._init_path.name,
            media_template=f"{self._playlist_path.stem}_$Number%05d$.m4s",
            first_sequence=1,
            durations_s=[s.duration_s for s in self._published.segments],
            width=self._size[1],
            height=self._size[0],
            fps=self._fps,
            codecs=codecs,
        )
        write_atomic(self._playlist_path.with_suffix(".mpd"), mpd.encode(), force=True)

    def _report_progress(self) -> None:
        assert self._progress is not None
        elapsed = time.monotonic() - self._start
        self._progress(Progress(frames=self._frames, total=None, elapsed_s=elapsed))


def _avc_codecs(init: bytes) -> str | None:
    """The RFC 6381 codecs string (``avc1.PPCCLL``) from the init segment's avcC box."""
    at = init.find(b"avcC")
    if at < 0 or len(init) < at + 8:
        return None
    profile, compat, level = init[at + 5], init[at + 6], init[at + 7]
    return f"avc1.{profile:02x}{compat:02x}{level:02x}"


def _segment_frames(playlist: Path, fps: Fraction, seconds: float) -> int:
    if fps <= 0:
        raise InputError(f"{playlist}: frame rate must be positive, not {fps}")
    if not 0.5 <= seconds <= 10:
        raise InputError(f"{playlist}: segments of {seconds} s; use 0.5 to 10 s")
    return max(1, round(fps * Fraction(seconds)))


def _check_output(playlist: Path, force: bool) -> None:
    if playlist.suffix.lower() != ".m3u8":
        raise InputError(f"{playlist}: a stream's output is an HLS playlist (.m3u8)")
    if not playlist.parent.is_dir():
        raise InputError(f"{playlist.parent}: output directory does not exist")
    if playlist.exists() and not force:
        raise OutputExistsError(f"{playlist}: already exists (use --force to replace it)")


def _check_size(playlist: Path, width: int, height: int) -> None:
    short_side, long_side = sorted((width, height))
    if short_side < _MIN_SHORT or long_side < _MIN_LONG:
        raise ImageTooSmallError(
            f"{playlist}: frames are {width}x{height}; a stream's watermark needs at least "
            f"{_MIN_LONG}x{_MIN_SHORT}"
        )
    if width % 2 or height % 2:
        raise InputError(f"{playlist}: frame size {width}x{height} is odd; 4:2:0 needs even sizes")
