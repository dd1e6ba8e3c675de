"""The clip marker's camera tracker: whole-pixel placements, a zoom that only moves on
a real zoom, and strips that outvote a static overlay."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from provenance.media.synthetic import avatar_clip_frame
from provenance.watermark import ContentId
from provenance.watermark._luma_sync import shrink
from provenance.watermark._luma_track import CameraTracker, _consensus, tracking_view
from provenance.watermark.luma import LumaMarker

CID = ContentId.from_hex("00010000deadbeef")


def _sway(index: int) -> tuple[int, int]:
    """The whole-pixel roll ``avatar_clip_frame`` gives frame ``index`` (rows, columns)."""
    t = index / 30
    return round(3 * math.sin(2 * math.pi * 0.4 * t)), round(6 * math.sin(2 * math.pi * 0.25 * t))


def _luma(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def test_a_whole_pixel_roll_under_a_static_band_is_placed_to_the_pixel() -> None:
    """The synthetic talking head rolls by whole pixels over a smooth vertical gradient,
    with a static lower-third band in the left strip: the pattern moves by exactly the
    roll and never zooms (the old phase-plane fit gave 0.6-2.6 px for a 3 px roll and
    zooms of 0.9997-1.0017)."""
    height, width = 360, 640
    marker = LumaMarker(CID)
    for index in range(30):
        marker.mark(_luma(avatar_clip_frame(index, height, width)))
        placed = (marker.offset[0] * height / 144, marker.offset[1] * width / 256)
        assert placed == pytest.approx(_sway(index), abs=1e-9), index
        assert marker.zoom == 1.0


def test_a_static_shot_with_a_moving_mouth_keeps_zoom_one_and_no_offset() -> None:
    height, width = 360, 640
    marker = LumaMarker(CID)
    still = avatar_clip_frame(0, height, width)
    for index in range(8):
        frame = still.copy()
        # Only the middle of the frame changes, as a mouth would; the borders add noise
        # so that every frame is measured rather than skipped as a repeat.
        frame[150:200, 280:360] = 60 + 20 * (index % 3)
        noise = np.random.default_rng(index).integers(-1, 2, frame.shape)
        frame = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        marker.mark(_luma(frame))
        assert marker.zoom == 1.0 and marker.offset == (0.0, 0.0)


def test_placement_is_in_whole_output_pixels() -> None:
    """A sub-pixel shift is placed at the nearest whole pixel, at any cell size."""
    height, width = 270, 480  # 1.875 px per cell: offsets are not whole cells
    rgb = avatar_clip_frame(0, height, width)
    base = _luma(rgb)
    small = tracking_view(shrink(base, 512, 288))
    tracker = CameraTracker(small, (height / 144, width / 256))
    moved = np.asarray(
        cv2.warpAffine(base, np.array([[1, 0, 4.2], [0, 1, -2.9]], np.float32), (width, height)),
        dtype=np.uint8,
    )
    placement = tracker.update(tracking_view(shrink(moved, 512, 288)))
    assert placement.offset[0] * height / 144 == pytest.approx(-3.0, abs=1e-9)
    assert placement.offset[1] * width / 256 == pytest.approx(4.0, abs=1e-9)
    assert placement.zoom == 1.0


def test_consensus_outvotes_a_precise_strip_that_disagrees() -> None:
    """A static overlay makes one strip report 0 precisely; the other three agree on 3."""
    values = [0.0, 3.1, 2.95, 3.0]
    spreads = [0.001, 0.2, 0.05, 0.01]
    assert _consensus(values, spreads, tolerance=0.3) == pytest.approx(3.0, abs=0.02)
    # With no group larger than one, the most precise value stands.
    assert _consensus([0.0, 5.0], [0.1, 0.01], tolerance=0.3) == pytest.approx(5.0)
