"""Frame sources for a live stream: raw frames on a pipe, a file at its real rate, and the
loop that feeds a :class:`StreamStamper` from any of them."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import BinaryIO, TypeVar

import numpy as np

from ..errors import InputError
from ..media import YuvFrame
from .stamper import StampedStream, StreamStamper

__all__ = ["RAW_PIXEL_FORMATS", "paced", "raw_frames", "stream_frames"]

RAW_PIXEL_FORMATS = ("rgb24", "yuv420p")
# FFmpeg's AVColorSpace for BT.709, the matrix the stream is tagged with.
_BT709 = 1

T = TypeVar("T")


def raw_frames(
    stream: BinaryIO, *, width: int, height: int, pix_fmt: str, source: str = "stdin"
) -> Iterator[YuvFrame]:
    """Frames of ``width`` x ``height`` read back to back from ``stream`` until it ends.

    ``rgb24`` is packed RGB (as ``ffmpeg -f rawvideo -pix_fmt rgb24`` writes it);
    ``yuv420p`` is planar BT.709 limited-range 4:2:0, taken as is.

    Raises:
        InputError: an unknown pixel format, odd size, or the stream ends mid-frame.
    """
    if pix_fmt not in RAW_PIXEL_FORMATS:
        raise InputError(f"{source}: pixel format {pix_fmt!r}; use one of {RAW_PIXEL_FORMATS}")
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise InputError(f"{source}: frame size {width}x{height}; use positive even sizes")
    luma = width * height
    size = luma * 3 if pix_fmt == "rgb24" else luma * 3 // 2
    return _read_frames(stream, width, height, pix_fmt, size, source)


def _read_frames(
    stream: BinaryIO, width: int, height: int, pix_fmt: str, size: int, source: str
) -> Iterator[YuvFrame]:
    index = 0
    while True:
        data = _read_exactly(stream, size)
        if not data:
            return
        if len(data) < size:
            raise InputError(
                f"{source}: frame {index} is cut short ({len(data)} of {size} bytes); "
                "check --size and --pix-fmt"
            )
        array = np.frombuffer(data, dtype=np.uint8)
        if pix_fmt == "rgb24":
            yield YuvFrame.from_rgb(array.reshape(height, width, 3))
        else:
            luma, chroma = width * height, (width // 2) * (height // 2)
            y = array[:luma].reshape(height, width).copy()
            u = array[luma : luma + chroma].reshape(height // 2, width // 2)
            v = array[luma + chroma :].reshape(height // 2, width // 2)
            yield YuvFrame(y, u, v, full_range=False, colorspace=_BT709)
        index += 1


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes: a pipe hands out what the writer has so far."""
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def paced(frames: Iterable[T], fps: Fraction) -> Iterator[T]:
    """Release frame ``n`` no earlier than ``n / fps`` seconds after the first: a file
    played at its real rate, as a camera or renderer would deliver it."""
    start = time.monotonic()
    for index, frame in enumerate(frames):
        delay = start + float(index / fps) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield frame


def stream_frames(live: StreamStamper, frames: Iterable[YuvFrame]) -> StampedStream:
    """Feed every frame to ``live`` and close it; on any failure, abort and re-raise."""
    try:
        for frame in frames:
            live.write_frame(_as_stream_frame(frame))
    except BaseException:
        live.abort()
        raise
    return live.close()


def _as_stream_frame(frame: YuvFrame) -> YuvFrame:
    """The frame in the stream's colour: BT.709 limited range (full-range or other
    matrices are converted through RGB, which only unusual sources need)."""
    if not frame.full_range and frame.colorspace in (None, _BT709):
        return frame
    return YuvFrame.from_rgb(frame.to_rgb())
