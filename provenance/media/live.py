"""Live video through PyAV: a fragmented-MP4 encoder that hands out segments as they are
cut, frames from any input PyAV opens, and the frames of one received segment.

A sibling of :mod:`provenance.media.video` (whose encoder path, frame conversion and error
mapping it reuses); like it, it is one of the two modules that import PyAV. The encoder
muxes CMAF-style fragmented MP4 (``empty_moov``, one ``moof`` + ``mdat`` per keyframe,
``default_base_moof``) into a write-only sink, so FFmpeg never seeks and every byte it
writes is final: the sink cuts the bytes into the init segment (``ftyp`` + ``moov``) and
one media segment per fragment. With a fixed GOP (:attr:`Encoding.gop`) every fragment,
hence every segment, is one GOP long and starts with a keyframe.

Example:
    >>> encoder = FragmentedEncoder(width=640, height=360, fps=Fraction(30),
    ...                             encoding=Encoding(preset="veryfast", gop=60))
    >>> for piece in encoder.encode(frame):  # doctest: +SKIP
    ...     publish(piece.kind, piece.data)
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
from av.container import OutputContainer

from ..errors import EncodingError, InputError
from .bmff import BoxSplitter
from .video import (
    _AV_ERRORS,
    _BT709_LIMITED,
    Encoding,
    SampledFrame,
    VideoInfo,
    YuvFrame,
    _check_size,
    _decode,
    _demux,
    _open_input,
    _sampled,
    _ToYuv420,
    _video_stream,
    _VideoEncoder,
    _why,
    probe_video,
)

__all__ = ["FragmentedEncoder", "Piece", "decode_segment_luma", "read_source"]

_logger = logging.getLogger(__name__)

# empty_moov: the init segment is written first and holds no samples; frag_keyframe: a new
# fragment at every keyframe; default_base_moof: offsets relative to each moof (CMAF), so a
# segment stands on its own; skip_sidx/skip_trailer: no index or mfra box at the end, which
# a live stream never has.
_MOVFLAGS = "empty_moov+frag_keyframe+default_base_moof+skip_sidx+skip_trailer"
_INIT_BOXES = frozenset({"ftyp", "moov"})


@dataclass(frozen=True)
class Piece:
    """A finished part of the stream: the init segment, or one media segment."""

    kind: Literal["init", "segment"]
    data: bytes


class _SegmentSink:
    """A write-only file for the muxer, cutting what it writes into init and segments."""

    def __init__(self) -> None:
        self._splitter = BoxSplitter()
        self._current: list[bytes] = []
        self._init_sent = False
        self.pieces: list[Piece] = []

    def write(self, data: bytes) -> int:
        for kind, box in self._splitter.feed(bytes(data)):
            self._current.append(box)
            if not self._init_sent and kind == "moov":
                self._emit("init")
                self._init_sent = True
            elif kind == "mdat":
                self._emit("segment")
        return len(data)

    def _emit(self, kind: Literal["init", "segment"]) -> None:
        self.pieces.append(Piece(kind, b"".join(self._current)))
        self._current = []

    def take(self) -> list[Piece]:
        pieces, self.pieces = self.pieces, []
        return pieces

    @property
    def leftover(self) -> int:
        return self._splitter.pending + sum(len(b) for b in self._current)


class FragmentedEncoder:
    """Encode 4:2:0 frames into a fragmented MP4 cut into an init segment and segments.

    Frame ``n`` is shown at ``n / fps`` (a live stream is constant frame rate). Each call
    returns the pieces that the frame completed, in order; the init segment comes first,
    once the encoder has produced its first packet. The encoder holds frames back for its
    lookahead, so a segment comes out a few frames after its last frame went in;
    :meth:`close` flushes the rest.

    Raises:
        InputError: odd or non-positive size, fps not positive, or no fixed ``gop``.
        EncodingError: the encoder or muxer failed.
    """

    def __init__(
        self, *, width: int, height: int, fps: Fraction, encoding: Encoding, name: str = "stream"
    ) -> None:
        where = Path(name)
        _check_size(where, width, height)
        if fps <= 0:
            raise InputError(f"{name}: frame rate must be positive, not {fps}")
        if encoding.gop is None:
            raise InputError(f"{name}: a live stream needs a fixed GOP (Encoding.gop)")
        self._name = name
        self._sink = _SegmentSink()
        self._closed = False
        try:
            self._container: OutputContainer = av.open(
                self._sink, mode="w", format="mp4", options={"movflags": _MOVFLAGS}
            )
        except _AV_ERRORS as exc:
            raise EncodingError(f"{name}: cannot start the muxer ({_why(exc)})") from exc
        try:
            self._encoder = _VideoEncoder(
                self._container,
                where,
                width=width,
                height=height,
                fps=Fraction(fps),
                time_base=1 / Fraction(fps),
                encoding=encoding,
                rotation=0,
                colour=_BT709_LIMITED,
                colour_from_frames=False,
            )
        except BaseException:
            self.abort()
            raise

    @property
    def frames(self) -> int:
        """Frames encoded so far."""
        return self._encoder.frames

    def encode(self, frame: YuvFrame) -> list[Piece]:
        """Encode the next frame; returns the pieces it completed.

        Raises:
            InputError: the frame's size differs from the stream's.
            EncodingError: the encoder failed, or the encoder is closed.
        """
        if self._closed:
            raise EncodingError(f"{self._name}: encoder is closed")
        frame.pts, frame.time_base = self._encoder.frames, self._encoder.time_base
        self._encoder.encode(frame)
        return self._sink.take()

    def close(self) -> list[Piece]:
        """Flush the encoder; returns the last pieces.

        Raises:
            EncodingError: flushing failed, or the muxer left a partial segment.
        """
        if self._closed:
            return []
        self._closed = True
        try:
            self._encoder.flush()
            self._container.close()
        except _AV_ERRORS as exc:
            raise EncodingError(f"{self._name}: cannot finish ({_why(exc)})") from exc
        if self._sink.leftover:
            raise EncodingError(
                f"{self._name}: the muxer left {self._sink.leftover} bytes unsegmented"
            )
        return self._sink.take()

    def abort(self) -> None:
        """Stop without flushing; nothing more comes out."""
        self._closed = True
        with contextlib.suppress(*_AV_ERRORS, ValueError, RuntimeError, AttributeError):
            self._container.close()


def read_source(path: Path) -> tuple[VideoInfo, Iterator[YuvFrame]]:
    """What ``path`` is, and its frames as 4:2:0 planes in decode order, as fast as they come.

    Any input PyAV opens (a file, or a URL FFmpeg reads). The file is probed first, so bad
    input raises here, not on iteration.

    Raises:
        InputError, UnsupportedMediaError: as :func:`~provenance.media.probe_video`.
    """
    info = probe_video(path)
    return info, _frames(path)


def _frames(path: Path) -> Iterator[YuvFrame]:
    converter = _ToYuv420()
    with _open_input(path) as container:
        stream = _video_stream(path, container)
        stream.thread_type = "AUTO"
        for packet in _demux(path, container, stream):
            for frame in _decode(path, stream, packet):
                yield converter.convert(frame)


def decode_segment_luma(
    init: bytes | None, segment: bytes, *, source: str
) -> Iterator[SampledFrame]:
    """Luma of every frame of one media segment, decoded with its init segment.

    ``init`` is None when ``segment`` is a complete file by itself (a segment someone
    re-encoded into an MP4 of its own, say).

    Raises:
        InputError: the bytes do not decode as video (raised while iterating).
    """
    data = (init or b"") + segment
    converter = _ToYuv420()
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except _AV_ERRORS as exc:
        raise InputError(f"{source}: does not decode as video ({_why(exc)})") from exc
    with container:
        path = Path(source)
        stream = _video_stream(path, container)
        for packet in _demux(path, container, stream):
            for frame in _decode(path, stream, packet):
                yield _sampled(frame, converter)
