"""Synthetic avatar-like frames, so demos, tests and benchmarks never need a download.

A smooth two-tone background, a skin-toned face with eyes and mouth, and mild sensor noise:
close enough to a rendered talking head that watermark and codec behave as on real frames
(smooth regions, a few edges), small enough to make on the fly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

__all__ = ["avatar_clip_frame", "avatar_frame"]


def avatar_frame(height: int = 512, width: int = 512, *, seed: int = 0) -> NDArray[np.uint8]:
    """An RGB ``uint8`` frame of a stylised face; ``seed`` varies colours, pose and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    top, bottom = rng.uniform(40, 200, 3), rng.uniform(40, 200, 3)
    frame = top + (bottom - top) * (y / height)[..., None]
    cy = height * rng.uniform(0.42, 0.5)
    cx = width * rng.uniform(0.45, 0.55)
    ry, rx = height * 0.3, min(width * 0.22, height * 0.24)
    skin = np.array([224, 172, 140]) * rng.uniform(0.6, 1.05)
    face = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1
    frame[face] = skin - 30 * ((y[face] - cy) / ry)[..., None]
    for side in (-1, 1):
        eye = ((x - cx - side * rx * 0.38) / (rx * 0.14)) ** 2 + (
            (y - cy + ry * 0.18) / (ry * 0.07)
        ) ** 2 < 1
        frame[eye] = (40, 30, 30)
    mouth = (np.abs(y - (cy + ry * 0.4)) < ry * 0.04) & (np.abs(x - cx) < rx * 0.35)
    frame[mouth] = (150, 50, 60)
    frame += rng.normal(0, 4, frame.shape)
    image = Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8), "RGB")
    return np.asarray(image.filter(ImageFilter.GaussianBlur(1.2)), dtype=np.uint8).copy()


def avatar_clip_frame(
    index: int, height: int = 360, width: int = 640, *, fps: float = 30.0, seed: int = 0
) -> NDArray[np.uint8]:
    """Frame ``index`` of a synthetic talking head: the face sways and the mouth moves.

    The head drifts a few pixels (as a rendered avatar breathes and nods) and the mouth
    opens and closes at speech rate, so codecs code real motion and a cut shows.
    """
    base = _cached_avatar(height, width, seed)
    t = index / fps
    dx = round(6 * np.sin(2 * np.pi * 0.25 * t))
    dy = round(3 * np.sin(2 * np.pi * 0.4 * t))
    frame = np.roll(base, (dy, dx), axis=(0, 1))
    opening = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t)
    mouth_y, mouth_x, rx = _mouth(height, width, seed)
    cy, cx = mouth_y + dy, mouth_x + dx
    half_h = max(1, round(height * 0.025 * opening))
    half_w = max(2, round(rx * 0.3))
    frame[cy - half_h : cy + half_h, cx - half_w : cx + half_w] = (90, 30, 40)
    # A caption-free lower third that changes every two seconds, like a lesson's slides.
    band = (index // max(1, round(2 * fps))) % 4
    frame[int(height * 0.9) :, : width // 4 * (band + 1)] = (30 + 40 * band, 60, 120)
    return frame


def _mouth(height: int, width: int, seed: int) -> tuple[int, int, float]:
    """Where :func:`avatar_frame` put the mouth: the same draws from the same seed."""
    rng = np.random.default_rng(seed)
    rng.uniform(40, 200, 3), rng.uniform(40, 200, 3)
    cy = height * rng.uniform(0.42, 0.5)
    cx = width * rng.uniform(0.45, 0.55)
    ry, rx = height * 0.3, min(width * 0.22, height * 0.24)
    return round(cy + ry * 0.4), round(cx), rx


_AVATARS: dict[tuple[int, int, int], NDArray[np.uint8]] = {}


def _cached_avatar(height: int, width: int, seed: int) -> NDArray[np.uint8]:
    key = (height, width, seed)
    if key not in _AVATARS:
        _AVATARS.clear()
        _AVATARS[key] = avatar_frame(height, width, seed=seed)
    return _AVATARS[key]
