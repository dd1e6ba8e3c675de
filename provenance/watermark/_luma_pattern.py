"""The keyed pattern of the native luma engine, on a canonical grid (``spec/payload.md``).

The mark lives on a fixed grid of cells (144 x 256 for landscape frames, transposed for
portrait) that is stretched over the whole frame, so a frame resized to any resolution
still lines up with it. Each cell carries two key-seeded +-1 chips: a sync chip, the same
for every payload, that lets the detector find shifts and crops, and a payload chip whose
sign is flipped by the payload bit the cell is assigned to. A keyed permutation spreads
every bit over ~236 cells scattered across the frame, so a local edit (a caption bar, a
crop) removes a little of every bit rather than all of some.

The grid pattern is rendered to the frame by bilinear interpolation: smooth blobs of about
7.5 px at 1080p, low enough in frequency to survive 360p and CRF 28, and shaped so a
codec's motion compensation can carry them when they move with the content.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cache, lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from .payload import PAYLOAD_BITS

__all__ = [
    "FINE_SCALE",
    "GRID_CELLS",
    "HIGHPASS_SIGMA",
    "Pattern",
    "highpass",
    "pattern_for",
    "render",
    "render_period",
    "sample_cells",
]

GRID_CELLS: tuple[int, int] = (144, 256)
"""Rows x columns of the landscape grid; portrait frames use the transpose."""

FINE_SCALE = 2
"""Detector and embedder read the host at twice the grid resolution, for sub-cell offsets."""

_KEY = b"avatar-provenance/luma-iss/v1"
# Detector and ISS both look at the host through the same high-pass, so what the
# embedder cancels is exactly what the detector would have seen.
_HIGHPASS_SIGMA_CELLS = 1.0

Float32Array = NDArray[np.float32]


def as_f32(array: object) -> Float32Array:
    """View an OpenCV result as float32 (OpenCV's stubs type every result loosely)."""
    return np.asarray(array, dtype=np.float32)


@dataclass(frozen=True)
class Pattern:
    """The chips and bit assignment for one grid orientation.

    Attributes:
        shape: grid rows x columns.
        sync: +-1 sync chips, shape ``shape``.
        chips: +-1 payload chips, shape ``shape``.
        bit_of: payload bit index of every cell, shape ``shape``.
        cells_per_bit: how many cells each bit owns.
        self_response: mean of ``highpass(rendered chips) * chips`` through a render and
            area-resample round trip, the gain ISS divides the host's projection by.
    """

    shape: tuple[int, int]
    sync: Float32Array
    chips: Float32Array
    bit_of: NDArray[np.intp]
    cells_per_bit: NDArray[np.float64]
    self_response: float

    def bit_sums(
        self, weights: Float32Array, where: NDArray[np.bool_] | None = None
    ) -> NDArray[np.float64]:
        """Per-bit sums of ``weights * chips`` (over the cells in ``where``, if given)."""
        products = weights * self.chips
        if where is None:
            sums = np.bincount(self.bit_of.ravel(), products.ravel(), PAYLOAD_BITS)
        else:
            sums = np.bincount(self.bit_of[where], products[where], PAYLOAD_BITS)
        result: NDArray[np.float64] = sums.astype(np.float64)
        return result


def _keyed_signs(label: bytes, count: int) -> NDArray[np.float32]:
    """``count`` +-1 values from SHAKE-256 of the engine key: stable across numpy versions."""
    stream = hashlib.shake_256(_KEY + b"/" + label).digest((count + 7) // 8)
    bits = np.unpackbits(np.frombuffer(stream, dtype=np.uint8))[:count]
    signs: NDArray[np.float32] = bits.astype(np.float32) * 2 - 1
    return signs


def _keyed_permutation(count: int) -> NDArray[np.intp]:
    """A permutation of ``range(count)`` keyed the same way (sort by keyed 64-bit values)."""
    stream = hashlib.shake_256(_KEY + b"/permutation").digest(8 * count)
    keys = np.frombuffer(stream, dtype=">u8")
    order: NDArray[np.intp] = np.argsort(keys, kind="stable")
    return order


@cache
def _landscape() -> Pattern:
    rows, cols = GRID_CELLS
    cells = rows * cols
    sync = _keyed_signs(b"sync", cells).reshape(rows, cols)
    chips = _keyed_signs(b"chips", cells).reshape(rows, cols)
    flat_bit_of = np.empty(cells, dtype=np.intp)
    flat_bit_of[_keyed_permutation(cells)] = np.arange(cells) % PAYLOAD_BITS
    bit_of = flat_bit_of.reshape(rows, cols)
    counts = np.bincount(bit_of.ravel(), minlength=PAYLOAD_BITS).astype(np.float64)
    return Pattern((rows, cols), sync, chips, bit_of, counts, _self_response(chips))


def _self_response(chips: Float32Array) -> float:
    """Measure the gain of the embed-then-read path on the chips themselves (1080p)."""
    rows, cols = chips.shape
    rendered = render(chips, 1080, 1920)
    fine = as_f32(
        cv2.resize(rendered, (FINE_SCALE * cols, FINE_SCALE * rows), interpolation=cv2.INTER_AREA)
    )
    seen = sample_cells(highpass(fine), (rows, cols), (0, 0))
    return float(np.mean(seen * chips))


@cache
def pattern_for(portrait: bool) -> Pattern:
    """The pattern for landscape (or square) frames, or its transpose for portrait ones."""
    base = _landscape()
    if not portrait:
        return base
    return Pattern(
        shape=(base.shape[1], base.shape[0]),
        sync=np.ascontiguousarray(base.sync.T),
        chips=np.ascontiguousarray(base.chips.T),
        bit_of=np.ascontiguousarray(base.bit_of.T),
        cells_per_bit=base.cells_per_bit,
        self_response=base.self_response,
    )


# Sizes whose cells need more than this many to span whole pixels (1366 wide: 128) pad
# by this many and round the drawing's scale instead.
_PAD_LIMIT = 16

HIGHPASS_SIGMA = FINE_SCALE * _HIGHPASS_SIGMA_CELLS
"""High-pass width in fine-grid pixels."""


def highpass(grid: Float32Array, sigma: float = HIGHPASS_SIGMA) -> Float32Array:
    """Remove the host's smooth content, which would otherwise swamp the chips."""
    smooth = as_f32(cv2.GaussianBlur(grid, (0, 0), sigma, borderType=cv2.BORDER_REFLECT))
    return grid - smooth


def render(
    grid: Float32Array,
    height: int,
    width: int,
    offset: tuple[float, float] = (0, 0),
    zoom: float = 1.0,
) -> Float32Array:
    """Stretch a grid over a ``height`` x ``width`` frame, zoomed and displaced.

    In grid-cell units measured from the frame's top-left corner, the pattern point at
    ``u`` lands at ``c + zoom * (u - c) + offset``, where ``c`` is the frame centre: the
    pattern is magnified by ``zoom`` about the centre, then displaced by ``offset``.

    The pattern tiles the plane (displacements wrap), so a pattern that follows a camera
    pan never runs out. Only whole output pixels of displacement are applied: sub-pixel
    resampling would blur the blobs, and a codec's quarter-pel motion search absorbs the
    remaining half pixel. Unzoomed, the drawing is :func:`render_period` rolled.
    """
    if zoom != 1:
        return _render_zoomed(grid, height, width, offset, zoom)
    rows, cols = grid.shape
    shift = (round(offset[0] * height / rows), round(offset[1] * width / cols))
    period = render_period(grid, height, width)
    if shift == (0, 0):
        return period
    rolled: Float32Array = np.roll(period, shift, axis=(0, 1))
    return rolled


def render_period(grid: Float32Array, height: int, width: int) -> Float32Array:
    """The unzoomed, undisplaced pattern, drawn as one period of its tiling.

    The grid is padded by wrapping, so the frame's edges interpolate with the opposite
    edge's cells and the drawing rolls seamlessly by any whole number of pixels. The pad is
    the fewest cells that span a whole number of pixels (2 at 1080p, 7.5 px a cell), which
    keeps the resize's scale at exactly one cell per cell's pixels.
    """
    rows, cols = grid.shape
    pad_y, pad_x = (
        min(_PAD_LIMIT, n // math.gcd(size, n)) for size, n in ((height, rows), (width, cols))
    )
    padded = np.pad(grid, ((pad_y, pad_y), (pad_x, pad_x)), mode="wrap")
    cell_h, cell_w = height / rows, width / cols
    top, left = round(pad_y * cell_h), round(pad_x * cell_w)
    big = as_f32(
        cv2.resize(padded, (width + 2 * left, height + 2 * top), interpolation=cv2.INTER_LINEAR)
    )
    # A view, not a copy: OpenCV takes row-strided arrays, and a copy costs ~0.6 ms.
    view: Float32Array = big[top : top + height, left : left + width]
    return view


@dataclass(frozen=True)
class _Span:
    """One axis of a zoomed render: which grid cells to take, how big to resize them, and
    where the frame starts in the resized strip."""

    first: int
    cells: int
    size: int
    start: int


def _span(cells: int, pixels: int, shift: float, zoom: float) -> _Span:
    # Frame pixel x sits at (x + 0.5) / cell in frame cells and shows grid index
    # c + ((x + 0.5) / cell - c - shift) / zoom - 0.5; resize maps output pixel j of
    # the strip to source index (j + 0.5) * step - 0.5, counted from `first`.
    cell = pixels / cells
    centre = cells / 2
    first = int(np.floor(centre - (centre + shift) / zoom - 0.5)) - 1
    taken = int(np.ceil(cells / zoom)) + 3
    size = round(taken * zoom * cell)
    step = taken / size
    # The integer size rounds the zoom slightly (at most half a pixel across the frame).
    actual = 1 / (step * cell)
    start = round((centre * (1 - 1 / actual) - shift / actual - first) / step)
    return _Span(first, taken, size, min(size - pixels, max(0, start)))


def _render_zoomed(
    grid: Float32Array, height: int, width: int, offset: tuple[float, float], zoom: float
) -> Float32Array:
    """:func:`render` for ``zoom != 1``: a wrapped window of the grid, resized, then cut."""
    rows, cols = grid.shape
    y = _span(rows, height, offset[0], zoom)
    x = _span(cols, width, offset[1], zoom)
    # Two takes: a 2-D fancy index (np.ix_) of the same window costs four times as much.
    window = grid.take(np.arange(y.first, y.first + y.cells) % rows, axis=0).take(
        np.arange(x.first, x.first + x.cells) % cols, axis=1
    )
    big = as_f32(cv2.resize(window, (x.size, y.size), interpolation=cv2.INTER_LINEAR))
    view: Float32Array = big[y.start : y.start + height, x.start : x.start + width]
    return view


def sample_cells(
    fine: Float32Array,
    shape: tuple[int, int],
    offset: tuple[float, float],
    scale: int = FINE_SCALE,
    zoom: float = 1.0,
) -> Float32Array:
    """Read a ``scale``-times oversampled frame at the centres of the displaced cells.

    The geometry is :func:`render`'s: cell ``(r, c)`` is read where that function put it.
    Unzoomed, displacements wrap around the frame; zoomed, each cell is read where it
    shows in the frame (its first copy when the pattern is zoomed out and repeats) and
    reads 0 when it does not show at all.
    """
    if zoom != 1:
        return _sample_zoomed(fine, shape, offset, scale, zoom)
    dy, dx = offset
    transform = np.array(
        [[scale, 0, (scale - 1) / 2 + scale * dx], [0, scale, (scale - 1) / 2 + scale * dy]],
        dtype=np.float32,
    )
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    out = cv2.warpAffine(
        fine, transform, (shape[1], shape[0]), flags=flags, borderMode=cv2.BORDER_WRAP
    )
    return as_f32(out)


def _cell_positions(cells: int, shift: float, zoom: float, scale: int) -> Float32Array:
    """Oversampled frame coordinate of each cell centre along one axis (-2: not shown)."""
    centre = cells / 2
    where = centre + zoom * (np.arange(cells) + 0.5 - centre) + shift
    where = np.mod(where, zoom * cells)
    pixels = np.clip(scale * where - 0.5, 0, scale * cells - 1)
    return as_f32(np.where(where < cells, pixels, -2.0))


def _sample_zoomed(
    fine: Float32Array, shape: tuple[int, int], offset: tuple[float, float], scale: int, zoom: float
) -> Float32Array:
    map_x, map_y = _zoomed_maps(shape, offset, scale, zoom)
    out = cv2.remap(fine, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return as_f32(out)


@lru_cache(maxsize=4)
def _zoomed_maps(
    shape: tuple[int, int], offset: tuple[float, float], scale: int, zoom: float
) -> tuple[Float32Array, Float32Array]:
    """The sampling maps of one placement: a clip marker keeps it for many frames."""
    rows, cols = shape
    map_y = np.broadcast_to(_cell_positions(rows, offset[0], zoom, scale)[:, None], shape)
    map_x = np.broadcast_to(_cell_positions(cols, offset[1], zoom, scale)[None, :], shape)
    maps = np.ascontiguousarray(map_x), np.ascontiguousarray(map_y)
    for shared in maps:
        shared.flags.writeable = False
    return maps
