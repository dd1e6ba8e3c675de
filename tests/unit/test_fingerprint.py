"""The perceptual fingerprint: stable under re-encoding and resizing, broken by a patch;
its luma-plane form and the timeline a clip carries."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any

import av
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from provenance.fingerprint import (
    ALGORITHM,
    CLIP_GRID,
    GRID,
    Fingerprint,
    FingerprintTimeline,
    TimelineBuilder,
    fingerprint,
    luma_fingerprint,
)
from provenance.media.synthetic import avatar_frame


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reencode_and_resize_match(seed: int) -> None:
    frame = avatar_frame(360, 640, seed=seed)
    signed = fingerprint(frame)
    for quality in (95, 85, 75):
        assert signed.compare(fingerprint(_jpeg(frame, quality))).matches
    half = np.asarray(Image.fromarray(frame).resize((320, 180), Image.Resampling.BICUBIC))
    assert signed.compare(fingerprint(half)).matches


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pasted_patch_does_not_match(seed: int) -> None:
    frame = avatar_frame(360, 640, seed=seed)
    patched = frame.copy()
    patched[140:200, 280:360] = frame[0:60, 0:80]  # background pasted over the face
    comparison = fingerprint(frame).compare(fingerprint(_jpeg(patched, 90)))
    assert not comparison.matches
    assert comparison.changed_cells > 0


def test_encode_round_trip_and_errors() -> None:
    value = fingerprint(avatar_frame(64, 64))
    again = Fingerprint.decode(value.encode())
    assert np.array_equal(again.means, value.means)
    assert np.array_equal(again.contrasts, value.contrasts)
    with pytest.raises(ValueError, match="bytes"):
        Fingerprint.decode("AAAA")


def test_still_fingerprint_is_unchanged() -> None:
    # Known answer from the 32x32 implementation before grids were generalised: signed
    # stills must keep verifying byte for byte.
    values = "".join(fingerprint(avatar_frame(300, 500, seed=seed)).encode() for seed in range(5))
    assert hashlib.sha256(values.encode()).hexdigest() == (
        "a2b26381997788db7784dc53daf2371b948d394efa948095678315f5ca52cfa3"
    )


def test_grid_comes_from_the_cells() -> None:
    frame = avatar_frame(96, 128)
    still, clip = fingerprint(frame), fingerprint(frame, grid=CLIP_GRID)
    assert (still.grid, clip.grid) == (GRID, CLIP_GRID)
    assert len(base64.b64decode(clip.encode())) == 2 * 16 * 16
    again = Fingerprint.decode(clip.encode(), grid=CLIP_GRID)
    assert np.array_equal(again.means, clip.means)
    with pytest.raises(ValueError, match="bytes"):
        Fingerprint.decode(clip.encode())  # read as a 32x32 still
    with pytest.raises(ValueError, match="16x16"):
        still.compare(clip)
    with pytest.raises(ValueError, match="square"):
        Fingerprint(means=np.zeros((4, 8), np.uint8), contrasts=np.zeros((4, 8), np.uint8))


def _limited_y(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The Y plane an H.264 encoder gets: swscale's BT.601 limited-range conversion."""
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    return np.asarray(frame.to_ndarray(), dtype=np.uint8)[: rgb.shape[0]].copy()


@pytest.mark.parametrize("grid", [GRID, CLIP_GRID])
def test_luma_fingerprint_of_limited_range_plane_matches_rgb(grid: int) -> None:
    rgb = avatar_frame(240, 320, seed=3)
    y = _limited_y(rgb)
    assert 16 <= y.min() and y.max() <= 235
    signed = fingerprint(rgb, grid=grid)
    assert signed.compare(luma_fingerprint(y, full_range=False, grid=grid)).max_cell_difference <= 2
    # Read as full range, the same plane is off by up to ~20 levels: the stretch matters.
    raw = signed.compare(luma_fingerprint(y, full_range=True, grid=grid))
    assert raw.max_cell_difference > 8


def test_luma_fingerprint_stretches_limited_range_exactly() -> None:
    y = _limited_y(avatar_frame(240, 320, seed=4))
    stretched = np.clip(np.rint((y.astype(np.float64) - 16) * (255 / 219)), 0, 255)
    expected = luma_fingerprint(stretched.astype(np.uint8), full_range=True, grid=CLIP_GRID)
    assert luma_fingerprint(y, full_range=False, grid=CLIP_GRID).encode() == expected.encode()


def test_luma_fingerprint_full_range_is_the_plane_itself() -> None:
    rgb = avatar_frame(64, 64, seed=1)
    luma = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.uint8)
    assert luma_fingerprint(luma, full_range=True).encode() == fingerprint(rgb).encode()
    with pytest.raises(ValueError, match="2-D uint8"):
        luma_fingerprint(rgb, full_range=True)


def _fp(level: int, grid: int = CLIP_GRID) -> Fingerprint:
    cells = np.full((grid, grid), level, np.uint8)
    return Fingerprint(means=cells, contrasts=cells.copy())


def test_timeline_round_trip() -> None:
    timeline = FingerprintTimeline(
        grid=CLIP_GRID, entries=((0, _fp(10)), (1001, _fp(20)), (2002, _fp(30))), interval_ms=1000
    )
    encoded = json.loads(json.dumps(timeline.encode()))
    assert encoded["alg"] == ALGORITHM
    assert [e["t_ms"] for e in encoded["entries"]] == [0, 1001, 2002]
    again = FingerprintTimeline.decode(encoded)
    assert (again.grid, again.interval_ms) == (CLIP_GRID, 1000)
    assert [t for t, _ in again.entries] == [0, 1001, 2002]
    assert [int(v.means[0, 0]) for _, v in again.entries] == [10, 20, 30]


def _malformed(encoded: dict[str, Any]) -> list[dict[str, Any]]:
    entry = encoded["entries"][0]
    return [
        {**encoded, "alg": "org.example.other"},
        {k: v for k, v in encoded.items() if k != "grid"},
        {**encoded, "grid": True},
        {**encoded, "interval_ms": 0},
        {**encoded, "entries": "none"},
        {**encoded, "entries": [{**entry, "t_ms": "0"}]},
        {**encoded, "entries": [{**entry, "value": "AAAA"}]},
        {**encoded, "entries": [entry, entry]},  # times must increase
        {**encoded, "entries": [{**entry, "t_ms": -5}]},
        {**encoded, "grid": 8},  # values are 16x16
    ]


def test_timeline_decode_rejects_malformed() -> None:
    encoded = FingerprintTimeline(grid=CLIP_GRID, entries=((0, _fp(1)),)).encode()
    for broken in _malformed(encoded):
        with pytest.raises(ValueError):
            FingerprintTimeline.decode(broken)


def test_nearest() -> None:
    timeline = FingerprintTimeline(
        grid=CLIP_GRID, entries=((0, _fp(0)), (1000, _fp(1)), (2000, _fp(2)))
    )
    assert [timeline.nearest(t)[0] for t in (-50, 0, 499, 500, 501, 1700, 9999)] == [  # type: ignore[index]
        0,
        0,
        0,
        0,  # a tie goes to the earlier entry
        1000,
        2000,
        2000,
    ]
    assert FingerprintTimeline(grid=CLIP_GRID, entries=()).nearest(0) is None


def _plane(level: int) -> NDArray[np.uint8]:
    return np.full((8, 8), level, np.uint8)


def test_builder_keeps_the_stillest_frame_after_each_boundary() -> None:
    builder = TimelineBuilder(interval_ms=1000)
    not_a_plane = np.zeros((2, 2, 3), np.uint8)  # would raise if it were fingerprinted
    # 30 fps. After 1 s: a cut at frame 30, motion until 33, then still from 33 to 38.
    values = {i: 100 for i in range(130)}
    values.update({30: 10, 31: 40, 32: 70, 33: 90, 34: 90, 35: 90, 36: 90, 37: 90, 38: 90})
    for i in range(130):
        if 40 <= i < 100:
            continue  # a gap: the next window opens at the first frame after it
        t_ms = i * 1000 // 30
        in_window = i < 10 or 30 <= i < 40 or 100 <= i < 110 or 120 <= i < 130
        builder.offer(t_ms, _plane(values[i]) if in_window else not_a_plane, full_range=True)
    timeline = builder.build()
    times = [t for t, _ in timeline.entries]
    # Frame 34 is the first whose neighbours on both sides are the same picture.
    assert times[1] == 34 * 1000 // 30
    assert [int(v.means[0, 0]) for _, v in timeline.entries][1] == 90
    assert times[0] < 300 and 3333 <= times[2] < 3700 and 4000 <= times[3] < 4400
    assert timeline.interval_ms == 1000 and timeline.grid == CLIP_GRID


def test_builder_thins_to_max_entries_evenly() -> None:
    builder = TimelineBuilder(interval_ms=100, max_entries=5, grid=2)
    for i in range(21):
        builder.offer(i * 100, _plane(i), full_range=True)
    timeline = builder.build()
    assert [t for t, _ in timeline.entries] == [0, 500, 1000, 1500, 2000]
    assert timeline.grid == 2
    with pytest.raises(ValueError):
        TimelineBuilder(interval_ms=0)


def test_equality_is_cell_by_cell() -> None:
    assert _fp(3) == _fp(3)
    assert _fp(3) != _fp(4)
    assert _fp(3, grid=4) != _fp(3)
    assert len({_fp(3), _fp(3), _fp(4)}) == 2
