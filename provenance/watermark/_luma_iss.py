"""Informed embedding for the luma engine, and how a clip marker holds it still.

Informed spread spectrum (ISS) gives each payload bit an amplitude that cancels what the
host already projects onto that bit, so the detector sees the nominal strength whatever
the picture (``spec/luma-engine.md``, section 2, steps 2-5).

A bit's amplitude scales its ~236 cells, which are spread over the whole frame. In a clip,
recomputing every amplitude in every frame therefore changes the rounded residual in
almost every macroblock, however little the picture moved, and x264 re-codes blocks it
would otherwise skip: that alone made it spend ~1.2x the CPU on marked frames.
:class:`HeldGrid` keeps a clip's amplitudes and texture mask while they are still good
enough and changes them only where needed: a mask cell when its texture changed (local, in
blocks the codec re-codes anyway), a bit's amplitude when a fresh one would give that bit
noticeably more strength than the held one does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import cv2
import numpy as np
from numpy.typing import NDArray

from ._luma_pattern import Pattern, as_f32, pattern_for
from .payload import PAYLOAD_BITS

__all__ = [
    "PAYLOAD_STRENGTH",
    "SHORTFALL_TOLERANCE",
    "HeldGrid",
    "fresh_grid",
    "informed_amplitudes",
    "texture_mask",
]

Float32Array = NDArray[np.float32]
Float64Array = NDArray[np.float64]

# Mark strength in 8-bit luma levels, and the share of it the sync pattern takes. The
# sync pattern is found by correlating all 36,864 cells at once, so a small share is
# enough; the rest carries the payload (about 236 cells per bit).
_STRENGTH = 2.0
_SYNC_SHARE = 0.35
PAYLOAD_STRENGTH = _STRENGTH * float(np.sqrt(1 - _SYNC_SHARE**2))
_SYNC_STRENGTH = _STRENGTH * _SYNC_SHARE
# ISS may boost a bit against a host that opposes it, up to this multiple, and always
# leaves at least half the nominal strength in the right direction.
_MAX_BOOST = 3.0
# Texture masking: local high-pass RMS (luma levels) at which the mark reaches full
# strength, and the floor flat areas keep so flat frames still carry a mark.
_MASK_FULL_AT = 3.0
_MASK_FLOOR = 0.4
# A held mask cell follows the picture once its fresh value is this far off: codec noise
# stays below it, a texture that appears or goes (a mouth, a slide) passes it.
_MASK_TOLERANCE = 0.05
# A held amplitude is replaced once a fresh one would give its bit this share of the
# nominal strength more: every bit keeps at least a quarter of the nominal strength
# where ISS would give it all of it. Each refresh re-codes a bit's cells all over the
# frame: at 0.5, x264 spent 1.23x on marked 1080p frames, at 0.75 1.16x, at 1.0 1.13x.
SHORTFALL_TOLERANCE = 0.75


def texture_mask(host: Float32Array) -> Float32Array:
    """Per-cell strength in [floor, 1]: full on texture, reduced on flat areas."""
    mask = as_f32(cv2.GaussianBlur(host * host, (0, 0), 2.0))
    np.sqrt(mask, out=mask)
    mask /= _MASK_FULL_AT
    np.clip(mask, _MASK_FLOOR, 1.0, out=mask)
    return mask


def informed_amplitudes(
    signs: Float64Array, pattern: Pattern, host: Float32Array, mask: Float32Array
) -> Float64Array:
    """Step 4: each bit's informed amplitude, clipped in the direction of its sign."""
    projection = pattern.bit_sums(host)
    gain = pattern.self_response * np.bincount(pattern.bit_of.ravel(), mask.ravel(), PAYLOAD_BITS)
    amplitude = signs * PAYLOAD_STRENGTH - projection / np.maximum(gain, 1e-6)
    low, high = PAYLOAD_STRENGTH / 2, _MAX_BOOST * PAYLOAD_STRENGTH
    # The signs are +-1, so clipping the product and multiplying back is exact.
    clipped: Float64Array = np.clip(amplitude * signs, low, high) * signs
    return clipped


def _grid(pattern: Pattern, amplitude: Float64Array, mask: Float32Array) -> Float32Array:
    """Step 5: ``mask * (amplitude * chip + sync)``, in place: 36,864 cells a frame."""
    grid: Float32Array = amplitude.astype(np.float32).take(pattern.bit_of)
    grid *= pattern.chips
    grid += _sync_part(portrait=pattern.shape[0] > pattern.shape[1])
    grid *= mask
    return grid


def fresh_grid(signs: Float64Array, pattern: Pattern, host: Float32Array) -> Float32Array:
    """The grid residual of one picture on its own (a still, or a frame read alone)."""
    mask = texture_mask(host)
    return _grid(pattern, informed_amplitudes(signs, pattern, host, mask), mask)


@cache
def _sync_part(portrait: bool) -> Float32Array:
    """The sync chips at the sync strength, before the mask."""
    part: Float32Array = _SYNC_STRENGTH * pattern_for(portrait).sync
    return part


@dataclass
class HeldGrid:
    """A clip's grid residual, changed only where the picture asks for it.

    Args:
        signs: the payload's bits as +-1.
    """

    signs: Float64Array
    _mask: Float32Array | None = field(default=None, init=False)
    _amplitude: Float64Array | None = field(default=None, init=False)
    _grid: Float32Array | None = field(default=None, init=False)

    def update(self, pattern: Pattern, host: Float32Array) -> tuple[Float32Array, bool]:
        """The grid for the next frame's host cells, and whether it differs from the last."""
        mask = texture_mask(host)
        held = self._mask
        if held is None or self._grid is None or held.shape != mask.shape:
            self._mask = mask
            self._amplitude = informed_amplitudes(self.signs, pattern, host, mask)
            self._grid = _grid(pattern, self._amplitude, mask)
            return self._grid, True
        moved = np.abs(mask - held) > _MASK_TOLERANCE
        mask_changed = bool(moved.any())
        if mask_changed:
            held[moved] = mask[moved]
        fresh = informed_amplitudes(self.signs, pattern, host, held)
        assert self._amplitude is not None
        # How much more strength a fresh amplitude would give each bit than the held one:
        # both see the same host through the same mask, so that is the difference.
        short = self.signs * (fresh - self._amplitude) > SHORTFALL_TOLERANCE * PAYLOAD_STRENGTH
        amplitude_changed = bool(short.any())
        if amplitude_changed:
            self._amplitude = np.where(short, fresh, self._amplitude)
        if mask_changed or amplitude_changed:
            self._grid = _grid(pattern, self._amplitude, held)
        return self._grid, mask_changed or amplitude_changed

    @property
    def mask(self) -> Float32Array | None:
        """The held per-cell texture mask (a copy), or None before the first frame."""
        return None if self._mask is None else self._mask.copy()

    @property
    def amplitude(self) -> Float64Array | None:
        """The held per-bit amplitudes (a copy), or None before the first frame."""
        return None if self._amplitude is None else self._amplitude.copy()
