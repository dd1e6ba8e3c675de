"""Image-quality and bit-accuracy metrics, in numpy and OpenCV only.

Why our own: scikit-image is not a dependency, and the definitions must be fixed for the
numbers to compare across runs. PSNR is over all RGB samples; SSIM is Wang et al. (IEEE
TIP 2004) on BT.601 luma with an 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03,
L 255, averaged over the full frame (reflected borders).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from provenance.watermark import SoftBits

__all__ = ["PSNR_CAP_DB", "bit_accuracy", "luma", "psnr", "ssim"]

# Identical images have infinite PSNR; JSON has no infinity, so report a cap instead.
PSNR_CAP_DB = 100.0


def psnr(reference: NDArray[np.uint8], test: NDArray[np.uint8]) -> float:
    """Peak signal-to-noise ratio in dB over all samples, capped at :data:`PSNR_CAP_DB`."""
    diff = reference.astype(np.float64) - test.astype(np.float64)
    mse = float(np.mean(diff * diff))
    if mse == 0:
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, 10 * math.log10(255.0**2 / mse))


def luma(rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
    """BT.601 luma (full range) as float64."""
    weights = np.array([0.299, 0.587, 0.114])
    out: NDArray[np.float64] = rgb.astype(np.float64) @ weights
    return out


def ssim(reference: NDArray[np.uint8], test: NDArray[np.uint8]) -> float:
    """Mean SSIM of the two images' luma (Wang et al. 2004, 11x11 Gaussian, sigma 1.5)."""
    x, y = luma(reference), luma(test)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(a: NDArray[np.float64]) -> NDArray[np.float64]:
        blurred = cv2.GaussianBlur(a, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)
        return np.asarray(blurred, dtype=np.float64)

    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * sxy + c2)
    den = (mx * mx + my * my + c1) * (sxx + syy + c2)
    return float(np.mean(num / den))


def bit_accuracy(evidence: SoftBits, expected: NDArray[np.uint8]) -> float:
    """Fraction of hard-decided bits equal to the embedded payload bits (0.5 = chance)."""
    return float(np.mean(evidence.hard_bits == expected))
