"""Camera tracking for the clip marker of the luma engine (``spec/luma-engine.md``, 2).

The pattern of a clip follows the camera so a codec's motion compensation carries it from
frame to frame instead of re-coding it. The tracker estimates global zoom and translation
against a reference frame (not frame to frame, so errors do not accumulate) on the
1x-grid thumbnail the embedder already has, and turns them into a :class:`Placement` of
the pattern. The detector searches scales within a band around 1 (``ZOOM_RANGE``, on top
of crops), so the followed zoom is kept in that band and jumps back across it when it
leaves.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from ._luma_sync import ZOOM_RANGE

__all__ = ["CameraTracker", "Placement"]

Float32Array = NDArray[np.float32]


@dataclass(frozen=True)
class Placement:
    """Where the pattern sits in a frame, in grid cells.

    The pattern point at ``u`` (cells from the top-left corner) is drawn at
    ``c + zoom * (u - c) + offset``, ``c`` being the frame centre.

    Attributes:
        zoom: magnification about the frame centre.
        offset: displacement (rows, columns) after the zoom.
    """

    zoom: float = 1.0
    offset: tuple[float, float] = (0.0, 0.0)

    def moved(self, growth: float, shift: tuple[float, float]) -> Placement:
        """This placement carried along by a camera motion ``X -> c + growth (X - c) + shift``."""
        return Placement(
            zoom=growth * self.zoom,
            offset=(growth * self.offset[0] + shift[0], growth * self.offset[1] + shift[1]),
        )

    def distance(self, other: Placement, centre: tuple[float, float]) -> float:
        """The largest displacement, in cells, between the two placements inside the frame."""
        spread = abs(self.zoom - other.zoom)
        return max(
            abs(self.offset[0] - other.offset[0]) + spread * centre[0],
            abs(self.offset[1] - other.offset[1]) + spread * centre[1],
        )


class _Strip:
    """One border strip of the thumbnail, phase-correlated against the reference's.

    The shift comes from the slope of the cross-spectrum's phase over the lowest
    frequencies, where the picture has its energy: sub-cell estimates from the shape of
    the correlation peak are biased by 0.02-0.2 cells on smooth pictures (OpenCV's
    centroid towards whole cells, a sinc fit away from them), too much to measure a slow
    zoom. The phase is unwrapped around the whole-cell shift of the phase-only
    correlation's peak, which also gives the match's response. That peak costs an inverse
    DFT, so it is first predicted from the last two frames; the prediction is kept when
    the phase lies on a plane around it and the shift found rounds to it, which is what
    the peak would have given.
    """

    _FREQUENCIES = 8
    # Phase coherence (|mean of exp(i * residual)|) above which a predicted whole-cell
    # shift is trusted: 0.95 or more for a matching strip, about 0.1 for an unrelated one.
    _COHERENT = 0.8

    def __init__(self, rows: slice, cols: slice, reference: Float32Array) -> None:
        shape = reference.shape
        self._rows, self._cols = rows, cols
        height, width = rows.stop - rows.start, cols.stop - cols.start
        self._window = cv2.createHanningWindow((width, height), cv2.CV_32F)
        self._zeros = np.zeros((height, width), np.float32)
        # Where the strip's centre sits relative to the frame centre, (rows, columns).
        self.lever = (
            (rows.start + rows.stop - shape[0]) / 2,
            (cols.start + cols.stop - shape[1]) / 2,
        )
        steps = np.arange(-self._FREQUENCIES, self._FREQUENCIES + 1)
        self._picks = np.ix_(steps % height, steps % width)
        freq_y, freq_x = np.meshgrid(steps / height, steps / width, indexing="ij")
        self._keep = (freq_y != 0) | (freq_x != 0)
        # A shift (dy, dx) turns the phase at frequency f into -2 pi f . (dy, dx).
        self._design = -2 * np.pi * np.stack([freq_y[self._keep], freq_x[self._keep]], axis=1)
        self._phase_to_shift = np.linalg.pinv(self._design)
        self.set_reference(reference)

    def cover(self, mask: NDArray[np.uint8]) -> None:
        """Set ``mask`` to 1 where this strip reads the thumbnail."""
        mask[self._rows, self._cols] = 1

    def set_reference(self, coarse: Float32Array) -> None:
        """Measure later shifts from ``coarse``."""
        self._reference = self._spectrum(coarse)
        self._last: tuple[float, float] | None = None
        self._step = (0.0, 0.0)
        self._response = 0.0

    def shift(self, coarse: Float32Array) -> tuple[float, float, float]:
        """``(rows, columns, response)``: how far the strip moved since the reference, and
        the correlation peak's height (about 1 for a clean shift, about 0 for no match)."""
        cross = np.asarray(
            cv2.mulSpectrums(self._spectrum(coarse), self._reference, 0, conjB=True),
            dtype=np.float32,
        )
        low = cross[self._picks]
        angles = np.arctan2(low[..., 1], low[..., 0])[self._keep]
        found: tuple[float, float] | None = None
        if self._last is not None:
            guess = (
                round(self._last[0] + self._step[0]),
                round(self._last[1] + self._step[1]),
            )
            found, coherence = self._plane(angles, guess)
            if coherence < self._COHERENT or (round(found[0]), round(found[1])) != guess:
                found = None
        if found is None:
            whole, self._response = _peak(cross)
            found, _ = self._plane(angles, whole)
        if self._last is not None:
            self._step = (found[0] - self._last[0], found[1] - self._last[1])
        self._last = found
        return found[0], found[1], self._response

    def _plane(
        self, angles: NDArray[np.float64], whole: tuple[int, int]
    ) -> tuple[tuple[float, float], float]:
        """The shift, unwrapping the phase around ``whole``, and how well a plane fits."""
        phase = angles - self._design @ np.array(whole, dtype=np.float64)
        phase = (phase + np.pi) % (2 * np.pi) - np.pi
        part = self._phase_to_shift @ phase
        residual = phase - self._design @ part
        coherence = float(np.hypot(np.cos(residual).mean(), np.sin(residual).mean()))
        return (whole[0] + float(part[0]), whole[1] + float(part[1])), coherence

    def _spectrum(self, coarse: Float32Array) -> Float32Array:
        region = coarse[self._rows, self._cols]
        # Without its mean, the window itself would correlate at zero shift.
        tapered = (region - np.float32(cv2.mean(region)[0])) * self._window
        return np.asarray(cv2.dft(cv2.merge([tapered, self._zeros])), dtype=np.float32)


def _peak(cross: Float32Array) -> tuple[tuple[int, int], float]:
    """The whole-cell peak of the phase-only correlation, and its response (the sum of
    the 5 x 5 cells around it, as OpenCV's ``phaseCorrelate`` reports it)."""
    real, imaginary = cv2.split(cross)
    magnitude = cv2.magnitude(real, imaginary) + np.float32(1e-9)
    whitened = cv2.merge([cv2.divide(real, magnitude), cv2.divide(imaginary, magnitude)])
    # Complex to complex: OpenCV's complex-to-real inverse is three times slower.
    surface = np.asarray(cv2.idft(whitened, flags=cv2.DFT_SCALE)[..., 0], dtype=np.float32)
    height, width = surface.shape
    peak_y, peak_x = divmod(int(np.argmax(surface)), width)
    near = np.arange(-2, 3)
    response = float(surface[np.ix_((peak_y + near) % height, (peak_x + near) % width)].sum())
    return (_centred(peak_y, height), _centred(peak_x, width)), response


def _same_where(a: Float32Array, b: Float32Array, mask: NDArray[np.uint8]) -> bool:
    """Whether ``a`` and ``b`` are equal wherever ``mask`` is set."""
    return bool(cv2.norm(a, b, cv2.NORM_INF, mask) == 0)


def _centred(position: int, size: int) -> int:
    """A circular peak position as a signed shift."""
    return position - size if position > size / 2 else position


class CameraTracker:
    """Global zoom and translation against a reference frame, measured on the frame borders.

    Each of four border strips gets its own phase correlation: a talking head in the
    middle moves, the background around it does not, and a whole-frame correlation would
    blend the two. Opposite strips moving apart give the zoom, moving together the
    translation; each parameter is the median of estimates so that one strip covered by
    a moving subject cannot drag it. The placement only changes when it would be off by
    more than a hysteresis somewhere in the frame, so a static shot keeps an exactly
    static pattern.

    Args:
        reference: the clip's first 1x-grid thumbnail (rows x columns of the pattern).
    """

    _HYSTERESIS_CELLS = 0.06
    _MIN_RESPONSE = 0.05
    _REBASE_FRACTION = 0.25
    # The detector searches the scales of a zoom this large on top of any crop it tries.
    # A followed zoom leaving the band jumps to just inside the other side of it: the
    # codec re-codes the whole pattern once per 5.8 % of zoom.
    _ZOOM_BAND = ZOOM_RANGE
    _ZOOM_LANDING = ZOOM_RANGE - 0.001

    def __init__(self, reference: Float32Array) -> None:
        self.shape = reference.shape
        self.placement = Placement()
        rows, cols = reference.shape
        self._centre = (rows / 2, cols / 2)
        band_w, band_h = max(8, cols // 4), max(8, rows // 3)
        middle_rows, middle_cols = slice(0, rows), slice(band_w, cols - band_w)
        self._left, self._right, self._top, self._bottom = (
            _Strip(middle_rows, slice(0, band_w), reference),
            _Strip(middle_rows, slice(cols - band_w, cols), reference),
            _Strip(slice(0, band_h), middle_cols, reference),
            _Strip(slice(rows - band_h, rows), middle_cols, reference),
        )
        self._base = self.placement
        self._borders = np.zeros(reference.shape, np.uint8)
        for strip in (self._left, self._right, self._top, self._bottom):
            strip.cover(self._borders)
        self._seen: Float32Array | None = None

    def update(self, coarse: Float32Array) -> Placement:
        """Track the next frame's thumbnail and return the pattern's placement for it."""
        # Strips that show what they showed last frame measure what they measured then:
        # a fixed camera keeps its placement without the four correlations.
        if self._seen is not None and _same_where(coarse, self._seen, self._borders):
            return self.placement
        self._seen = coarse
        measured = [s.shift(coarse) for s in (self._left, self._right, self._top, self._bottom)]
        if statistics.median(m[2] for m in measured) <= self._MIN_RESPONSE:
            self._rebase(coarse)
            return self.placement
        growth, shift = self._fit([(m[0], m[1]) for m in measured])
        estimate = self._base.moved(growth, shift)
        if estimate.distance(self.placement, self._centre) > self._HYSTERESIS_CELLS:
            self.placement = estimate
        rows, cols = self.shape
        if abs(self.placement.zoom - 1) > self._ZOOM_BAND:
            landing = 1 - math.copysign(self._ZOOM_LANDING, self.placement.zoom - 1)
            self.placement = Placement(landing, self.placement.offset)
            self._rebase(coarse)
        elif (
            abs(shift[0]) > rows * self._REBASE_FRACTION
            or abs(shift[1]) > cols * self._REBASE_FRACTION
        ):
            self._rebase(coarse)
        return self.placement

    def _rebase(self, coarse: Float32Array) -> None:
        for strip in (self._left, self._right, self._top, self._bottom):
            strip.set_reference(coarse)
        self._base = self.placement

    def _fit(self, shifts: list[tuple[float, float]]) -> tuple[float, tuple[float, float]]:
        """Zoom about the frame centre and translation from the four strips' shifts."""
        (ly, lx), (ry, rx), (ty, tx), (by, bx) = shifts
        lever_l, lever_r = self._left.lever[1], self._right.lever[1]
        lever_t, lever_b = self._top.lever[0], self._bottom.lever[0]
        shift_y = statistics.median([ly, ry, (ty + by) / 2])
        shift_x = statistics.median([tx, bx, (lx + rx) / 2])
        stretch = statistics.median(
            [
                (rx - lx) / (lever_r - lever_l),
                (by - ty) / (lever_b - lever_t),
                (lx - shift_x) / lever_l,
                (rx - shift_x) / lever_r,
                (ty - shift_y) / lever_t,
                (by - shift_y) / lever_b,
            ]
        )
        return 1 + stretch, (shift_y, shift_x)
