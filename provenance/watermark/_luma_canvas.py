"""The drawn residual of a clip marker, kept between frames (``spec/luma-engine.md``, 2).

Drawing the grid over a 720p frame (a bilinear resize to 0.9 M pixels, then rounding)
costs about as much as everything the marker measures, and most frames do not need it:

- Unzoomed, the pattern tiles the plane with a period of exactly one frame, and the
  tracker moves it by whole output pixels. So one drawn period serves every offset: the
  frame gets it added rolled, in at most four rectangles. A pan costs no drawing at all.
- The held grid (``_luma_iss``) changes a few cells at a time, around a moving mouth or a
  new caption. Only the pixels those cells reach are drawn again.

The period is kept as two 8-bit planes, what the residual adds and what it takes away, so
the frame is marked by one saturating add and one saturating subtract: the same result
as adding the rounded residual with saturation, at 0.4 of ``cv2.addWeighted``'s cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, floor, gcd

import cv2
import numpy as np
from numpy.typing import NDArray

from ._luma_pattern import as_f32, render
from ._luma_track import Placement

__all__ = ["Canvas", "whole_pixels"]

Float32Array = NDArray[np.float32]
Plane = NDArray[np.uint8]

# The residual (|r| < 7 levels) is rounded and lifted into unsigned 8 bits around this.
_LIFT = 128
# Past this share of the grid's cells, drawing the whole period is as cheap as a window.
_LOCAL_SHARE = 0.4
# Changed cells are gathered into windows by tiles of this many cells a side (the grid's
# sides, 144 and 256, are multiples of it).
_TILE = 16
# A window must start on a whole pixel. Sizes that need more cells than this to make a
# whole number of pixels (1366 wide: 128 cells) always draw the whole period.
_MAX_STEP = 16


def whole_pixels(offset: tuple[float, float], cell: tuple[float, float]) -> tuple[int, int]:
    """A placement's offset (cells) in whole output pixels, as the pattern is drawn."""
    return round(offset[0] * cell[0]), round(offset[1] * cell[1])


def _step(pixels: int, cells: int) -> int:
    """The fewest cells that span a whole number of pixels."""
    return cells // gcd(pixels, cells)


@dataclass
class _Planes:
    """A lifted residual split into what it adds and what it subtracts."""

    add: Plane
    sub: Plane

    @classmethod
    def of(cls, residual: Float32Array) -> _Planes:
        lifted = np.asarray(cv2.convertScaleAbs(residual, beta=_LIFT), dtype=np.uint8)
        middle = np.full_like(lifted, _LIFT)
        return cls(
            np.asarray(cv2.subtract(lifted, middle), dtype=np.uint8),
            np.asarray(cv2.subtract(middle, lifted), dtype=np.uint8),
        )


class Canvas:
    """The residual of the grid last drawn, for frames of one size.

    Args:
        height, width: the frame size.
        cells: the grid's rows and columns.
    """

    def __init__(self, height: int, width: int, cells: tuple[int, int]) -> None:
        self.shape = (height, width)
        self._cells = cells
        self._cell = (height / cells[0], width / cells[1])
        self._steps = (_step(height, cells[0]), _step(width, cells[1]))
        self._grid: Float32Array | None = None
        # The array last drawn in the period: the held grid is handed back unchanged (the
        # same object) between reads, which skips comparing 36,864 cells.
        self._drawn: Float32Array | None = None
        self._planes: _Planes | None = None
        # None while the planes hold the unzoomed period; else the zoomed placement drawn.
        self._zoomed: Placement | None = None

    def mark(self, plane: Plane, grid: Float32Array, place: Placement, out: Plane) -> Plane:
        """Add the residual of ``grid`` at ``place`` to ``plane``, into ``out``."""
        if place.zoom == 1:
            self._draw_period(grid)
            shift = whole_pixels(place.offset, self._cell)
        else:
            self._draw_zoomed(grid, place)
            shift = (0, 0)
        assert self._planes is not None
        _add_rolled(plane, self._planes, shift, out)
        return out

    def _draw_period(self, grid: Float32Array) -> None:
        held = self._grid
        if grid is self._drawn:
            return
        if held is None or self._zoomed is not None or held.shape != grid.shape:
            self._draw_all(grid)
            return
        changed = grid != held
        if not changed.any():
            return
        windows = self._windows(changed)
        if windows is None:
            self._draw_all(grid)
            return
        for y, x in windows:
            self._draw_window(grid, y, x)
        self._grid, self._drawn = grid.copy(), grid

    def _windows(self, changed: NDArray[np.bool_]) -> list[tuple[_Window, _Window]] | None:
        """Windows that cover the changed cells, or None when drawing the whole period is
        cheaper (or windows cannot start on whole pixels).

        A moving mouth changes a patch of cells; a new caption, a band along the bottom; a
        pan, rows along the edge it uncovers. One bounding box would often span them all.
        """
        if max(self._steps) > _MAX_STEP:
            return None
        rows, cols = changed.shape
        if rows % _TILE or cols % _TILE:
            return None
        tiles = np.asarray(
            changed.reshape(rows // _TILE, _TILE, cols // _TILE, _TILE).any(axis=(1, 3))
        )
        boxes = [_exact(changed, box) for box in _tile_boxes(_as_rows(tiles))]
        windows = [
            (
                _Window.around(box[0], box[1], self._steps[0], self._cell[0], changed.shape[0]),
                _Window.around(box[2], box[3], self._steps[1], self._cell[1], changed.shape[1]),
            )
            for box in boxes
        ]
        area = sum((y.stop - y.first) * (x.stop - x.first) for y, x in windows)
        if area > _LOCAL_SHARE * changed.size:
            return None
        return windows

    def _draw_all(self, grid: Float32Array) -> None:
        self._planes = _Planes.of(render(grid, *self.shape))
        self._grid, self._drawn, self._zoomed = grid.copy(), grid, None

    def _draw_zoomed(self, grid: Float32Array, place: Placement) -> None:
        held = self._grid
        if self._zoomed == place and held is not None and np.array_equal(held, grid):
            return
        self._planes = _Planes.of(render(grid, *self.shape, place.offset, place.zoom))
        self._grid, self._drawn, self._zoomed = grid.copy(), None, place

    def _draw_window(self, grid: Float32Array, y: _Window, x: _Window) -> None:
        """Draw again the pixels of the cells in the windows ``y`` x ``x``."""
        window = grid.take(np.arange(y.first, y.stop), axis=0, mode="wrap").take(
            np.arange(x.first, x.stop), axis=1, mode="wrap"
        )
        drawn = as_f32(cv2.resize(window, (x.pixels, y.pixels), interpolation=cv2.INTER_LINEAR))
        block = _Planes.of(drawn[y.inner, x.inner])
        assert self._planes is not None
        height, width = self.shape
        _put_wrapped(self._planes.add, block.add, y.start % height, x.start % width)
        _put_wrapped(self._planes.sub, block.sub, y.start % height, x.start % width)


@dataclass(frozen=True)
class _Window:
    """One axis of a redrawn window: the cells taken and the pixels written.

    A cell reaches the pixels within one cell of its centre, so the pixels of the cells
    from ``first - 1`` to ``last + 1`` of the changed ones are drawn again, from a window
    one whole step wider on each side, so that every pixel written interpolates between
    two cells of the window. Windows start and end on whole steps, so the window's pixels
    line up with the period's.
    """

    first: int
    stop: int
    pixels: int
    inner: slice
    start: int

    @classmethod
    def around(cls, first: int, last: int, step: int, cell: float, cells: int) -> _Window:
        """The window for changed cells ``first`` to ``last`` of ``cells`` on this axis."""
        begin = floor((first - 1 - step) / step) * step
        stop = ceil((last + 2 + step) / step) * step
        if stop - begin - 2 * step >= cells:
            # All of the axis: the window wraps by one step at each end, as the period does.
            begin, stop = -step, cells + step
        margin = round(step * cell)
        pixels = round((stop - begin) * cell)
        return cls(
            begin, stop, pixels, slice(margin, pixels - margin), round(begin * cell) + margin
        )


def _tile_boxes(tiles: list[list[bool]]) -> list[list[int]]:
    """Boxes of changed tiles ``[first row, last row, first col, last col]``: each row's
    runs of changed tiles, joined to a box of the row above whose columns they overlap, so
    a patch across two rows of tiles is one window, not two."""
    boxes: list[list[int]] = []
    for row, line in enumerate(tiles):
        col = 0
        while col < len(line):
            if not line[col]:
                col += 1
                continue
            first = col
            while col + 1 < len(line) and line[col + 1]:
                col += 1
            _join(boxes, [row, row, first, col])
            col += 1
    return boxes


def _join(boxes: list[list[int]], box: list[int]) -> None:
    for held in boxes:
        if held[1] != box[0] - 1 or held[2] > box[3] or box[2] > held[3]:
            continue
        left, right = min(held[2], box[2]), max(held[3], box[3])
        # A narrow run under a wide one (a pan's uncovered column under its uncovered
        # row) would widen every row of the box: only similar runs are joined.
        if (box[1] - held[0] + 1) * (right - left + 1) <= 1.5 * (_area(held) + _area(box)):
            held[1], held[2], held[3] = box[1], left, right
            return
    boxes.append(box)


def _area(box: list[int]) -> int:
    return (box[1] - box[0] + 1) * (box[3] - box[2] + 1)


def _exact(changed: NDArray[np.bool_], box: list[int]) -> list[int]:
    """A box of tiles shrunk to the changed cells inside it, in cells."""
    top, left = box[0] * _TILE, box[2] * _TILE
    part = changed[top : (box[1] + 1) * _TILE, left : (box[3] + 1) * _TILE]
    rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
    return [top + int(rows[0]), top + int(rows[-1]), left + int(cols[0]), left + int(cols[-1])]


def _put_wrapped(target: Plane, block: Plane, top: int, left: int) -> None:
    """Write ``block`` into ``target`` at ``(top, left)``, wrapping around its edges."""
    for target_rows, block_rows in _spans(top, block.shape[0], target.shape[0]):
        for target_cols, block_cols in _spans(left, block.shape[1], target.shape[1]):
            target[target_rows, target_cols] = block[block_rows, block_cols]


def _spans(start: int, length: int, size: int) -> list[tuple[slice, slice]]:
    """Where a run of ``length <= size`` from ``start`` lands in ``range(size)``, and
    which part of the run lands there."""
    first = min(length, size - start)
    spans = [(slice(start, start + first), slice(0, first))]
    if first < length:
        spans.append((slice(0, length - first), slice(first, length)))
    return spans


def _add_rolled(plane: Plane, planes: _Planes, shift: tuple[int, int], out: Plane) -> None:
    """``out = plane + residual rolled by shift``, saturating, in at most four rectangles."""
    height, width = plane.shape
    dy, dx = shift[0] % height, shift[1] % width
    for frame_rows, residual_rows in _pieces(dy, height):
        for frame_cols, residual_cols in _pieces(dx, width):
            target = out[frame_rows, frame_cols]
            cv2.add(plane[frame_rows, frame_cols], planes.add[residual_rows, residual_cols], target)
            cv2.subtract(target, planes.sub[residual_rows, residual_cols], target)


def _pieces(shift: int, size: int) -> list[tuple[slice, slice]]:
    """Frame and residual ranges along one axis for a roll by ``shift`` (0 <= shift < size)."""
    if shift == 0:
        return [(slice(0, size), slice(0, size))]
    return [
        (slice(shift, size), slice(0, size - shift)),
        (slice(0, shift), slice(size - shift, size)),
    ]


def _as_rows(tiles: NDArray[np.bool_]) -> list[list[bool]]:
    rows: list[list[bool]] = tiles.tolist()
    return rows
