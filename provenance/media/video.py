"""Video files through PyAV: probe, transcode with a per-frame hook, write, and sample.

This is the only module that imports PyAV. Frames cross its boundary as 8-bit YUV 4:2:0
planes (:class:`YuvFrame`), so a watermark changes luma in place with no colour round
trip, and every PyAV or OS failure on an input becomes a one-line :class:`InputError` that
starts with the file's path. Output is always MP4 (H.264 or H.265, ``yuv420p``) with the
source's frame timing, rotation and colour tags, and its first audio stream copied.

Inputs must have even width and height: x264 and x265 cannot encode odd sizes in 4:2:0,
and padding would change the frame the watermark and the C2PA hash see, so odd sizes are
refused (:func:`transcode`, :class:`VideoWriter`) rather than silently altered. Probing
and sampling accept any size.

Example:
    >>> def brighten(frame: YuvFrame) -> None:
    ...     np.add(frame.y, 1, out=frame.y, where=frame.y < 235)
    >>> transcode(Path("in.mov"), Path("out.mp4"), Encoding(crf=20), brighten)  # doctest: +SKIP
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Final, cast

import av
import numpy as np
from av.audio.codeccontext import AudioCodecContext
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.error import FFmpegError
from av.packet import Packet
from av.stream import Disposition, Stream
from av.video.codeccontext import VideoCodecContext
from av.video.frame import VideoFrame
from av.video.plane import VideoPlane
from av.video.reformatter import ColorRange, Colorspace, Interpolation, VideoReformatter
from av.video.stream import VideoStream
from numpy.typing import NDArray

from ..errors import EncodingError, InputError, UnsupportedMediaError

__all__ = [
    "Colour",
    "Encoding",
    "FrameHook",
    "Progress",
    "SampledFrame",
    "TranscodeResult",
    "VideoCodec",
    "VideoInfo",
    "VideoWriter",
    "YuvFrame",
    "container_tags",
    "decode_luma",
    "frames_from_directory",
    "probe_video",
    "remux",
    "sample_frames",
    "sample_rgb",
    "transcode",
]

_logger = logging.getLogger(__name__)

Plane = NDArray[np.uint8]

_AV_ERRORS = (FFmpegError, OSError)
# x264 and x265 accept the same preset names.
_PRESETS: Final = frozenset(
    "ultrafast superfast veryfast faster fast medium slow slower veryslow placebo".split()
)
# Audio copied into MP4 untouched. FFmpeg will also mux Vorbis and PCM into MP4 (object
# type 0xDD, ipcm), but most players reject those, so they are re-encoded to AAC instead.
_MP4_AUDIO: Final = frozenset({"aac", "mp3", "opus", "flac", "alac", "ac3", "eac3"})
_PROGRESS_EVERY_S = 0.5
# Exact sampling without a keyframe index decodes on, rather than seeking, this far ahead.
_FORWARD_S = 1.0
_STILL_SUFFIXES: Final = frozenset({".png", ".jpg", ".jpeg", ".webp"})
# 8-bit formats whose plane 0 is full-resolution luma: sampling copies it as is.
_LUMA_FIRST: Final = frozenset(
    "yuv420p yuvj420p yuv422p yuvj422p yuv444p yuvj444p yuv440p yuvj440p nv12 nv21".split()
)

# FFmpeg's AVColorRange, AVColorSpace, AVColorPrimaries and AVColorTransferCharacteristic
# values (libavutil/pixfmt.h): which mean "no tag", and the few this module sets.
_UNSET_RANGE: Final = frozenset({0})
_UNSET_SPACE: Final = frozenset({2, 3})  # unspecified, reserved
_UNSET_PRIMARIES_TRC: Final = frozenset({0, 2, 3})  # reserved, unspecified, reserved
_RANGE_LIMITED = 1
_RANGE_FULL = 2
_BT709 = 1
_UNSPECIFIED = 2  # matrix, primaries and transfer

# swscale's default rounds loosely and repeats chroma horizontally on output; these keep
# an RGB -> YUV -> RGB round trip of smooth content within 2 levels (5 by default).
_TO_YUV = Interpolation.BILINEAR | Interpolation.ACCURATE_RND
_TO_RGB = _TO_YUV | Interpolation.FULL_CHR_H_INT


class VideoCodec(StrEnum):
    """The encoder for the output MP4."""

    H264 = "h264"
    H265 = "h265"


_ENCODERS: Final = {VideoCodec.H264: "libx264", VideoCodec.H265: "libx265"}


@dataclass(frozen=True)
class Encoding:
    """Encoder settings: codec, constant-quality level, speed preset and threads.

    ``gop`` fixes the keyframe interval in frames (scene-cut keyframes off), so a live
    segmenter can cut every segment on a keyframe; None lets the encoder choose.

    Raises:
        InputError: ``crf`` outside 0..51, an unknown preset, negative threads, a ``gop``
            below 1, or codec.
    """

    codec: VideoCodec = VideoCodec.H264
    crf: int = 18
    preset: str = "medium"
    threads: int = 0  # 0 lets the encoder choose
    gop: int | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "codec", VideoCodec(self.codec))
        except ValueError as exc:
            raise InputError(f"unknown video codec '{self.codec}' (use h264 or h265)") from exc
        if not 0 <= self.crf <= 51:
            raise InputError(f"crf {self.crf} is outside 0..51")
        if self.preset not in _PRESETS:
            raise InputError(f"unknown preset '{self.preset}' (use one of {sorted(_PRESETS)})")
        if self.threads < 0:
            raise InputError(f"threads must be 0 (auto) or more, not {self.threads}")
        if self.gop is not None and self.gop < 1:
            raise InputError(f"gop must be at least 1 frame, not {self.gop}")


_DEFAULT_ENCODING = Encoding()


@dataclass(frozen=True)
class Colour:
    """Colour tags as FFmpeg enum values; None where the source leaves them unspecified.

    ``range`` is an AVColorRange (1 limited, 2 full), ``space`` an AVColorSpace (matrix,
    1 = BT.709), ``primaries`` an AVColorPrimaries, ``trc`` an
    AVColorTransferCharacteristic. They are the values PyAV reads from and writes to
    ``color_range``, ``colorspace``, ``color_primaries`` and ``color_trc``.
    """

    range: int | None
    space: int | None
    primaries: int | None
    trc: int | None


# What VideoWriter tags when not told otherwise: what YuvFrame.from_rgb produces.
_BT709_LIMITED = Colour(range=_RANGE_LIMITED, space=_BT709, primaries=_BT709, trc=_BT709)


def _colour_of(frame: VideoFrame) -> Colour:
    def tag(value: int, unset: frozenset[int]) -> int | None:
        return None if value in unset else int(value)

    return Colour(
        range=tag(frame.color_range, _UNSET_RANGE),
        space=tag(frame.colorspace, _UNSET_SPACE),
        primaries=tag(frame.color_primaries, _UNSET_PRIMARIES_TRC),
        trc=tag(frame.color_trc, _UNSET_PRIMARIES_TRC),
    )


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learned about a file, having decoded its first frame."""

    path: str
    container: str
    codec: str
    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    duration_s: float | None
    frame_count: int | None
    rotation: int
    audio_codec: str | None
    colour: Colour


@dataclass(eq=False)
class YuvFrame:
    """One frame as 8-bit 4:2:0 planes; callers may change ``y`` in place.

    Chroma planes are ``(ceil(H/2), ceil(W/2))``. ``colorspace`` is the AVColorSpace
    matrix of the source (None when untagged); :meth:`to_rgb` assumes BT.709 then.
    """

    y: Plane
    u: Plane
    v: Plane
    pts: int | None = None
    time_base: Fraction | None = None
    full_range: bool = False
    colorspace: int | None = None

    @property
    def time(self) -> float | None:
        """Presentation time in seconds, when the frame has a timestamp."""
        if self.pts is None or self.time_base is None:
            return None
        return float(self.pts * self.time_base)

    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        return int(self.y.shape[0])

    @classmethod
    def from_rgb(
        cls,
        rgb: NDArray[np.uint8],
        *,
        pts: int | None = None,
        time_base: Fraction | None = None,
    ) -> YuvFrame:
        """Convert RGB ``(H, W, 3)`` pixels to BT.709 limited-range 4:2:0 with swscale.

        BT.709 at every size, so frames from a renderer and the tags :class:`VideoWriter`
        writes by default always agree.

        Raises:
            InputError: ``rgb`` is not a ``uint8`` ``(H, W, 3)`` array.
        """
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise InputError(f"expected uint8 (H, W, 3) RGB, got {rgb.dtype} {rgb.shape}")
        source = VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        yuv = source.reformat(
            format="yuv420p",
            src_color_range=ColorRange.JPEG,
            dst_colorspace=Colorspace.ITU709,
            dst_color_range=ColorRange.MPEG,
            interpolation=_TO_YUV,
        )
        y, u, v = _copy_planes(yuv)
        return cls(y, u, v, pts=pts, time_base=time_base, full_range=False, colorspace=_BT709)

    def to_rgb(self) -> NDArray[np.uint8]:
        """RGB ``(H, W, 3)`` pixels, using this frame's range and matrix."""
        frame = _to_av_frame(self)
        rgb = frame.reformat(format="rgb24", dst_color_range=ColorRange.JPEG, interpolation=_TO_RGB)
        return np.asarray(rgb.to_ndarray(), dtype=np.uint8)


@dataclass(frozen=True)
class Progress:
    """Transcoding progress: frames done, the expected total when known, and wall time."""

    frames: int
    total: int | None
    elapsed_s: float


@dataclass(frozen=True)
class TranscodeResult:
    """What :func:`transcode` wrote.

    ``audio`` is None (no audio), ``"copied"`` (remuxed untouched) or ``"re-encoded:aac"``.
    """

    frames: int
    duration_s: float
    width: int
    height: int
    fps: Fraction
    audio: str | None
    first_frame_time: float | None


@dataclass(frozen=True, eq=False)
class SampledFrame:
    """A decoded frame's luma plane, for verification."""

    time: float
    y: Plane
    full_range: bool
    key_frame: bool


# ---------------------------------------------------------------------------------------
# Frames between PyAV and numpy


def _plane_view(plane: VideoPlane) -> Plane:
    """The plane's pixels as a writable ``(height, width)`` view (rows may be padded)."""
    rows = np.frombuffer(memoryview(plane), dtype=np.uint8, count=plane.line_size * plane.height)
    view: Plane = rows.reshape(plane.height, plane.line_size)[:, : plane.width]
    return view


def _copy_plane(plane: VideoPlane) -> Plane:
    """A writable, C-contiguous copy that outlives the frame's buffer."""
    return np.array(_plane_view(plane), dtype=np.uint8, order="C", copy=True)


def _copy_planes(frame: VideoFrame) -> tuple[Plane, Plane, Plane]:
    y, u, v = (_copy_plane(p) for p in frame.planes[:3])
    return y, u, v


def _to_av_frame(frame: YuvFrame) -> VideoFrame:
    out = VideoFrame(frame.width, frame.height, "yuv420p")
    for plane, data in zip(out.planes, (frame.y, frame.u, frame.v), strict=True):
        _plane_view(plane)[:] = data
    out.color_range = _RANGE_FULL if frame.full_range else _RANGE_LIMITED
    out.colorspace = frame.colorspace if frame.colorspace is not None else _BT709
    return out


def _is_full_range(frame: VideoFrame) -> bool:
    return frame.color_range == _RANGE_FULL or frame.format.name.startswith("yuvj")


class _ToYuv420:
    """Decoded frames of any pixel format as 8-bit 4:2:0 planes, with one swscale context.

    YUV sources keep their range and matrix (only depth and chroma siting change); RGB
    sources (PNG or RGB ProRes in MOV, for example) become BT.709 limited range.
    """

    def __init__(self) -> None:
        self._sws = VideoReformatter()

    def convert(self, frame: VideoFrame) -> YuvFrame:
        fmt = frame.format
        full = _is_full_range(frame)
        colorspace = _colour_of(frame).space
        if fmt.name in ("yuv420p", "yuvj420p"):
            planar = frame
        elif fmt.is_rgb or fmt.has_palette or fmt.is_bayer:
            planar = self._sws.reformat(
                frame,
                format="yuv420p",
                src_color_range=ColorRange.JPEG,
                dst_colorspace=Colorspace.ITU709,
                dst_color_range=ColorRange.MPEG,
                interpolation=_TO_YUV,
            )
            full, colorspace = False, _BT709
        else:
            keep = ColorRange.JPEG if full else ColorRange.MPEG
            planar = self._sws.reformat(
                frame,
                format="yuv420p",
                src_color_range=keep,
                dst_color_range=keep,
                interpolation=_TO_YUV,
            )
        y, u, v = _copy_planes(planar)
        return YuvFrame(
            y,
            u,
            v,
            pts=frame.pts,
            time_base=frame.time_base,
            full_range=full,
            colorspace=colorspace,
        )

    def luma(self, frame: VideoFrame) -> tuple[Plane, bool]:
        """The Y plane and whether it is full range, converting only when needed."""
        if frame.format.name in _LUMA_FIRST:
            return _copy_plane(frame.planes[0]), _is_full_range(frame)
        yuv = self.convert(frame)
        return yuv.y, yuv.full_range


# ---------------------------------------------------------------------------------------
# Reading


def _why(exc: BaseException) -> str:
    """The cause in a few words, on one line, without the path FFmpeg appends."""
    if isinstance(exc, FFmpegError | OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _sniff(path: Path) -> str | None:
    """The container family named by the file's leading bytes, for error messages."""
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
    except OSError:
        return None
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "MP4/MOV"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "Matroska/WebM"
    return None


def _open_input(path: Path) -> InputContainer:
    """Open a media file for reading.

    Raises:
        InputError: missing, a directory, empty, unreadable, or a truncated container.
        UnsupportedMediaError: not a media file PyAV can read.
    """
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({_why(exc)})") from exc
    if size == 0:
        raise InputError(f"{path}: empty file")
    try:
        return av.open(str(path), mode="r")
    except _AV_ERRORS as exc:
        kind = _sniff(path)
        if kind is not None:
            # An MP4 whose moov box sat at the end and was cut off lands here.
            raise InputError(f"{path}: truncated or corrupt {kind} file ({_why(exc)})") from exc
        raise UnsupportedMediaError(f"{path}: not a video file ({_why(exc)})") from exc


def _video_stream(path: Path, container: InputContainer) -> VideoStream:
    """The first real video stream: cover art in an .m4a is a 'video' stream too.

    Raises:
        UnsupportedMediaError: no video stream, or no decoder for its codec.
    """
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            # PyAV leaves codec_context None when FFmpeg has no decoder for the codec.
            if cast("VideoCodecContext | None", stream.codec_context) is None:
                raise UnsupportedMediaError(
                    f"{path}: cannot decode its video stream (no decoder for this codec in "
                    f"PyAV {av.__version__})"
                )
            return stream
    if container.streams.audio:
        raise UnsupportedMediaError(f"{path}: has no video stream (audio only)")
    raise UnsupportedMediaError(f"{path}: has no video stream")


def _check_complete(path: Path, container: InputContainer) -> None:
    """Refuse a file whose sample index points past its end: it was cut off.

    MP4 keeps an index of every sample; a faststart MP4 cut in half still opens and decodes
    up to the cut, so without this check the rest of the clip would silently vanish.
    Matroska indexes only keyframes, at the end, so a cut WebM has no index to check.
    """
    size = container.size
    for stream in container.streams:
        entries = stream.index_entries
        if len(entries) == 0:
            continue
        # Samples are stored in time order, so the last few reach furthest into the file.
        end = max(entry.pos + entry.size for entry in entries[-32:])
        if end > size:
            raise InputError(
                f"{path}: truncated ({end - size} bytes of the {stream.type} stream missing)"
            )


def _first_frame(path: Path, container: InputContainer, stream: VideoStream) -> VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except _AV_ERRORS as exc:
        raise InputError(f"{path}: cannot decode the first video frame ({_why(exc)})") from exc
    raise InputError(f"{path}: its video stream has no decodable frames")


def first_frame_rgb(path: Path) -> NDArray[np.uint8]:
    """The clip's first frame as RGB ``uint8`` (height, width, 3), e.g. for a thumbnail.

    Raises:
        InputError: as :func:`probe_video`.
        UnsupportedMediaError: as :func:`probe_video`.
    """
    with _open_input(path) as container:
        try:
            frame = _first_frame(path, container, _video_stream(path, container))
            return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
        except _AV_ERRORS as exc:
            raise InputError(f"{path}: cannot read ({_why(exc)})") from exc


def _frame_rate(path: Path, stream: VideoStream) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and rate > 0:
            return Fraction(rate)
    raise InputError(f"{path}: cannot tell the video's frame rate")


def _audio_codec_name(stream: AudioStream) -> str:
    context = cast("AudioCodecContext | None", stream.codec_context)
    return context.name if context is not None else "unknown"


def _duration_s(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def probe_video(path: Path) -> VideoInfo:
    """Describe a video file, decoding its first frame to prove it can be decoded.

    Raises:
        InputError: missing, a directory, empty, truncated, or its first frame is corrupt.
        UnsupportedMediaError: not a media file, no video stream (audio only), or a video
            codec PyAV cannot decode.
    """
    with _open_input(path) as container:
        try:
            return _probe(path, container)
        except _AV_ERRORS as exc:
            raise InputError(f"{path}: cannot read ({_why(exc)})") from exc


def _probe(path: Path, container: InputContainer) -> VideoInfo:
    stream = _video_stream(path, container)
    _check_complete(path, container)
    first = _first_frame(path, container, stream)
    audio = container.streams.audio
    return VideoInfo(
        path=str(path),
        container=container.format.name,
        codec=stream.codec_context.name,
        width=first.width,
        height=first.height,
        fps=_frame_rate(path, stream),
        time_base=stream.time_base or Fraction(1, 90_000),
        duration_s=_duration_s(container, stream),
        frame_count=stream.frames or None,
        rotation=first.rotation,
        audio_codec=_audio_codec_name(audio[0]) if audio else None,
        colour=_colour_of(first),
    )


def _demux(path: Path, container: InputContainer, *streams: Stream) -> Iterator[Packet[Stream]]:
    try:
        yield from container.demux(*streams)
    except _AV_ERRORS as exc:
        raise InputError(f"{path}: corrupt or unreadable data ({_why(exc)})") from exc


def _decode(path: Path, stream: VideoStream, packet: Packet[Stream] | None) -> list[VideoFrame]:
    """Decode one packet; the one place video is decoded, so tests can count frames."""
    try:
        return stream.decode(packet)
    except _AV_ERRORS as exc:
        at = f" at {float(packet.pts * packet.time_base):.2f} s" if packet and packet.pts else ""
        raise InputError(f"{path}: corrupt video data{at} ({_why(exc)})") from exc


# ---------------------------------------------------------------------------------------
# Sampling


def _time_of(frame: VideoFrame) -> float | None:
    """Presentation time; the stubs say never None, but frames without a pts have none."""
    if frame.pts is None or frame.time_base is None:
        return None
    return float(frame.pts * frame.time_base)


def _sampled(frame: VideoFrame, converter: _ToYuv420) -> SampledFrame:
    shown = _time_of(frame)
    y, full_range = converter.luma(frame)
    return SampledFrame(
        time=shown if shown is not None else 0.0,
        y=y,
        full_range=full_range,
        key_frame=frame.key_frame,
    )


class _Seeker:
    """Decoded frames of one stream from a seek point on, with one frame of look-ahead.

    For a time shortly after the last frame :meth:`nearest` returned, decoding on is
    cheaper than seeking back to a keyframe, unless a keyframe lies in between: the
    container's index says where keyframes are (every sample in MP4, the cues in
    Matroska); without one, decoding on is limited to ``_FORWARD_S``.
    """

    def __init__(self, path: Path, container: InputContainer, stream: VideoStream) -> None:
        self._path, self._container, self._stream = path, container, stream
        self._time_base = stream.time_base or Fraction(1, 90_000)
        self._keys: list[int] | None = None  # Matroska loads its cues on the first seek
        self._frames: Iterator[VideoFrame] = iter(())
        self._held: tuple[float, VideoFrame] | None = None
        self._last: tuple[float, VideoFrame] | None = None

    def seek(self, at: float) -> None:
        """Go to the keyframe at or before ``at`` seconds."""
        self.seek_pts(round(Fraction(at) / self._time_base))

    def seek_pts(self, pts: int) -> None:
        try:
            self._container.seek(pts, stream=self._stream, backward=True, any_frame=False)
        except _AV_ERRORS as exc:
            raise InputError(f"{self._path}: cannot seek ({_why(exc)})") from exc
        self._frames = self._decode_forward()
        self._held = self._last = None

    def _decode_forward(self) -> Iterator[VideoFrame]:
        for packet in _demux(self._path, self._container, self._stream):
            yield from _decode(self._path, self._stream, packet)

    def next(self) -> tuple[float, VideoFrame] | None:
        """The next frame with a timestamp, and its time; None at the end."""
        if self._held is not None:
            item, self._held = self._held, None
            return item
        for frame in self._frames:
            shown = _time_of(frame)
            if shown is not None:
                return shown, frame
        return None

    def nearest(self, at: float, tolerance: float) -> VideoFrame | None:
        """The frame whose time is nearest ``at``.

        FFmpeg's MP4 index holds decode times, so a keyframe decoded before ``at`` can be
        shown after it (B-frames); when the first frame is already too late, the search
        starts from the keyframe before that one, at most a few times.
        """
        target = round(Fraction(at) / self._time_base)
        # For the same reason a keyframe indexed just before the target is not yet shown
        # there, so it does not count as one in between.
        margin = round(Fraction(8 * tolerance) / self._time_base)
        if self._decode_on(at, target - margin):
            return self._forward_to(at, self._last)
        for _attempt in range(4):
            self.seek_pts(target)
            first = self.next()
            if first is None:
                return None
            late = first[0] > at + tolerance and first[1].pts is not None and target > 0
            if not late:
                self._held = first
                return self._forward_to(at, None)
            target = min(target, first[1].pts or 0) - 1
        self._held = first
        return self._forward_to(at, None)

    def _decode_on(self, at: float, target: int) -> bool:
        if self._last is None or at < self._last[0]:
            return False
        if self._keys is None:
            entries = self._stream.index_entries
            self._keys = sorted(e.timestamp for e in entries if e.is_keyframe)
        if not self._keys:
            return at <= self._last[0] + _FORWARD_S
        last_pts = self._last[1].pts or 0
        keys_before = bisect.bisect_right(self._keys, last_pts)
        return bisect.bisect_right(self._keys, target) == keys_before

    def _forward_to(self, at: float, best: tuple[float, VideoFrame] | None) -> VideoFrame | None:
        while (item := self.next()) is not None:
            if best is not None and abs(item[0] - at) >= abs(best[0] - at):
                self._held = item  # past the target: the next request may want it
                break
            best = item
        self._last = best
        return best[1] if best is not None else None


def sample_frames(
    path: Path, times: Sequence[float], *, per_seek: int = 1, exact: bool = False
) -> Iterator[SampledFrame]:
    """Luma of frames near the given times (seconds), seeking instead of decoding it all.

    Each time seeks back to the keyframe at or before it. With ``exact=False`` the first
    ``per_seek`` frames decoded there are yielded (the keyframe first: the cheapest frame
    to reach and the best-quality frame of its group); with ``exact=True``, the one frame
    nearest the time, decoding forward from the keyframe (or on from the previous time,
    if that is close behind). A frame already yielded for an earlier time is skipped.

    The file is probed before this returns, so bad input raises here, not on iteration.

    Raises:
        InputError: as :func:`probe_video`, or corrupt data while decoding.
        UnsupportedMediaError: as :func:`probe_video`.
    """
    if per_seek < 1:
        raise InputError(f"per_seek must be at least 1, not {per_seek}")
    if not all(math.isfinite(at) for at in times):
        raise InputError(f"{path}: sample times must be finite numbers of seconds")
    info = probe_video(path)
    return _sample(path, list(times), per_seek, exact, half_frame=float(1 / info.fps) / 2)


def _sample(
    path: Path, times: list[float], per_seek: int, exact: bool, *, half_frame: float
) -> Iterator[SampledFrame]:
    converter = _ToYuv420()
    seen: set[int | None] = set()
    with _open_input(path) as container:
        stream = _video_stream(path, container)
        # Frame threads each hold a frame back, so a seek would decode several frames
        # before the first one came out; slices cost nothing extra.
        stream.thread_type = "SLICE"
        seeker = _Seeker(path, container, stream)
        for at in times:
            picked: list[VideoFrame] = []
            if exact:
                nearest = seeker.nearest(at, half_frame)
                picked = [nearest] if nearest is not None else []
            else:
                seeker.seek(at)
                while len(picked) < per_seek and (item := seeker.next()) is not None:
                    picked.append(item[1])
            for frame in picked:
                if frame.pts in seen:
                    continue
                seen.add(frame.pts)
                yield _sampled(frame, converter)


def sample_rgb(path: Path, times: Sequence[float]) -> Iterator[tuple[float, NDArray[np.uint8]]]:
    """RGB pixels of the frames nearest the given times, for pictures a person looks at.

    Each yields ``(presentation time, (H, W, 3) uint8)``; a frame nearest two times is
    yielded once.

    Raises:
        InputError: as :func:`probe_video`, or corrupt data while decoding.
        UnsupportedMediaError: as :func:`probe_video`.
    """
    if not all(math.isfinite(at) for at in times):
        raise InputError(f"{path}: sample times must be finite numbers of seconds")
    info = probe_video(path)
    return _sample_rgb(path, list(times), half_frame=float(1 / info.fps) / 2)


def _sample_rgb(
    path: Path, times: list[float], *, half_frame: float
) -> Iterator[tuple[float, NDArray[np.uint8]]]:
    converter = _ToYuv420()
    seen: set[int | None] = set()
    with _open_input(path) as container:
        stream = _video_stream(path, container)
        stream.thread_type = "SLICE"
        seeker = _Seeker(path, container, stream)
        for at in times:
            frame = seeker.nearest(at, half_frame)
            if frame is None or frame.pts in seen:
                continue
            seen.add(frame.pts)
            shown = _time_of(frame)
            yield (shown if shown is not None else 0.0), converter.convert(frame).to_rgb()


def decode_luma(path: Path) -> Iterator[SampledFrame]:
    """Luma of every frame, in presentation order: the baseline :func:`sample_frames` beats.

    Raises:
        InputError: as :func:`probe_video`, or corrupt data while decoding.
        UnsupportedMediaError: as :func:`probe_video`.
    """
    probe_video(path)
    return _decode_all(path)


def _decode_all(path: Path) -> Iterator[SampledFrame]:
    converter = _ToYuv420()
    with _open_input(path) as container:
        stream = _video_stream(path, container)
        stream.thread_type = "AUTO"
        for packet in _demux(path, container, stream):
            for frame in _decode(path, stream, packet):
                yield _sampled(frame, converter)


# ---------------------------------------------------------------------------------------
# Writing


def _check_size(path: Path, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise InputError(f"{path}: invalid frame size {width}x{height}")
    if width % 2 or height % 2:
        raise InputError(
            f"{path}: frame size {width}x{height} is odd; H.264/H.265 4:2:0 needs even "
            "width and height (crop or pad the source by one pixel)"
        )


def _open_output(dst: Path, metadata: Mapping[str, str] | None = None) -> OutputContainer:
    # PyAV opens the file only when the first packet is muxed; fail here instead.
    if not dst.parent.is_dir():
        raise EncodingError(f"{dst}: cannot create (no directory {dst.parent})")
    # faststart puts the index first, so players start at once and a cut copy is
    # detectably truncated (see _check_complete). use_metadata_tags writes container tags
    # as moov/udta/meta 'mdta' keys, the form the TC260 video guide's AIGC key takes.
    movflags = "+faststart" + ("+use_metadata_tags" if metadata else "")
    try:
        container = av.open(str(dst), mode="w", format="mp4", options={"movflags": movflags})
    except _AV_ERRORS as exc:
        raise EncodingError(f"{dst}: cannot create ({_why(exc)})") from exc
    container.metadata.update(metadata or {})
    return container


def container_tags(path: Path) -> dict[str, str]:
    """The container-level metadata tags of a video file (``AIGC``, ``encoder``, ...).

    Raises:
        InputError, UnsupportedMediaError: as :func:`probe_video`.
    """
    with _open_input(path) as container:
        return {str(key): str(value) for key, value in container.metadata.items()}


def _add_video_stream(
    container: OutputContainer, encoding: Encoding, *, width: int, height: int, fps: Fraction
) -> VideoStream:
    stream = container.add_stream(_ENCODERS[encoding.codec], rate=fps)
    if not isinstance(stream, VideoStream):  # pragma: no cover - libx264/libx265 are video
        raise EncodingError(f"{_ENCODERS[encoding.codec]} is not a video encoder")
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.thread_count = encoding.threads
    options = {"crf": str(encoding.crf), "preset": encoding.preset}
    if encoding.codec is VideoCodec.H265:
        # x265 prints a banner and per-encode statistics to stderr itself, past FFmpeg's
        # log; threads map to its thread pool.
        params = "log-level=error" + (f":pools={encoding.threads}" if encoding.threads else "")
        if encoding.gop:
            params += f":keyint={encoding.gop}:min-keyint={encoding.gop}:scenecut=0"
        options["x265-params"] = params
        # FFmpeg's default 'hev1' keeps parameter sets in-band; Apple players accept only
        # 'hvc1' (parameter sets in the sample description).
        stream.codec_tag = "hvc1"
    elif encoding.gop:
        options.update(g=str(encoding.gop), keyint_min=str(encoding.gop), sc_threshold="0")
    stream.options = dict(options)
    return stream


class _VideoEncoder:
    """The one encoder path: YuvFrame in, H.264/H.265 packets muxed into ``container``.

    Timestamps are the frame's own (rescaled to ``time_base``) or, for frames without
    one, frame n at n/fps. They are forced strictly increasing, as the encoders and the
    MP4 muxer require.
    """

    def __init__(
        self,
        container: OutputContainer,
        dst: Path,
        *,
        width: int,
        height: int,
        fps: Fraction,
        time_base: Fraction,
        encoding: Encoding,
        rotation: int,
        colour: Colour,
        colour_from_frames: bool,
    ) -> None:
        self.frames = 0
        self.first_time: float | None = None
        self.end_time: float | None = None
        self._container, self._dst = container, dst
        self._width, self._height = width, height
        self._fps, self.time_base = fps, time_base
        self._colour, self._colour_from_frames = colour, colour_from_frames
        self._last_pts: int | None = None
        try:
            self._stream = _add_video_stream(
                container, encoding, width=width, height=height, fps=fps
            )
            self._stream.time_base = time_base
            self._stream.codec_context.time_base = time_base
            if rotation:
                self._stream.set_display_rotation(rotation)
        except (*_AV_ERRORS, ValueError) as exc:
            raise EncodingError(f"{dst}: cannot set up the video encoder ({_why(exc)})") from exc

    def encode(self, frame: YuvFrame, *, duration: int | None = None) -> None:
        """Encode one frame; ``duration`` (in ``time_base``) only feeds ``end_time``."""
        self._check_shape(frame)
        if self.frames == 0:
            self._apply_colour(frame)
        pts = self._next_pts(frame)
        av_frame = _to_av_frame(frame)
        self._tag(av_frame)
        av_frame.pts, av_frame.time_base = pts, self.time_base
        self._mux(av_frame)
        step = duration if duration else float(1 / self._fps / self.time_base)
        if self.first_time is None:
            self.first_time = float(pts * self.time_base)
        self.end_time = float((pts + step) * self.time_base)
        self.frames += 1

    def flush(self) -> None:
        self._mux(None)

    def _mux(self, frame: VideoFrame | None) -> None:
        try:
            self._container.mux(self._stream.encode(frame))
        except (*_AV_ERRORS, ValueError) as exc:
            raise EncodingError(f"{self._dst}: video encoding failed ({_why(exc)})") from exc

    def _check_shape(self, frame: YuvFrame) -> None:
        luma = (self._height, self._width)
        chroma = (self._height // 2, self._width // 2)
        shapes = (frame.y.shape, frame.u.shape, frame.v.shape)
        if shapes != (luma, chroma, chroma) or any(
            p.dtype != np.uint8 for p in (frame.y, frame.u, frame.v)
        ):
            raise InputError(
                f"{self._dst}: frame is {frame.y.shape[-1]}x{frame.y.shape[0]} "
                f"({frame.y.dtype}), the video is {self._width}x{self._height} (uint8 4:2:0)"
            )

    def _apply_colour(self, frame: YuvFrame) -> None:
        """Set the stream's colour tags before the encoder opens on the first frame."""
        colour = self._colour
        if self._colour_from_frames:
            # The pixels decide: an RGB source tagged full range arrives converted to
            # limited range, and the matrix is the one the planes were made with.
            if frame.full_range:
                colour_range: int | None = _RANGE_FULL
            elif colour.range == _RANGE_FULL:
                colour_range = _RANGE_LIMITED
            else:
                colour_range = colour.range
            colour = Colour(
                range=colour_range,
                space=frame.colorspace if frame.colorspace is not None else colour.space,
                primaries=colour.primaries,
                trc=colour.trc,
            )
        self._colour = colour
        context: VideoCodecContext = self._stream.codec_context
        if colour.range is not None:
            context.color_range = colour.range
        if colour.space is not None:
            context.colorspace = colour.space
        if colour.primaries is not None:
            context.color_primaries = colour.primaries
        if colour.trc is not None:
            context.color_trc = colour.trc

    def _tag(self, frame: VideoFrame) -> None:
        colour = self._colour
        frame.color_range = colour.range or 0
        frame.colorspace = _UNSPECIFIED if colour.space is None else colour.space
        frame.color_primaries = _UNSPECIFIED if colour.primaries is None else colour.primaries
        frame.color_trc = _UNSPECIFIED if colour.trc is None else colour.trc

    def _next_pts(self, frame: YuvFrame) -> int:
        if frame.pts is None:
            pts = round(Fraction(self.frames) / self._fps / self.time_base)
        elif frame.time_base is None or frame.time_base == self.time_base:
            pts = frame.pts
        else:
            pts = round(frame.pts * frame.time_base / self.time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            _logger.debug("%s: pts %d after %d, bumped", self._dst, pts, self._last_pts)
            pts = self._last_pts + 1
        self._last_pts = pts
        return pts


def _discard(container: OutputContainer | None, dst: Path) -> None:
    """Close a half-written output without raising, then delete it."""
    if container is not None:
        with contextlib.suppress(*_AV_ERRORS, ValueError, RuntimeError):
            container.close()
    dst.unlink(missing_ok=True)


class VideoWriter:
    """Write 4:2:0 frames a renderer produced to an MP4 file.

    Frames without a timestamp are placed at n/fps. Colour tags default to BT.709 limited
    range, which is what :meth:`YuvFrame.from_rgb` produces. Use as a context manager: an
    exception inside the block closes the file and deletes it.

    Example:
        >>> with VideoWriter(Path("out.mp4"), width=640, height=360, fps=Fraction(30)) as w:
        ...     w.write(YuvFrame.from_rgb(rgb))  # doctest: +SKIP

    ``metadata`` becomes container tags (``moov/udta/meta`` keys).

    Raises:
        InputError: odd or non-positive size, fps not positive.
        EncodingError: the file cannot be created or the encoder fails.
    """

    def __init__(
        self,
        dst: Path,
        *,
        width: int,
        height: int,
        fps: Fraction,
        encoding: Encoding = _DEFAULT_ENCODING,
        rotation: int = 0,
        colour: Colour | None = None,
        time_base: Fraction | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        _check_size(dst, width, height)
        if fps <= 0:
            raise InputError(f"{dst}: frame rate must be positive, not {fps}")
        self._dst = dst
        self._closed = False
        self._container: OutputContainer | None = _open_output(dst, metadata)
        try:
            self._encoder = _VideoEncoder(
                self._container,
                dst,
                width=width,
                height=height,
                fps=Fraction(fps),
                time_base=time_base or 1 / Fraction(fps),
                encoding=encoding,
                rotation=rotation,
                colour=colour or _BT709_LIMITED,
                colour_from_frames=False,
            )
        except BaseException:
            self._abort()
            raise

    def write(self, frame: YuvFrame) -> None:
        """Encode one frame.

        Raises:
            InputError: the frame's size differs from the writer's.
            EncodingError: the writer is closed or the encoder failed.
        """
        if self._closed:
            raise EncodingError(f"{self._dst}: writer is closed")
        self._encoder.encode(frame)

    def close(self) -> int:
        """Flush the encoder and finish the file; returns the number of frames written.

        A writer closed without frames leaves no file (PyAV creates it on the first one).

        Raises:
            EncodingError: flushing or writing the index failed (the file is deleted).
        """
        if self._closed:
            return self._encoder.frames
        self._closed = True
        container, self._container = self._container, None
        try:
            self._encoder.flush()
            if container is not None:
                container.close()
        except BaseException as exc:
            _discard(container, self._dst)
            if isinstance(exc, _AV_ERRORS):
                raise EncodingError(f"{self._dst}: cannot finish ({_why(exc)})") from exc
            raise
        return self._encoder.frames

    def _abort(self) -> None:
        """Stop without finishing and delete the file."""
        self._closed = True
        container, self._container = self._container, None
        _discard(container, self._dst)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort()


# ---------------------------------------------------------------------------------------
# Transcoding


class _Audio:
    """The first audio stream: packets copied onto the output stream, or re-encoded to AAC."""

    def __init__(self, src: Path, source: AudioStream, target: OutputContainer) -> None:
        self._src, self._source, self._target = src, source, target
        context = cast("AudioCodecContext | None", source.codec_context)
        self.copy = context is not None and context.name in _MP4_AUDIO
        if context is None:
            # Dropping the sound track silently would be worse than refusing the file.
            raise UnsupportedMediaError(
                f"{src}: its audio codec can be neither decoded nor carried in MP4"
            )
        try:
            if self.copy:
                self._out: AudioStream = target.add_stream_from_template(source)
            else:
                self._out = self._aac_stream(target, context)
        except (*_AV_ERRORS, ValueError) as exc:
            raise EncodingError(f"{src}: cannot set up the audio stream ({_why(exc)})") from exc
        self.report = "copied" if self.copy else "re-encoded:aac"

    @staticmethod
    def _aac_stream(target: OutputContainer, context: AudioCodecContext) -> AudioStream:
        stream = target.add_stream("aac", rate=context.sample_rate)
        stream.layout = context.layout
        return stream

    def feed(self, packet: Packet[Stream]) -> None:
        if self.copy:
            # demux ends each stream with an empty packet meant to flush a decoder; a
            # valid packet can lack a DTS, so test the size, not dts.
            if packet.size == 0:
                return
            packet.stream = self._out
            self._mux(packet)
            return
        try:
            frames = self._source.decode(packet)
        except _AV_ERRORS as exc:
            raise InputError(f"{self._src}: corrupt audio data ({_why(exc)})") from exc
        for frame in frames:
            self._mux(self._encode(frame))

    def flush(self) -> None:
        if not self.copy:
            self._mux(self._encode(None))

    def _encode(self, frame: av.AudioFrame | None) -> list[Packet[Stream]]:
        try:
            return self._out.encode(frame)
        except (*_AV_ERRORS, ValueError) as exc:
            raise EncodingError(f"{self._src}: AAC encoding failed ({_why(exc)})") from exc

    def _mux(self, packets: Packet[Stream] | list[Packet[Stream]]) -> None:
        try:
            self._target.mux(packets)
        except _AV_ERRORS as exc:
            raise EncodingError(f"{self._src}: cannot mux audio ({_why(exc)})") from exc


class _ProgressClock:
    def __init__(self, callback: Callable[[Progress], None] | None, total: int | None) -> None:
        self._callback, self._total = callback, total
        self._start = self._last = time.monotonic()

    def tick(self, frames: int, *, final: bool = False) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if final or now - self._last >= _PROGRESS_EVERY_S:
            self._last = now
            self._callback(Progress(frames=frames, total=self._total, elapsed_s=now - self._start))


class FrameHook:
    """Runs ``on_frame`` on each frame, in order, up to ``ahead`` frames before its use.

    With ``ahead`` 0 the hook runs inline. Otherwise one worker thread runs it (one frame
    at a time, in the order pushed, so a stateful hook sees the frames as the encoder
    will) while the caller decodes or renders the next frames and the encoder works on
    earlier ones; numpy, OpenCV and FFmpeg release the GIL, so on two cores they overlap.
    At most ``ahead`` + 1 frames are in flight: memory stays constant. An exception in
    the hook is raised by the :meth:`push` or :meth:`drain` that would have returned its
    frame. Use as a context manager, or call :meth:`close`.

    Example:
        >>> with FrameHook(mark, ahead=2) as hook:  # doctest: +SKIP
        ...     for frame in frames:
        ...         for ready in hook.push(frame):
        ...             writer.write(ready)
        ...     for ready in hook.drain():
        ...         writer.write(ready)
    """

    def __init__(self, on_frame: Callable[[YuvFrame], None], ahead: int) -> None:
        self._on_frame, self._ahead = on_frame, ahead
        self._pool = ThreadPoolExecutor(1, "on-frame") if ahead > 0 else None
        self._pending: deque[tuple[YuvFrame, Future[None]]] = deque()

    def push(self, frame: YuvFrame) -> list[YuvFrame]:
        """Start the hook on ``frame``; return the frames whose hook has finished, in order."""
        if self._pool is None:
            self._on_frame(frame)
            return [frame]
        self._pending.append((frame, self._pool.submit(self._on_frame, frame)))
        ready = []
        while len(self._pending) > self._ahead:
            ready.append(self._ready())
        return ready

    def drain(self) -> list[YuvFrame]:
        """Wait for the frames still in flight; return them in order."""
        ready = []
        while self._pending:
            ready.append(self._ready())
        return ready

    def close(self) -> None:
        """Stop the worker; frames still in flight are dropped."""
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> FrameHook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ready(self) -> YuvFrame:
        frame, hooked = self._pending.popleft()
        hooked.result()  # re-raises the hook's exception here, in the caller's thread
        return frame


def _transcode_streams(
    src: Path,
    info: VideoInfo,
    source: InputContainer,
    encoder: _VideoEncoder,
    audio: _Audio | None,
    hook: FrameHook,
    clock: _ProgressClock,
) -> None:
    """Demux in file order: video through the hook and the encoder, audio to the muxer.

    Only the muxer's interleaving queue, the hook's few frames in flight and the encoder's
    lookahead hold frames, so memory does not grow with the clip.
    """
    video = _video_stream(src, source)
    video.thread_type = "AUTO"
    streams: list[VideoStream | AudioStream] = [video]
    if audio is not None:
        streams.append(source.streams.audio[0])
    converter = _ToYuv420()
    # The source's timing of each frame in flight, in order: restored before encoding in
    # case the hook touched more than the planes.
    timing: deque[tuple[int | None, Fraction | None, int | None]] = deque()

    def encode(frames: list[YuvFrame]) -> None:
        for frame in frames:
            frame.pts, frame.time_base, duration = timing.popleft()
            encoder.encode(frame, duration=duration)
            clock.tick(encoder.frames)

    for packet in _demux(src, source, *streams):
        # Test the stream, not stream_index: the empty flush packets demux adds at the end
        # all carry stream_index 0.
        if packet.stream.index != video.index:
            if audio is not None:
                audio.feed(packet)
            continue
        for frame in _decode(src, video, packet):
            duration = frame.duration if frame.time_base == encoder.time_base else None
            timing.append((frame.pts, frame.time_base, duration))
            encode(hook.push(converter.convert(frame)))
    encode(hook.drain())
    if info.frame_count is not None and encoder.frames != info.frame_count:
        _logger.warning(
            "%s: decoded %d frames, the index lists %d", src, encoder.frames, info.frame_count
        )


def transcode(
    src: Path,
    dst: Path,
    encoding: Encoding,
    on_frame: Callable[[YuvFrame], None],
    *,
    progress: Callable[[Progress], None] | None = None,
    metadata: Mapping[str, str] | None = None,
    hook_ahead: int = 0,
) -> TranscodeResult:
    """Re-encode ``src`` (MP4, MOV, MKV or WebM) to an MP4 at ``dst``, frame by frame.

    Every video frame is decoded, converted to 8-bit 4:2:0 if needed, handed to
    ``on_frame`` (which may change ``frame.y`` in place) and encoded. With ``hook_ahead``
    above 0, ``on_frame`` runs in a worker thread up to that many frames ahead of the
    encoder, overlapping with decoding and encoding; it is still called once per frame, in
    order, never two at a time, and an exception it raises stops the transcode. Each output frame
    keeps its source timestamp (variable frame rate stays variable), and the rotation and
    colour tags are copied. The first audio stream is copied packet for packet, or
    re-encoded to AAC if MP4 players cannot take its codec (Vorbis, PCM). Subtitle and
    data streams are dropped. ``progress`` is called about every 0.5 s and once at the end.
    ``metadata`` becomes container tags (``moov/udta/meta`` keys).

    On any failure ``dst`` is deleted.

    Raises:
        InputError: as :func:`probe_video`, corrupt data while decoding, or an odd size.
        UnsupportedMediaError: as :func:`probe_video`.
        EncodingError: ``dst`` cannot be written or an encoder failed.
    """
    info = probe_video(src)
    _check_size(src, info.width, info.height)
    output: OutputContainer | None = None
    try:
        with _open_input(src) as source:
            output = _open_output(dst, metadata)
            encoder = _VideoEncoder(
                output,
                dst,
                width=info.width,
                height=info.height,
                fps=info.fps,
                time_base=info.time_base,
                encoding=encoding,
                rotation=info.rotation,
                colour=info.colour,
                colour_from_frames=True,
            )
            audio = _Audio(src, source.streams.audio[0], output) if source.streams.audio else None
            clock = _ProgressClock(progress, info.frame_count)
            with FrameHook(on_frame, hook_ahead) as hook:
                _transcode_streams(src, info, source, encoder, audio, hook, clock)
            encoder.flush()
            if audio is not None:
                audio.flush()
            output.close()
            clock.tick(encoder.frames, final=True)
    except BaseException as exc:
        _discard(output, dst)
        if isinstance(exc, _AV_ERRORS):
            raise EncodingError(f"{dst}: cannot finish ({_why(exc)})") from exc
        raise
    return TranscodeResult(
        frames=encoder.frames,
        duration_s=(encoder.end_time or 0.0) - (encoder.first_time or 0.0),
        width=info.width,
        height=info.height,
        fps=info.fps,
        audio=audio.report if audio is not None else None,
        first_frame_time=encoder.first_time,
    )


# ---------------------------------------------------------------------------------------
# Remuxing

# Container tags the MP4 muxer derives itself (from the ftyp box, and its own version):
# carried over they would turn into mdta keys of their own under use_metadata_tags.
_MUXER_TAGS: Final = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder"})
# Stream types an MP4 carries packet for packet; data tracks (timecode, GPS) have no
# PyAV template path, so a file holding one is refused rather than silently thinned.
_REMUX_TYPES: Final = frozenset({"video", "audio", "subtitle"})


def remux(
    src: Path,
    dst: Path,
    *,
    metadata: Mapping[str, str],
    progress: Callable[[Progress], None] | None = None,
) -> int:
    """Rewrite ``src`` (MP4 or MOV) as a new MP4 at ``dst`` with changed container tags.

    Nothing is decoded or encoded: every video, audio and subtitle packet is copied with
    its timestamps, and the streams keep their codec parameters (rotation included),
    tags and dispositions. The container tags are ``src``'s own with ``metadata`` laid
    over them (a tag named in ``metadata`` in any case is replaced), written as
    ``moov/udta/meta`` ``mdta`` keys (``use_metadata_tags``, as :func:`transcode`
    writes them). Top-level boxes FFmpeg does not model (a C2PA manifest, an XMP
    ``uuid`` box) are not carried over. ``progress`` counts the video packets copied
    (frames), about every 0.5 s and once at the end. On any failure ``dst`` is deleted.

    Returns:
        The number of packets copied.

    Raises:
        InputError: as :func:`probe_video`, or corrupt data while demuxing.
        UnsupportedMediaError: as :func:`probe_video`, or a stream MP4 cannot carry as is.
        EncodingError: ``dst`` cannot be written.
    """
    output: OutputContainer | None = None
    try:
        with _open_input(src) as source:
            video = _video_stream(src, source)
            _check_complete(src, source)
            streams = _remuxable_streams(src, source)
            output = _open_output(dst, _merged_tags(source.metadata, metadata))
            targets = {stream.index: _copy_stream(dst, stream, output) for stream in streams}
            clock = _ProgressClock(progress, video.frames or None)
            copied = frames = 0
            for packet in _demux(src, source, *streams):
                # demux ends each stream with an empty flush packet; a real one has bytes.
                if packet.size == 0:
                    continue
                if packet.stream.index == video.index:
                    frames += 1
                    clock.tick(frames)
                packet.stream = targets[packet.stream.index]
                output.mux(packet)
                copied += 1
            output.close()
            clock.tick(frames, final=True)
    except BaseException as exc:
        _discard(output, dst)
        if isinstance(exc, _AV_ERRORS):
            raise EncodingError(f"{dst}: cannot finish ({_why(exc)})") from exc
        raise
    return copied


def _merged_tags(own: Mapping[str, str], changes: Mapping[str, str]) -> dict[str, str]:
    # FFmpeg matches tag names case-insensitively, so "aigc" and "AIGC" would collide.
    replaced = {name.lower() for name in changes}
    kept = {
        name: value
        for name, value in own.items()
        if name not in _MUXER_TAGS and name.lower() not in replaced
    }
    return {**kept, **changes}


def _remuxable_streams(path: Path, container: InputContainer) -> list[Stream]:
    streams = list(container.streams)
    for stream in streams:
        if stream.type not in _REMUX_TYPES:
            raise UnsupportedMediaError(
                f"{path}: stream {stream.index} is a {stream.type} stream, which cannot be "
                "copied into the new MP4 (only video, audio and subtitle streams can)"
            )
    return streams


def _copy_stream(dst: Path, stream: Stream, output: OutputContainer) -> Stream:
    try:
        target = output.add_stream_from_template(stream)
    except (*_AV_ERRORS, ValueError) as exc:
        raise EncodingError(
            f"{dst}: cannot copy stream {stream.index} ({stream.type}: {_why(exc)})"
        ) from exc
    # The template copies codec parameters (side data too); tags and dispositions (cover
    # art is an attached_pic video stream) go by hand.
    target.metadata.update(stream.metadata)
    target.disposition = stream.disposition
    return target


# ---------------------------------------------------------------------------------------
# Still-frame sequences

_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def frames_from_directory(directory: Path) -> list[Path]:
    """The numbered stills (PNG, JPEG, WebP) in ``directory``, in frame-number order.

    The number is the last run of digits in the file name, so ``frame_2.png`` comes
    before ``frame_10.png``. Hidden files and other suffixes are ignored.

    Raises:
        InputError: not a directory, no stills, a still without a number, or two stills
            with the same number.
    """
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory")
    stills = [
        p
        for p in directory.iterdir()
        if p.suffix.lower() in _STILL_SUFFIXES and not p.name.startswith(".") and p.is_file()
    ]
    if not stills:
        raise InputError(f"{directory}: no PNG, JPEG or WebP frames")
    numbered: dict[int, Path] = {}
    for still in sorted(stills):
        match = _NUMBER.search(still.stem)
        if match is None:
            raise InputError(f"{directory}: frame {still.name} has no number in its name")
        number = int(match.group(1))
        if number in numbered:
            raise InputError(
                f"{directory}: {numbered[number].name} and {still.name} are both frame {number}"
            )
        numbered[number] = still
    return [numbered[n] for n in sorted(numbered)]
