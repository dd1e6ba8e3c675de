"""The live marker: it reads the host one frame in LIVE_READ_EVERY, holds the grid in
between, and skips the tracker while the frame's borders stand still."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from provenance.media.synthetic import avatar_clip_frame
from provenance.watermark import ContentId, encode_payload
from provenance.watermark._luma_track import CameraTracker, Placement, StillBorders
from provenance.watermark.luma import LIVE_READ_EVERY, LumaIssEngine

ENGINE = LumaIssEngine()
CID = ContentId.from_hex("00010000feedface")
BITS = encode_payload(CID).tolist()
Plane = NDArray[np.uint8]


def _luma(index: int, height: int = 360, width: int = 640) -> Plane:
    rgb = avatar_clip_frame(index, height, width)
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def _with_mouth(still: Plane, index: int) -> Plane:
    """``still`` with only its middle changed, as a talking head in front of a fixed camera."""
    frame = still.copy()
    frame[160:200, 290:350] = 40 + 25 * (index % 5)
    return frame


def test_the_grid_is_held_between_reads_and_read_again_on_schedule() -> None:
    still = _luma(0)
    marker = ENGINE.live_marker(CID)
    residuals = []
    for index in range(LIVE_READ_EVERY + 1):
        frame = _with_mouth(still, index)
        residuals.append(marker.mark(frame).astype(np.int16) - frame)
    # Frames between reads carry the first frame's residual, whatever the mouth does.
    for residual in residuals[1:LIVE_READ_EVERY]:
        assert np.array_equal(residual, residuals[0])
    # The next read follows the mouth's texture there and nowhere else.
    changed = np.argwhere(residuals[LIVE_READ_EVERY] != residuals[0])
    assert len(changed) > 0
    assert changed[:, 0].min() >= 160 - 30 and changed[:, 0].max() < 200 + 30
    assert changed[:, 1].min() >= 290 - 30 and changed[:, 1].max() < 350 + 30


def test_still_borders_skip_the_tracker(monkeypatch: pytest.MonkeyPatch) -> None:
    still = _luma(0)
    marker = ENGINE.live_marker(CID)
    marker.mark(_with_mouth(still, 0))
    tracked: list[int] = []
    original = CameraTracker.update

    def counting(self: CameraTracker, view: NDArray[np.float32]) -> Placement:
        tracked.append(1)
        return original(self, view)

    monkeypatch.setattr(CameraTracker, "update", counting)
    for index in range(1, LIVE_READ_EVERY):
        marker.mark(_with_mouth(still, index))
    assert tracked == []
    # A frame whose borders moved is tracked.
    marker.mark(np.roll(_with_mouth(still, 9), 2, axis=1))
    assert tracked == [1]


def test_a_moving_camera_is_followed_and_every_frame_is_readable() -> None:
    """The synthetic head rolls by whole pixels: the pattern follows it to the pixel on
    frames that are not read, and each marked frame decodes on its own."""
    height, width = 360, 640
    marker = ENGINE.live_marker(CID)
    for index in range(2 * LIVE_READ_EVERY):
        marked = marker.mark(_luma(index, height, width))
        t = index / 30
        sway = (round(3 * math.sin(2 * math.pi * 0.4 * t)), round(6 * math.sin(math.pi * 0.5 * t)))
        placed = (marker.offset[0] * height / 144, marker.offset[1] * width / 256)
        assert placed == pytest.approx(sway, abs=1e-9)
        assert ENGINE.read_soft_luma(marked).hard_bits.tolist() == BITS


def test_marking_in_place_matches_marking_a_copy() -> None:
    frames = [_luma(index) for index in range(4)]
    copies, in_place = ENGINE.live_marker(CID), ENGINE.live_marker(CID)
    for frame in frames:
        expected = copies.mark(frame)
        plane = frame.copy()
        assert in_place.mark(plane, out=plane) is plane
        assert np.array_equal(plane, expected)


def test_still_borders_compare_everything_but_the_middle() -> None:
    height, width = 360, 640
    watch = StillBorders((slice(54, 90), slice(70, 186)), (height / 144, width / 256))
    frame = _luma(0, height, width)
    assert not watch.check(frame)  # nothing to compare with yet
    middle = frame.copy()
    middle[140:220, 180:460] ^= 0xFF  # inside rows 135-225, columns 175-465
    assert watch.check(middle)
    edge = middle.copy()
    edge[359, 0] ^= 1
    assert not watch.check(edge)
    side = edge.copy()
    side[180, 170] ^= 1  # just left of the middle box
    assert not watch.check(side)
