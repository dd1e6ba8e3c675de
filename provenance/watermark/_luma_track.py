"""Camera tracking for the clip marker of the luma engine (``spec/luma-engine.md``, 2).

The pattern of a clip follows the camera so a codec's motion compensation carries it from
frame to frame instead of re-coding it. The tracker estimates global zoom and translation
against a reference frame (not frame to frame, so errors do not accumulate) on the
embedder's thumbnail brought to one sample per grid cell and high-passed
(:func:`tracking_view`), and turns them into a :class:`Placement` of the pattern in whole
output pixels. The detector
searches scales within a band around 1 (``ZOOM_RANGE``, on top of crops), so the followed
zoom is kept in that band and jumps back across it when it leaves.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray

from ._luma_pattern import FINE_SCALE, HIGHPASS_SIGMA, as_f32, highpass
from ._luma_sync import ZOOM_RANGE

__all__ = ["CameraTracker", "Placement", "StillBorders", "tracking_view"]

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


class _Shift(NamedTuple):
    """One strip's shift since its reference, in cells, with the correlation peak's
    height (about 1 for a clean shift, about 0 for no match) and each axis's standard
    error."""

    rows: float
    cols: float
    response: float
    spread_rows: float
    spread_cols: float


class _Strip:
    """One border strip of the thumbnail, phase-correlated against the reference's.

    The shift comes from a least-squares plane through the phase of the cross-spectrum
    over the frequencies ``|k| <= 24`` per axis, each weighted by the cross-spectrum's
    magnitude so the frequencies where both pictures have energy decide. The high-pass
    matters: a smooth ramp across a strip looks the same after any shift along it once
    its mean is removed, and under the fixed window it would pull every shift towards
    zero. The phase is unwrapped around the whole-cell shift of the phase-only
    correlation's peak, which also gives the match's response. That peak costs an inverse
    DFT, so it is first predicted from the last two frames; the prediction is kept when
    the phase lies on a plane around it and the shift found is within a cell of it.
    """

    _FREQUENCIES = 24
    # Weighted phase coherence (exp(-mean square residual / 2)) above which a predicted
    # whole-cell shift is trusted: 0.9 or more for a matching strip, about 0.2 for an
    # unrelated one (a uniform residual's mean square is pi^2 / 3).
    _COHERENT = 0.8

    def __init__(self, rows: slice, cols: slice, reference: Float32Array) -> None:
        shape = reference.shape
        self._rows, self._cols = rows, cols
        height, width = rows.stop - rows.start, cols.stop - cols.start
        self._window = cv2.createHanningWindow((width, height), cv2.CV_32F)
        # Where the strip's centre sits relative to the frame centre, (rows, columns).
        self.lever: tuple[float, float] = (
            (rows.start + rows.stop - shape[0]) / 2,
            (cols.start + cols.stop - shape[1]) / 2,
        )
        # A real picture's spectrum is conjugate-symmetric: half the plane says it all.
        steps = np.arange(-self._FREQUENCIES, self._FREQUENCIES + 1)
        half = np.arange(0, self._FREQUENCIES + 1)
        freq_y, freq_x = np.meshgrid(steps, half, indexing="ij")
        keep = (freq_x > 0) | (freq_y > 0)
        # Only these frequencies are fitted. (Computing just them by two small matrix
        # products is cheaper than the DFT alone, but numpy hands products that size to
        # OpenBLAS's threads, whose spinning against the encoder's doubled a stamp's CPU.)
        self._picks = (freq_y[keep] % height) * width + freq_x[keep]
        # A shift (dy, dx) turns the phase at frequency f into -2 pi f . (dy, dx).
        self._design = -2 * np.pi * np.stack([freq_y[keep] / height, freq_x[keep] / width])
        design_y, design_x = self._design
        self._squares = np.stack([design_y * design_y, design_y * design_x, design_x * design_x])
        self.set_reference(reference)

    def cover(self, mask: NDArray[np.uint8]) -> None:
        """Set ``mask`` to 1 where this strip reads the thumbnail."""
        mask[self._rows, self._cols] = 1

    def set_reference(self, coarse: Float32Array) -> None:
        """Measure later shifts from ``coarse``."""
        self._reference = _spectrum(self._tapered(coarse))
        self._reference_low = np.conj(self._low(self._reference))
        self._last: tuple[float, float] | None = None
        self._step = (0.0, 0.0)
        self._response = 0.0

    def shift(self, coarse: Float32Array) -> _Shift:
        """How far the strip moved since the reference, in cells."""
        spectrum = _spectrum(self._tapered(coarse))
        low = self._low(spectrum) * self._reference_low
        angles, weights = np.angle(low), np.abs(low)
        found: _Shift | None = None
        if self._last is not None:
            guess = (
                round(self._last[0] + self._step[0]),
                round(self._last[1] + self._step[1]),
            )
            found, coherence = self._plane(angles, weights, guess)
            if (
                coherence < self._COHERENT
                or max(abs(found.rows - guess[0]), abs(found.cols - guess[1])) > 1
            ):
                found = None
        if found is None:
            cross = cv2.mulSpectrums(spectrum, self._reference, 0, conjB=True)
            whole, self._response = _peak(np.asarray(cross, dtype=np.float32))
            found, _ = self._plane(angles, weights, whole)
        if self._last is not None:
            self._step = (found.rows - self._last[0], found.cols - self._last[1])
        self._last = (found.rows, found.cols)
        return found

    def _plane(
        self,
        angles: NDArray[np.floating[Any]],
        weights: NDArray[np.floating[Any]],
        whole: tuple[int, int],
    ) -> tuple[_Shift, float]:
        """The shift, unwrapping the phase around ``whole``, and how coherently a plane fits."""
        design = self._design
        phase = angles - np.array(whole, dtype=np.float64) @ design
        phase = (phase + np.pi) % (2 * np.pi) - np.pi
        # The 2 x 2 weighted normal equations, written out: numpy's solvers cost more
        # than the sums on arrays this small.
        yy, yx, xx = (float(v) for v in self._squares @ weights)
        determinant = yy * xx - yx * yx
        total = float(weights.sum())
        if total <= 0 or determinant <= 1e-12 * yy * xx:
            return _Shift(float(whole[0]), float(whole[1]), 0.0, math.inf, math.inf), 0.0
        along_y, along_x = (float(v) for v in design @ (weights * phase))
        part_y = (xx * along_y - yx * along_x) / determinant
        part_x = (yy * along_x - yx * along_y) / determinant
        residual = phase - np.array((part_y, part_x)) @ design
        squares = float(weights @ (residual * residual))
        # For small residuals |sum w exp(i r)| / sum w is exp(-mean square / 2): the
        # coherence without a cosine and a sine per frequency.
        coherence = math.exp(-squares / total / 2)
        # Weighted least squares: each parameter's variance is the residual variance
        # times its entry of the inverse normal matrix (neighbouring frequencies are
        # correlated by the window, so this understates every error alike; only their
        # ratios are used).
        variance = squares / max(1, residual.size - 2)
        found = _Shift(
            whole[0] + part_y,
            whole[1] + part_x,
            self._response,
            math.sqrt(xx / determinant * variance),
            math.sqrt(yy / determinant * variance),
        )
        return found, coherence

    def _tapered(self, coarse: Float32Array) -> Float32Array:
        region = coarse[self._rows, self._cols]
        # Without its mean, the window itself would correlate at zero shift.
        tapered: Float32Array = (region - np.float32(cv2.mean(region)[0])) * self._window
        return tapered

    def _low(self, spectrum: Float32Array) -> NDArray[np.complex64]:
        """The fitted frequencies of a spectrum, in the design's order."""
        # OpenCV's (real, imaginary) pairs are complex64 in memory.
        low: NDArray[np.complex64] = spectrum.view(np.complex64).ravel().take(self._picks)
        return low


def _spectrum(tapered: Float32Array) -> Float32Array:
    """The whole spectrum, as OpenCV's (real, imaginary) pairs."""
    return np.asarray(cv2.dft(tapered, flags=cv2.DFT_COMPLEX_OUTPUT), dtype=np.float32)


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
    a moving subject cannot drag it.

    The placement is kept in whole output pixels, as the pattern is rendered: the offset
    moves to the nearest pixel of the estimate only once the estimate is more than
    ``_PIXEL_HYSTERESIS`` pixels from the current one, and the zoom only changes when the
    estimate would move the frame's edge by more than ``_ZOOM_STEP_PIXELS``. A static
    shot keeps an exactly static pattern, a shot that only pans keeps zoom 1 exactly, and
    content moved by whole pixels gets exactly that displacement.

    Args:
        reference: the clip's first frame as :func:`tracking_view` gives it.
        cell_pixels: the size of a grid cell in output pixels (rows, columns).
    """

    # 0.5 would round to the nearest pixel; the margin keeps the estimate's noise (about
    # 0.1 px on textured borders) from toggling a pattern sitting on a half pixel.
    _PIXEL_HYSTERESIS = 0.65
    # A zoom estimate's noise moves the frame's edge by up to about 0.6 px at 720p and
    # 1.2 px at 1080p on smooth backgrounds; every zoom change re-codes the pattern.
    _ZOOM_STEP_PIXELS = 1.0
    # Strips whose translations differ by no more than this are taken to see the same
    # motion: the noise of a strip on a smooth background is up to about 0.4 px.
    _AGREE_PIXELS = 0.6
    _MIN_RESPONSE = 0.05
    _REBASE_FRACTION = 0.25
    # How far (cells) a frame's pixels reach into tracking_view: the high-pass's 9 taps,
    # the pyramid step's 5 at twice the resolution and the thumbnail's resampling.
    _FILTER_REACH = 6
    # The detector searches the scales of a zoom this large on top of any crop it tries.
    # A followed zoom leaving the band jumps to just inside the other side of it: the
    # codec re-codes the whole pattern once per 5.8 % of zoom.
    _ZOOM_BAND = ZOOM_RANGE
    _ZOOM_LANDING = ZOOM_RANGE - 0.001

    def __init__(self, reference: Float32Array, cell_pixels: tuple[float, float]) -> None:
        self.shape = reference.shape
        self.placement = Placement()
        self.cell_pixels = cell_pixels
        coarse = reference
        rows, cols = coarse.shape
        self._half_frame = max(rows * cell_pixels[0], cols * cell_pixels[1]) / 2
        band_w, band_h = max(8, cols // 4), max(8, rows // 3)
        # The cells no strip reads, less the reach of tracking_view's filters.
        reach = self._FILTER_REACH
        self.unread = (
            slice(band_h + reach, rows - band_h - reach),
            slice(band_w + reach, cols - band_w - reach),
        )
        middle_rows, middle_cols = slice(0, rows), slice(band_w, cols - band_w)
        self._left, self._right, self._top, self._bottom = (
            _Strip(middle_rows, slice(0, band_w), coarse),
            _Strip(middle_rows, slice(cols - band_w, cols), coarse),
            _Strip(slice(0, band_h), middle_cols, coarse),
            _Strip(slice(rows - band_h, rows), middle_cols, coarse),
        )
        self._base = self.placement
        self._borders = np.zeros(coarse.shape, np.uint8)
        for strip in (self._left, self._right, self._top, self._bottom):
            strip.cover(self._borders)
        self._seen: Float32Array | None = None

    def update(self, coarse: Float32Array) -> Placement:
        """Track the next frame's :func:`tracking_view` and return the pattern's placement."""
        # Strips that show what they showed last frame measure what they measured then:
        # a fixed camera keeps its placement without the four correlations.
        if self._seen is not None and _same_where(coarse, self._seen, self._borders):
            return self.placement
        self._seen = coarse
        measured = [s.shift(coarse) for s in (self._left, self._right, self._top, self._bottom)]
        if statistics.median(m.response for m in measured) <= self._MIN_RESPONSE:
            self._rebase(coarse)
            return self.placement
        stretch = self.placement.zoom / self._base.zoom - 1
        shift = self._translation(measured, stretch)
        growth = 1 + self._stretch(measured, shift)
        estimate = self._snapped(self._base.moved(growth, shift))
        if estimate.zoom != self.placement.zoom:
            # The zoom moved on: the top and bottom strips' shifts say more with it.
            shift = self._translation(measured, growth - 1)
            estimate = self._snapped(self._base.moved(growth, shift))
        self.placement = estimate
        rows, cols = coarse.shape
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

    def _snapped(self, estimate: Placement) -> Placement:
        """``estimate`` in whole output pixels, or the current placement where it is close."""
        current = self.placement
        zoom = current.zoom
        if abs(estimate.zoom - zoom) * self._half_frame > self._ZOOM_STEP_PIXELS:
            zoom = estimate.zoom
        rows, cols = (
            _snap(wanted, now, cell, self._PIXEL_HYSTERESIS)
            for wanted, now, cell in zip(
                estimate.offset, current.offset, self.cell_pixels, strict=True
            )
        )
        return Placement(zoom, (rows, cols))

    def _rebase(self, coarse: Float32Array) -> None:
        for strip in (self._left, self._right, self._top, self._bottom):
            strip.set_reference(coarse)
        self._base = self.placement

    def _translation(self, measured: list[_Shift], stretch: float) -> tuple[float, float]:
        """The translation (cells) the strips agree on, given the zoom's ``stretch``.

        Each strip's shift less what the zoom moved its centre is one estimate per axis.
        A strip showing a static overlay (a caption band, a logo) over the moving picture
        can report a precise but wrong shift, so the estimate is the precision-weighted
        mean of the largest group of strips that agree to within ``_AGREE_PIXELS``.
        """
        strips = (self._left, self._right, self._top, self._bottom)
        axes = []
        for axis in (0, 1):
            tolerance = self._AGREE_PIXELS / self.cell_pixels[axis]
            values = [
                m[axis] - stretch * s.lever[axis] for m, s in zip(measured, strips, strict=True)
            ]
            spreads = [m[3 + axis] for m in measured]
            axes.append(_consensus(values, spreads, tolerance))
        return axes[0], axes[1]

    def _stretch(self, measured: list[_Shift], shift: tuple[float, float]) -> float:
        """``zoom - 1`` about the frame centre: the median of six estimates from the
        strips' shifts and the translation."""
        lx, rx = measured[0].cols, measured[1].cols
        ty, by = measured[2].rows, measured[3].rows
        lever_l, lever_r = self._left.lever[1], self._right.lever[1]
        lever_t, lever_b = self._top.lever[0], self._bottom.lever[0]
        shift_y, shift_x = shift
        return statistics.median(
            [
                (rx - lx) / (lever_r - lever_l),
                (by - ty) / (lever_b - lever_t),
                (lx - shift_x) / lever_l,
                (rx - shift_x) / lever_r,
                (ty - shift_y) / lever_t,
                (by - shift_y) / lever_b,
            ]
        )


class StillBorders:
    """Whether the pixels a tracker reads in a frame are the last frame's.

    When they are, the tracker would place the pattern where it did, so a live marker
    skips the thumbnail and the tracker on that frame: a talking head in front of a fixed
    camera then costs one comparison of its borders and the add. Everything outside the
    middle the strips never reach (:attr:`CameraTracker.unread`) is compared exactly.

    Args:
        unread: the cells outside every strip's reach, from the tracker.
        cell_pixels: the size of a grid cell in frame pixels (rows, columns).
    """

    def __init__(self, unread: tuple[slice, slice], cell_pixels: tuple[float, float]) -> None:
        rows, cols = (
            slice(math.ceil(cells.start * size), math.floor(cells.stop * size))
            for cells, size in zip(unread, cell_pixels, strict=True)
        )
        self._regions = [
            (slice(0, rows.start), slice(None)),
            (slice(rows.stop, None), slice(None)),
            (rows, slice(0, cols.start)),
            (rows, slice(cols.stop, None)),
        ]
        self._last: NDArray[np.uint8] | None = None

    def check(self, luma: NDArray[np.uint8]) -> bool:
        """Whether ``luma``'s read pixels equal the last frame checked (then remember it)."""
        last = self._last
        still = (
            last is not None
            and last.shape == luma.shape
            and all(cv2.norm(luma[r], last[r], cv2.NORM_INF) == 0 for r in self._regions)
        )
        if last is None or last.shape != luma.shape:
            self._last = luma.copy()
        else:
            np.copyto(last, luma)
        return still


def _consensus(values: list[float], spreads: list[float], tolerance: float) -> float:
    """The precision-weighted mean of the largest group of ``values`` within
    ``tolerance`` of one of them (ties: the most precise group)."""
    weights = [1 / max(spread, 1e-3) ** 2 for spread in spreads]
    best: tuple[int, float, float] | None = None
    for centre in values:
        members = [i for i, value in enumerate(values) if abs(value - centre) <= tolerance]
        weight = sum(weights[i] for i in members)
        mean = sum(weights[i] * values[i] for i in members) / weight
        if best is None or (len(members), weight) > best[:2]:
            best = (len(members), weight, mean)
    assert best is not None
    return best[2]


def tracking_view(small: Float32Array) -> Float32Array:
    """What the tracker reads of a frame: its thumbnail (twice the grid's resolution)
    brought to one sample per cell by a Gaussian pyramid step, whose low-pass keeps fine
    texture from aliasing into the frequencies the strips fit, then high-passed at the
    embedder's width (one cell).

    High-passing after the pyramid step rather than before costs a quarter as much and
    placed all 396 frames of four test clips (talking and pan, 720p and 1080p) exactly
    where high-passing the thumbnail did.
    """
    return highpass(as_f32(cv2.pyrDown(small)), HIGHPASS_SIGMA / FINE_SCALE)


def _snap(wanted: float, now: float, cell: float, hysteresis: float) -> float:
    """The offset ``wanted`` (cells) rounded to whole pixels of ``cell`` pixels a cell,
    unless it is within ``hysteresis`` pixels of the offset ``now``."""
    if abs(wanted - now) * cell <= hysteresis:
        return now
    return round(wanted * cell) / cell
