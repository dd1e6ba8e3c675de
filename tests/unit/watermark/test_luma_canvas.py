"""The clip marker's drawn residual: one period rolled by whole pixels, redrawn only where
the grid changed, and the same frame as drawing everything afresh."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from provenance.watermark import _luma_canvas as canvas_module
from provenance.watermark._luma_canvas import Canvas, whole_pixels
from provenance.watermark._luma_pattern import render, render_period
from provenance.watermark._luma_track import Placement

Grid = NDArray[np.float32]
CELLS = (144, 256)


def _grid(seed: int) -> Grid:
    values = np.random.default_rng(seed).normal(0, 2.5, CELLS)
    return np.asarray(values, dtype=np.float32)


def _plane(height: int, width: int, seed: int = 0) -> NDArray[np.uint8]:
    plane = np.random.default_rng(seed).integers(0, 256, (height, width))
    plane[:20] = 254  # saturates upwards
    plane[20:40] = 1  # and downwards
    return plane.astype(np.uint8)


def _assert_marks(marked: NDArray[np.uint8], plane: NDArray[np.uint8], residual: Grid) -> None:
    """``marked`` is ``plane`` plus the rounded residual, saturated; the canvas rounds
    ``residual + 128`` in float32, which can settle a tie the other way."""
    expected = np.clip(plane + np.rint(residual), 0, 255)
    off = np.abs(marked - expected)
    assert off.max() <= 1 and np.count_nonzero(off) <= 1e-4 * off.size


def _no_full_drawing(*args: object, **kwargs: object) -> Grid:
    raise AssertionError("the whole residual was drawn again")


def _marked(
    canvas: Canvas, plane: NDArray[np.uint8], grid: Grid, place: Placement
) -> NDArray[np.uint8]:
    return canvas.mark(plane, grid, place, np.empty_like(plane))


@pytest.mark.parametrize(("height", "width"), [(720, 1280), (360, 640), (270, 480), (300, 500)])
def test_a_rolled_period_is_the_pattern_at_that_offset(height: int, width: int) -> None:
    """Cells of 5, 2.5, 1.875 px and 2.08 x 1.95 px: the pattern tiles with a period of
    one frame, so any whole-pixel offset is the period rolled."""
    grid = _grid(1)
    period = render_period(grid, height, width)
    cell = (height / CELLS[0], width / CELLS[1])
    for pixels in [(0, 0), (3, -7), (-1, 1), (height - 1, 2 * width + 5)]:
        offset = (pixels[0] / cell[0], pixels[1] / cell[1])
        assert whole_pixels(offset, cell) == pixels
        drawn = render(grid, height, width, offset)
        assert np.array_equal(drawn, np.roll(period, pixels, axis=(0, 1)))


def test_a_period_has_no_seam_where_it_wraps() -> None:
    """The edges interpolate with the opposite edge's cells: a grid rolled by whole cells
    draws the period rolled by the same number of cells' pixels."""
    grid = _grid(2)
    period = render_period(grid, 360, 640)  # 2.5 px a cell: 2 cells are 5 px
    rolled = render_period(np.roll(grid, (2, -4), axis=(0, 1)), 360, 640)
    assert np.allclose(rolled, np.roll(period, (5, -10), axis=(0, 1)), atol=1e-5)


@pytest.mark.parametrize("pixels", [(0, 0), (2, 3), (-5, 11)])
def test_marking_adds_the_rounded_residual_with_saturation(pixels: tuple[int, int]) -> None:
    height, width = 360, 640
    grid, plane = _grid(3), _plane(height, width)
    cell = (height / CELLS[0], width / CELLS[1])
    place = Placement(1.0, (pixels[0] / cell[0], pixels[1] / cell[1]))
    marked = _marked(Canvas(height, width, CELLS), plane, grid, place)
    _assert_marks(marked, plane, render(grid, height, width, place.offset))
    assert marked[:20].max() == 255 and marked[20:40].min() == 0


def test_a_zoomed_placement_draws_the_zoomed_pattern() -> None:
    height, width = 360, 640
    grid, plane = _grid(4), _plane(height, width)
    canvas = Canvas(height, width, CELLS)
    for place in [Placement(1.02, (0.4, -2.0)), Placement(1.02, (0.8, -2.4)), Placement()]:
        marked = _marked(canvas, plane, grid, place)
        drawn = render(grid, height, width, place.offset, place.zoom)
        _assert_marks(marked, plane, drawn)


@pytest.mark.parametrize(("height", "width"), [(720, 1280), (1080, 1920), (360, 640)])
def test_changed_cells_are_redrawn_as_a_fresh_drawing_would_be(
    height: int, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A patch in the middle, one across the wrapped corner, a full-width band and a few
    scattered cells: the canvas that redraws only around them marks the frame exactly as
    one that draws the new grid from scratch, and leaves every other pixel alone."""
    plane = _plane(height, width, seed=5)
    place = Placement(1.0, (3.0, -7.0))
    before = _grid(6)
    after = before.copy()
    after[60:75, 100:130] += 1.5
    after[np.ix_([142, 143, 0, 1], [254, 255, 0, 1, 2])] -= 2.0
    after[130:136] *= 0.5
    after[[20, 90], [40, 200]] += 0.7
    canvas = Canvas(height, width, CELLS)
    first = _marked(canvas, plane, before, place)
    with monkeypatch.context() as patched:
        patched.setattr(canvas_module, "render", _no_full_drawing)
        redrawn = _marked(canvas, plane, after, place)
    fresh = _marked(Canvas(height, width, CELLS), plane, after, place)
    assert np.array_equal(redrawn, fresh)
    # Nothing moved more than two cells' pixels from a changed cell.
    moved = np.argwhere(redrawn != first)
    cell = height / CELLS[0]
    rows_changed = (np.arange(height) - round(3.0 * cell)) % height / cell
    near = (
        (np.abs(rows_changed - 67) < 10)
        | (rows_changed > 140)
        | (rows_changed < 4)
        | ((rows_changed > 128) & (rows_changed < 138))
        | (np.abs(rows_changed - 20) < 3)
        | (np.abs(rows_changed - 90) < 3)
    )
    assert near[moved[:, 0]].all()


def test_an_unchanged_grid_is_not_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same held grid at a new whole-pixel offset marks the frame with the drawing
    rolled: a pan costs no drawing."""
    height, width = 360, 640
    grid, plane = _grid(7), _plane(height, width)
    canvas = Canvas(height, width, CELLS)
    _marked(canvas, plane, grid, Placement())
    shifted = Placement(1.0, (0.4, 0.8))  # 1 px down, 2 px right
    monkeypatch.setattr(canvas_module, "render", _no_full_drawing)
    marked = _marked(canvas, plane, grid, shifted)
    _assert_marks(marked, plane, np.roll(render_period(grid, height, width), (1, 2), axis=(0, 1)))
