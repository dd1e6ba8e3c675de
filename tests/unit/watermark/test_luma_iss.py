"""A clip's held informed grid changes only where the picture asks for it."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from provenance.watermark._luma_iss import (
    PAYLOAD_STRENGTH,
    SHORTFALL_TOLERANCE,
    HeldGrid,
    fresh_grid,
    informed_amplitudes,
)
from provenance.watermark._luma_pattern import pattern_for
from provenance.watermark.payload import ContentId, encode_payload

SIGNS = encode_payload(ContentId.from_hex("00010000deadbeef")).astype(np.float64) * 2 - 1
PATTERN = pattern_for(portrait=False)


def _host(seed: int, scale: float = 4.0) -> NDArray[np.float32]:
    """High-passed host cells: smooth texture of a few luma levels, as a frame gives."""
    noise = np.random.default_rng(seed).normal(0, 1, PATTERN.shape).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 1.0)
    return np.asarray(smooth * (scale / smooth.std()), dtype=np.float32)


def test_the_first_frame_gets_the_fresh_grid() -> None:
    host = _host(1)
    grid, changed = HeldGrid(SIGNS).update(PATTERN, host)
    assert changed
    assert np.array_equal(grid, fresh_grid(SIGNS, PATTERN, host))


def test_the_same_host_or_codec_noise_keeps_the_grid() -> None:
    host = _host(2)
    held = HeldGrid(SIGNS)
    first, _ = held.update(PATTERN, host)
    first = first.copy()
    again, changed = held.update(PATTERN, host)
    assert not changed and np.array_equal(again, first)
    noisy = host + np.random.default_rng(3).normal(0, 0.05, host.shape).astype(np.float32)
    kept, changed = held.update(PATTERN, noisy)
    assert not changed and np.array_equal(kept, first)
    # A fresh grid would have moved: the hold is what keeps it.
    assert not np.array_equal(fresh_grid(SIGNS, PATTERN, noisy), first)


def test_a_local_change_moves_only_the_mask_cells_around_it() -> None:
    host = _host(4)
    held = HeldGrid(SIGNS)
    first = held.update(PATTERN, host)[0].copy()
    amplitude = held.amplitude
    flattened = host.copy()
    flattened[60:72, 100:116] = 0  # a patch of texture goes flat (a mouth closes)
    grid, changed = held.update(PATTERN, flattened)
    assert changed
    after = held.amplitude
    assert amplitude is not None and after is not None
    assert np.array_equal(after, amplitude)
    moved = np.argwhere(grid != first)
    assert len(moved) > 0
    # The mask blurs the texture over 2 cells: changes stay within a few cells of the patch.
    assert moved[:, 0].min() >= 60 - 8 and moved[:, 0].max() < 72 + 8
    assert moved[:, 1].min() >= 100 - 8 and moved[:, 1].max() < 116 + 8


def test_a_new_picture_refreshes_every_bit_that_fell_short() -> None:
    held = HeldGrid(SIGNS)
    held.update(PATTERN, _host(5))
    before = held.amplitude
    new = _host(6, scale=8.0)
    _, changed = held.update(PATTERN, new)
    assert changed
    after, mask = held.amplitude, held.mask
    assert before is not None and after is not None and mask is not None
    fresh = informed_amplitudes(SIGNS, PATTERN, new, mask)
    shortfall = SIGNS * (fresh - after)
    assert shortfall.max() <= SHORTFALL_TOLERANCE * PAYLOAD_STRENGTH + 1e-9
    refreshed = after != before
    assert refreshed.any()
    # Refreshed bits take the fresh amplitude exactly; the others keep theirs.
    assert np.array_equal(after[refreshed], fresh[refreshed])
    # Every held amplitude still points the bit's way with at least half the strength.
    assert (SIGNS * after >= PAYLOAD_STRENGTH / 2 - 1e-9).all()
