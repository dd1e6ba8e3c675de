"""The attack set: what a platform or a user plausibly does to delivered avatar media.

Why these: they are the benign transformations of the watermark notes (sections 3 and 6)
and of Video Seal's evaluation list, kept to what a platform does without trying to remove
the mark. Every pixel attack maps RGB ``uint8`` to RGB ``uint8``.

Still attacks (on the marked PNG-quality frame):

- ``none``: the marked frame itself.
- ``jpeg90`` / ``jpeg75`` / ``jpeg50``: Pillow JPEG at that quality, default 4:2:0.
- ``720p`` / ``480p`` / ``360p``: downscale to that height, 16:9 kept (cv2 INTER_AREA).
- ``crop5`` / ``crop10``: keep the central 95 % / 90 % of each dimension, not rescaled.
- ``bright``: every sample x1.1 (clipped); ``contrast``: x0.8 about mid-grey 128.
- ``shift2``: translate 2 px right and 2 px down, replicating the border.
- ``caption``: an opaque caption bar with white text over the lower part (cv2.putText).
- ``480p+jpeg75``, ``360p+jpeg50``: chains, applied left to right.

Clip attacks (on the delivered H.264 CRF 18 file: decode, transform, re-encode):

- ``h264-crf23`` / ``-crf28`` / ``-crf32``: libx264 preset medium.
- ``h265-crf28``: libx265 preset medium. ``vp9-crf32``: libvpx-vp9 crf 32, b:v 0,
  cpu-used 4 (good deadline, row-mt).
- ``fps25+crf23``: resample 30 -> 25 fps by timestamps (each output instant shows the
  latest input frame at or before it), then libx264 CRF 23 at 25 fps.
- ``720p+crf23`` ... ``caption+crf23``: the still attack of that name on every frame, then
  libx264 CRF 23. ``480p+crf28`` / ``360p+crf28``: downscale, then CRF 28.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ._media import FPS, Codec, to_u8

__all__ = [
    "CLIP_ATTACKS",
    "STILL_ATTACKS",
    "ClipAttack",
    "PixelAttack",
    "apply_chain",
    "resample_fps",
]

RGB = NDArray[np.uint8]
PixelAttack = Callable[[RGB], RGB]


def jpeg(quality: int) -> PixelAttack:
    """Pillow JPEG round trip at ``quality`` (Pillow's default 4:2:0 subsampling)."""

    def attack(rgb: RGB) -> RGB:
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
        with Image.open(buffer) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()

    return attack


def resize(height: int) -> PixelAttack:
    """Downscale to ``height`` rows keeping the aspect ratio, even width (INTER_AREA)."""

    def attack(rgb: RGB) -> RGB:
        width = round(rgb.shape[1] * height / rgb.shape[0] / 2) * 2
        return np.asarray(
            cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA), dtype=np.uint8
        )

    return attack


def crop(keep: float) -> PixelAttack:
    """Keep the central ``keep`` fraction of each dimension (even sizes), no rescale."""

    def attack(rgb: RGB) -> RGB:
        height, width = rgb.shape[:2]
        new_h, new_w = int(height * keep) // 2 * 2, int(width * keep) // 2 * 2
        top, left = (height - new_h) // 2, (width - new_w) // 2
        return rgb[top : top + new_h, left : left + new_w].copy()

    return attack


def gain(factor: float, pivot: float = 0.0) -> PixelAttack:
    """``pivot + factor * (x - pivot)``, rounded and clipped: brightness or contrast."""

    def attack(rgb: RGB) -> RGB:
        out = pivot + factor * (rgb.astype(np.float32) - pivot)
        return to_u8(out)

    return attack


def shift(pixels: int) -> PixelAttack:
    """Translate right and down by ``pixels``, replicating the top and left border."""

    def attack(rgb: RGB) -> RGB:
        padded = np.pad(rgb, ((pixels, 0), (pixels, 0), (0, 0)), mode="edge")
        return padded[: rgb.shape[0], : rgb.shape[1]].copy()

    return attack


def caption(rgb: RGB) -> RGB:
    """An opaque dark caption bar over rows 80-92 % with white subtitle text."""
    out = rgb.copy()
    height, width = out.shape[:2]
    top, bottom = int(height * 0.80), int(height * 0.92)
    out[top:bottom, int(width * 0.1) : int(width * 0.9)] = (16, 16, 16)
    scale = height / 720
    cv2.putText(
        out,
        "Subtitles: the avatar explains provenance",
        (int(width * 0.13), int(bottom - (bottom - top) * 0.3)),
        cv2.FONT_HERSHEY_SIMPLEX,
        1.2 * scale,
        (255, 255, 255),
        max(1, round(2 * scale)),
        cv2.LINE_AA,
    )
    return out


def apply_chain(rgb: RGB, chain: Sequence[PixelAttack]) -> RGB:
    """Apply pixel attacks left to right."""
    for attack in chain:
        rgb = attack(rgb)
    return rgb


STILL_ATTACKS: dict[str, tuple[PixelAttack, ...]] = {
    "none": (),
    "jpeg90": (jpeg(90),),
    "jpeg75": (jpeg(75),),
    "jpeg50": (jpeg(50),),
    "720p": (resize(720),),
    "480p": (resize(480),),
    "360p": (resize(360),),
    "crop5": (crop(0.95),),
    "crop10": (crop(0.90),),
    "bright": (gain(1.1),),
    "contrast": (gain(0.8, 128.0),),
    "shift2": (shift(2),),
    "caption": (caption,),
    "480p+jpeg75": (resize(480), jpeg(75)),
    "360p+jpeg50": (resize(360), jpeg(50)),
}


@dataclass(frozen=True)
class ClipAttack:
    """Per-frame pixel attacks, an optional frame-rate change, then one re-encode."""

    codec: Codec
    pixels: tuple[PixelAttack, ...] = ()
    fps: int = FPS


def _h264(crf: int, *pixels: PixelAttack) -> ClipAttack:
    return ClipAttack(Codec.h264(crf), pixels)


CLIP_ATTACKS: dict[str, ClipAttack] = {
    "h264-crf23": _h264(23),
    "h264-crf28": _h264(28),
    "h264-crf32": _h264(32),
    "h265-crf28": ClipAttack(Codec.h265(28)),
    "vp9-crf32": ClipAttack(Codec.vp9(32)),
    "fps25+crf23": ClipAttack(Codec.h264(23), fps=25),
    "720p+crf23": _h264(23, resize(720)),
    "480p+crf23": _h264(23, resize(480)),
    "360p+crf23": _h264(23, resize(360)),
    "crop5+crf23": _h264(23, crop(0.95)),
    "crop10+crf23": _h264(23, crop(0.90)),
    "bright+crf23": _h264(23, gain(1.1)),
    "contrast+crf23": _h264(23, gain(0.8, 128.0)),
    "shift2+crf23": _h264(23, shift(2)),
    "caption+crf23": _h264(23, caption),
    "480p+crf28": _h264(28, resize(480)),
    "360p+crf28": _h264(28, resize(360)),
}


def resample_fps(times: Sequence[float], source_fps: int, target_fps: int) -> list[int]:
    """Source frame index shown at each output instant (latest frame at or before it).

    Args:
        times: presentation times of the source frames in seconds, ascending.
        source_fps: the source rate, which fixes the clip's duration.
        target_fps: the output rate.

    Returns:
        One source index per output frame, covering the same duration.
    """
    duration = len(times) / source_fps
    count = round(duration * target_fps)
    stamps = np.asarray(times, dtype=np.float64)
    picks = []
    for k in range(count):
        instant = k / target_fps + 1e-6
        picks.append(max(0, int(np.searchsorted(stamps, instant, side="right")) - 1))
    return picks
