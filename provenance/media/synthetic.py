"""Synthetic avatar-like frames, so demos, tests and benchmarks never need a download.

A smooth two-tone background, a skin-toned face with eyes and mouth, and mild sensor noise:
close enough to a rendered talking head that watermark and codec behave as on real frames
(smooth regions, a few edges), small enough to make on the fly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

__all__ = ["avatar_frame"]


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
