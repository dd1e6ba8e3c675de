"""Test content the harness makes itself, and clip encode/decode through PyAV.

Why synthetic content: the benchmark must run offline and be reproducible bit for bit.
:func:`~provenance.media.synthetic.avatar_frame` alone is too smooth (codecs spend almost
no bits on it and every mark looks robust), so this module adds smoothed multi-scale noise
to the background, hair and clothes, a little skin texture and a faint per-frame sensor
noise. Every frame is a pure function of ``(kind, index, size, seed)``, so worker
processes regenerate the frames they need instead of receiving them.

Clips are encoded and decoded through PyAV only, always ``yuv420p`` with even dimensions,
the way a platform receives and re-encodes them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal

import av
import cv2
import numpy as np
from av.video.stream import VideoStream
from numpy.typing import NDArray

from provenance.media.synthetic import avatar_frame

__all__ = [
    "CLIP_KINDS",
    "FPS",
    "ClipKind",
    "Codec",
    "Decoded",
    "clip_frame",
    "decode_clip",
    "encode_clip",
    "face_border_box",
    "flat_grey",
    "still",
    "to_u8",
]

ClipKind = Literal["talking", "pan"]
CLIP_KINDS: tuple[ClipKind, ...] = ("talking", "pan")
FPS = 30

RGB = NDArray[np.uint8]


@dataclass(frozen=True)
class Codec:
    """One encoder setting: libx264/libx265/libvpx-vp9 with its rate-control options."""

    name: str
    options: tuple[tuple[str, str], ...]
    container: str = "mp4"

    @classmethod
    def h264(cls, crf: int, preset: str = "medium") -> Codec:
        """libx264 at constant quality ``crf``."""
        return cls("libx264", (("crf", str(crf)), ("preset", preset)))

    @classmethod
    def h265(cls, crf: int) -> Codec:
        """libx265 at constant quality; its banner and per-encode stats are silenced."""
        return cls(
            "libx265", (("crf", str(crf)), ("preset", "medium"), ("x265-params", "log-level=error"))
        )

    @classmethod
    def vp9(cls, crf: int) -> Codec:
        """libvpx-vp9 constant quality (``b:v 0``); ``cpu-used 4`` keeps 1080p affordable."""
        return cls(
            "libvpx-vp9",
            (
                ("crf", str(crf)),
                ("b", "0"),
                ("deadline", "good"),
                ("cpu-used", "4"),
                ("row-mt", "1"),
            ),
            container="webm",
        )


def _smooth_noise(
    rng: np.random.Generator, height: int, width: int, scales: Iterable[int]
) -> NDArray[np.float32]:
    """Sum of noise fields upsampled from coarse grids: mid-frequency texture, unit std."""
    total = np.zeros((height, width), np.float32)
    for scale in scales:
        small = rng.normal(0, 1, (max(2, height // scale), max(2, width // scale)))
        total += cv2.resize(
            small.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC
        )
    std = float(total.std()) or 1.0
    out: NDArray[np.float32] = total / std
    return out


@dataclass(frozen=True)
class _Layout:
    """Where avatar_frame put the face, replayed from its seeded draws."""

    cy: float
    cx: float
    ry: float
    rx: float


def _layout(height: int, width: int, seed: int) -> _Layout:
    # Same draw order as provenance.media.synthetic.avatar_frame (two colours, then the
    # centre), so the texture masks line up with the face that function drew.
    rng = np.random.default_rng(seed)
    rng.uniform(40, 200, 3)
    rng.uniform(40, 200, 3)
    cy = height * rng.uniform(0.42, 0.5)
    cx = width * rng.uniform(0.45, 0.55)
    return _Layout(cy=cy, cx=cx, ry=height * 0.3, rx=min(width * 0.22, height * 0.24))


@lru_cache(maxsize=4)
def _scene(height: int, width: int, seed: int) -> tuple[RGB, NDArray[np.float32], _Layout]:
    """A textured avatar still, its feathered face mask, and the face layout."""
    base = avatar_frame(height, width, seed=seed).astype(np.float32)
    lay = _layout(height, width, seed)
    rng = np.random.default_rng(seed + 1000)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    face = (((x - lay.cx) / lay.rx) ** 2 + ((y - lay.cy) / lay.ry) ** 2 < 1).astype(np.float32)
    hair = (
        (
            ((x - lay.cx) / (lay.rx * 1.12)) ** 2
            + ((y - lay.cy + lay.ry * 0.12) / (lay.ry * 1.02)) ** 2
            < 1
        )
        & (y < lay.cy - lay.ry * 0.35)
    ).astype(np.float32)
    clothes = (
        (((x - lay.cx) / (lay.rx * 2.0)) ** 2 + ((y - height * 1.15) / (height * 0.42)) ** 2) < 1
    ).astype(np.float32) * (1 - face)
    background = (1 - face) * (1 - hair) * (1 - clothes)
    texture = _smooth_noise(rng, height, width, (3, 12, 48))
    fine = _smooth_noise(rng, height, width, (2, 6))
    tone = rng.uniform(0.7, 1.3, 3).astype(np.float32)
    frame = base * (1 - hair - clothes)[..., None]
    frame += hair[..., None] * (np.array([60, 42, 30], np.float32) + 14 * fine[..., None])
    frame += clothes[..., None] * (
        np.array([50, 70, 110], np.float32) * tone + 10 * texture[..., None]
    )
    frame += background[..., None] * 9 * texture[..., None] * tone
    frame += face[..., None] * 2.5 * fine[..., None]
    mask = cv2.GaussianBlur(np.maximum(face, hair), (0, 0), 6)
    return to_u8(frame), mask, lay


def face_border_box(height: int, width: int, seed: int, size: int = 512) -> tuple[int, int, int]:
    """``(top, left, side)`` of a square centred on the face's right edge: skin, hair and
    textured background in one 100 % crop, where a mark is easiest to see."""
    lay = _layout(height, width, seed)
    side = min(size, height, width)
    top = int(np.clip(lay.cy - lay.ry * 0.4 - side / 2, 0, height - side))
    left = int(np.clip(lay.cx + lay.rx - side / 2, 0, width - side))
    return top, left, side


def to_u8(values: NDArray[np.floating[Any]]) -> RGB:
    """Round and clip float samples to ``uint8``."""
    return np.asarray(np.clip(np.rint(values), 0, 255), dtype=np.uint8)


def still(height: int, width: int, *, seed: int) -> RGB:
    """A textured 16:9 avatar still."""
    return _scene(height, width, seed)[0].copy()


def flat_grey(height: int, width: int) -> RGB:
    """A flat mid-grey frame: the worst case for visibility and for false positives."""
    return np.full((height, width, 3), 128, np.uint8)


def clip_frame(kind: ClipKind, index: int, height: int, width: int, *, seed: int) -> RGB:
    """Frame ``index`` of a synthetic 30 fps clip.

    ``talking``: static camera and background; the head sways by about a pixel and the
    mouth opens and closes. ``pan``: the whole scene pans right and zooms in slowly
    (about 1.5 px and 0.1 % per frame), so every block moves and the encoder must predict.
    """
    scene, mask, lay = _scene(height, width, seed)
    rng = np.random.default_rng((seed, index))
    t = index / FPS
    if kind == "talking":
        dx, dy = 1.2 * np.sin(2 * np.pi * 0.4 * t), 0.8 * np.sin(2 * np.pi * 0.3 * t)
        shift = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
        moved = cv2.warpAffine(scene, shift, (width, height), borderMode=cv2.BORDER_REPLICATE)
        frame = scene * (1 - mask[..., None]) + moved * mask[..., None]
        opening = lay.ry * (0.02 + 0.05 * abs(np.sin(2 * np.pi * 2.2 * t)))
        centre = (int(lay.cx + dx), int(lay.cy + lay.ry * 0.42 + dy))
        cv2.ellipse(
            frame,
            centre,
            (int(lay.rx * 0.3), int(opening)),
            0,
            0,
            360,
            (90, 25, 35),
            -1,
            cv2.LINE_AA,
        )
    else:
        zoom = 1.05 + 0.001 * index
        zoom_pan = cv2.getRotationMatrix2D((width / 2 + 1.5 * index, height / 2), 0, zoom)
        warped = cv2.warpAffine(
            scene, zoom_pan, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        frame = np.asarray(warped, dtype=np.float32)
    frame = frame + rng.standard_normal(frame.shape, dtype=np.float32)
    return to_u8(frame)


def encode_clip(frames: Iterable[RGB], codec: Codec, *, fps: int = FPS, threads: int = 1) -> bytes:
    """Encode RGB frames to an in-memory file; dimensions must be even (yuv420p)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=codec.container) as container:
        stream = container.add_stream(codec.name, rate=Fraction(fps))
        if not isinstance(stream, VideoStream):
            raise TypeError(f"{codec.name} is not a video encoder")
        stream.pix_fmt = "yuv420p"
        stream.options = dict(codec.options)
        stream.codec_context.thread_count = threads
        for index, rgb in enumerate(frames):
            if index == 0:
                stream.width, stream.height = rgb.shape[1], rgb.shape[0]
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


@dataclass(frozen=True)
class Decoded:
    """One decoded frame: its presentation time, RGB pixels on demand, and the Y plane."""

    time: float
    frame: av.VideoFrame

    def rgb(self) -> RGB:
        """RGB24 pixels (BT.601, as the encoder converted them)."""
        return np.asarray(self.frame.to_ndarray(format="rgb24"), dtype=np.uint8)

    def luma(self) -> NDArray[np.uint8]:
        """The Y plane as an ``(H, W)`` array, without colour conversion."""
        yuv = (
            self.frame
            if self.frame.format.name == "yuv420p"
            else self.frame.reformat(format="yuv420p")
        )
        planes = np.asarray(yuv.to_ndarray(), dtype=np.uint8)
        return planes[: yuv.height].copy()


def decode_clip(data: bytes) -> Iterator[Decoded]:
    """Decode every frame of an in-memory clip, in presentation order."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            time = float(frame.time) if frame.time is not None else 0.0
            yield Decoded(time=time, frame=frame)
