"""Finding the sync pattern of the native luma engine in a frame (``spec/luma-engine.md``, 3).

A frame shows the pattern's grid displaced, and scaled by two things: a crop (the frame
shows a fraction of the marked one, so its cells look bigger) and the zoom a clip marker
followed (bigger or smaller cells). Both are one unknown here, the *fraction*: the share
of one pattern period the frame spans per dimension. The search resizes the frame to that
fraction of the fine grid, which gives its cells their canonical size again, and finds the
displacement by one FFT cross-correlation with the sync pattern.

A correlation over the whole grid only tolerates a small scale error: 256 cells across,
0.5 % off misplaces the outer cells by 0.64 cells and costs a quarter of the peak, 1 % off
loses it in the noise. So fractions are tried on a 1 % grid (:data:`FRACTIONS`) and the
best is refined by two bisections, to within an eighth of a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from numpy.typing import NDArray

from ._luma_pattern import (
    FINE_SCALE,
    Pattern,
    as_f32,
    highpass,
    pattern_for,
    render,
    sample_cells,
)

__all__ = ["FRACTIONS", "SYNC_FOUND_Z", "ZOOM_RANGE", "Alignment", "align", "shrink"]

Float32Array = NDArray[np.float32]
Plane = NDArray[np.uint8]

ZOOM_RANGE = 0.03
"""The largest zoom either way a clip marker may give the pattern (``_luma_track``)."""

_STEP = 0.01
_MAX_CROP = 0.10
# Fractions are whole multiples of a tick, a quarter step: the coarse grid, then two
# bisections (half a step, then a quarter).
_TICKS_PER_STEP = 4
_TICK = _STEP / _TICKS_PER_STEP
_COARSE_TICKS: tuple[int, ...] = tuple(
    range(
        round((1 + ZOOM_RANGE) / _TICK),
        round((1 - ZOOM_RANGE - _MAX_CROP) / _TICK) - 1,
        -_TICKS_PER_STEP,
    )
)
_NEAREST_FIRST = tuple(sorted(_COARSE_TICKS, key=lambda t: abs(t - round(1 / _TICK))))
FRACTIONS: tuple[float, ...] = tuple(round(t * _TICK, 4) for t in _COARSE_TICKS)
"""The coarse fractions, 1.03 down to 0.87: crops of up to 10 % under a followed zoom of
up to +-3 %, and any crop of up to 13 % of an unzoomed frame."""

SYNC_FOUND_Z = 6.0
"""A sync peak below this z-score is "not found" and the frame is read unaligned. On
unmarked frames the best peak over all 19 views averages about 5 and stayed below 5.8 on
every one of 264 measured (test frames, the harness's stills under every attack, unmarked
clip frames after 480p and 360p CRF 28)."""


# A peak this strong is the mark: on unmarked frames the best of all 19 stays below 5.8.
_SURE_Z = 8.0


@dataclass(frozen=True)
class Alignment:
    """Where the frame shows the pattern.

    Attributes:
        fraction: the share of a pattern period the frame spans (1: as marked).
        offset: the pattern's displacement in grid cells (rows, columns), in the view.
        sync_z: the sync peak's z-score (0 when not searched).
        fine: the frame resized by ``fraction``, high-passed, on the fine grid (zero
            where the frame does not reach).
        valid: the cells the view covers at ``offset``.
    """

    fraction: float
    offset: tuple[float, float]
    sync_z: float
    fine: Float32Array
    valid: NDArray[np.bool_]


def shrink(luma: Plane, width: int, height: int) -> Float32Array:
    """Downsample to ``width`` x ``height`` by 2:1 area halvings, then a bilinear step.

    OpenCV's 2:1 area path is about ten times faster than a general-ratio area resize at
    1080p; the last, gentler step is bilinear (upsampling slightly if need be).
    """
    return as_f32(
        cv2.resize(_halved(luma, width, height), (width, height), interpolation=cv2.INTER_LINEAR)
    )


def _halved(luma: Plane, width: int, height: int) -> Plane:
    image = luma
    while image.shape[1] // 2 >= width and image.shape[0] // 2 >= height:
        image = np.asarray(
            cv2.resize(
                image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA
            ),
            dtype=np.uint8,
        )
    return image


def align(luma: Plane, pattern: Pattern) -> Alignment:
    """The fraction and offset at which ``luma`` shows the sync pattern most strongly, or
    the unaligned view when no peak reaches :data:`SYNC_FOUND_Z`."""
    rows, cols = pattern.shape
    # Every fraction resizes the same 2:1 halvings (the embedder's, see shrink); they are
    # the costly part at 1080p.
    base = _halved(luma, FINE_SCALE * cols, FINE_SCALE * rows)
    search = _Search(base, pattern)
    best = search.bisect(search.coarse())
    sync_z, offset = search.peaks[best]
    if sync_z < SYNC_FOUND_Z:
        return _aligned(base, pattern, 1.0, (0.0, 0.0), 0.0)
    return _aligned(base, pattern, round(best * _TICK, 4), offset, sync_z)


class _Search:
    """The sync peaks of one frame at the fractions tried so far (in ticks)."""

    def __init__(self, base: Plane, pattern: Pattern) -> None:
        self._base, self._pattern = base, pattern
        self._limit = _outlier_limit(_view(base, pattern, 1.0)[0])
        self.peaks: dict[int, tuple[float, tuple[float, float]]] = {}

    def z(self, tick: int) -> float:
        """The peak z-score at fraction ``tick``, correlating once per fraction."""
        if tick not in self.peaks:
            view = _view(self._base, self._pattern, tick * _TICK)[0]
            clipped = np.clip(view, -self._limit, self._limit, out=view)
            self.peaks[tick] = _peak(clipped, self._pattern)
        return self.peaks[tick][0]

    def coarse(self) -> int:
        """The best coarse fraction. Those nearest 1 go first, and the scan stops once a
        peak no unmarked frame comes near stands with both neighbours tried: a marked
        frame as delivered then costs 3 to 5 correlations instead of 17."""
        best = _NEAREST_FIRST[0]
        for tick in _NEAREST_FIRST:
            if self.z(tick) > self.z(best):
                best = tick
            around = {best - _TICKS_PER_STEP, best + _TICKS_PER_STEP} & set(_COARSE_TICKS)
            if self.z(best) >= _SURE_Z and around <= self.peaks.keys():
                break
        return best

    def bisect(self, best: int) -> int:
        """Refine towards the stronger side, half a step then a quarter: the peak falls
        off too sharply with the scale error (to the noise floor at one step) for a
        parabola through three steps to place it."""
        half = _TICKS_PER_STEP // 2
        while half >= 1:
            sides = [t for t in (best - 2 * half, best + 2 * half) if t in self.peaks]
            if sides:
                towards = max(sides, key=self.z)
                middle = best + half * (1 if towards > best else -1)
                best = max((best, middle), key=self.z)
            half //= 2
        return best


def _outlier_limit(view: Float32Array) -> float:
    """Three robust deviations of the high-passed frame (from a quarter of its rows).

    Edges the embedder never saw, such as a caption bar and its text, are far stronger than
    the mark; unclipped, they fill the correlation surface and bury the sync peak (a caption
    over 12 % of the height did in every frame of the harness clips)."""
    sample = view[::4]
    shown = np.abs(sample[sample != 0])
    return 3 * 1.4826 * float(np.median(shown)) + 1e-6 if shown.size else 1.0


def _view(base: Plane, pattern: Pattern, fraction: float) -> tuple[Float32Array, tuple[int, int]]:
    """``base`` resized so the pattern's cells are 2 px, high-passed, on the fine grid, and
    the size the frame takes there: zero-padded when the frame spans less than a period,
    cut when it spans more (the pattern tiles, so one period is all of it)."""
    rows, cols = pattern.shape
    height, width = FINE_SCALE * rows, FINE_SCALE * cols
    # Scale factors rather than a target size: a whole-pixel size would round the
    # fraction by up to 0.17 % per axis, a third of the search's own step.
    scale_x, scale_y = width * fraction / base.shape[1], height * fraction / base.shape[0]
    resized = cv2.resize(base, None, fx=scale_x, fy=scale_y, interpolation=cv2.INTER_LINEAR)
    fine = highpass(as_f32(resized))
    padded = np.zeros((height, width), dtype=np.float32)
    shown = (min(height, fine.shape[0]), min(width, fine.shape[1]))
    padded[: shown[0], : shown[1]] = fine[: shown[0], : shown[1]]
    return padded, shown


@cache
def _sync_spectrum(portrait: bool) -> Float32Array:
    """The high-passed, rendered sync pattern's spectrum (OpenCV's packed real layout)."""
    sync = pattern_for(portrait=portrait).sync
    rows, cols = sync.shape
    rendered = render(sync, 8 * rows, 8 * cols)
    size = (FINE_SCALE * cols, FINE_SCALE * rows)
    fine_sync = highpass(as_f32(cv2.resize(rendered, size, interpolation=cv2.INTER_AREA)))
    return as_f32(cv2.dft(fine_sync))


def _peak(view: Float32Array, pattern: Pattern) -> tuple[float, tuple[float, float]]:
    """The cross-correlation's peak z-score and position (cells, sub-cell by parabola)."""
    rows, cols = pattern.shape
    spectrum = _sync_spectrum(portrait=rows > cols)
    product = cv2.mulSpectrums(cv2.dft(view), spectrum, 0, conjB=True)
    correlation = as_f32(cv2.idft(product, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE))
    # A quarter of the rows estimates the spread to well under 1 %, at a quarter the cost.
    mean, std = (float(v[0][0]) for v in cv2.meanStdDev(correlation[::4]))
    _, top, _, (px, py) = cv2.minMaxLoc(correlation)
    z = (top - mean) / (std + 1e-12)
    dy = _parabola(correlation[:, px], py) / FINE_SCALE
    dx = _parabola(correlation[py, :], px) / FINE_SCALE
    return z, (dy, dx)


def _parabola(line: Float32Array, index: int) -> float:
    """Sub-sample peak position by a parabola through the peak and its neighbours."""
    size = line.shape[0]
    left, centre, right = (float(line[(index + k) % size]) for k in (-1, 0, 1))
    curvature = left - 2 * centre + right
    return index + (0.5 * (left - right) / curvature if curvature < 0 else 0.0)


def _aligned(
    base: Plane, pattern: Pattern, fraction: float, offset: tuple[float, float], sync_z: float
) -> Alignment:
    fine, shown = _view(base, pattern, fraction)
    inside = np.zeros_like(fine)
    inside[: shown[0], : shown[1]] = 1.0
    valid = sample_cells(inside, pattern.shape, offset) > 0.99
    return Alignment(fraction, offset, sync_z, fine, valid)
