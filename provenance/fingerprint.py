"""A coarse perceptual fingerprint that tells a re-encode from an edit.

When a platform strips the manifest and re-encodes a stamped frame, the watermark leads back
to the signed manifest, but the manifest's hard binding (a hash of the exact bytes) no longer
matches, and it cannot: the bytes changed. What must still be caught is a *content* change,
such as a patch pasted over the face. The signed manifest therefore also carries this
fingerprint: the luma of the frame reduced to a 32x32 grid of cell means and cell contrasts.
Re-encoding and resizing move each cell by a few levels; a pasted patch moves the cells it
covers by tens of levels. The layout is specified in ``spec/assertions.md``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

__all__ = ["ALGORITHM", "Fingerprint", "FingerprintComparison", "fingerprint"]

ALGORITHM = "org.avatar-provenance.fingerprint.luma-grid.1"
GRID = 32
_CELL = 4  # pixels per cell side on the 128x128 working image
# Largest per-cell change (in 8-bit luma levels) still taken as the same picture. Measured on
# synthetic avatar frames: JPEG q75-q95 moves cells by 1-2 levels, halving the size by up to 8
# (cell contrast drops with the lost detail); a pasted patch moved the cells it covers by ~90.
DEFAULT_TOLERANCE = 16


@dataclass(frozen=True)
class Fingerprint:
    """Cell means and cell standard deviations of the luma, ``GRID`` x ``GRID`` each."""

    means: NDArray[np.uint8]
    contrasts: NDArray[np.uint8]

    def encode(self) -> str:
        """Base64 of the means then the contrasts, row-major, one byte per cell."""
        return base64.b64encode(self.means.tobytes() + self.contrasts.tobytes()).decode()

    @classmethod
    def decode(cls, text: str) -> Fingerprint:
        """Parse :meth:`encode`'s output.

        Raises:
            ValueError: wrong length or not base64.
        """
        raw = base64.b64decode(text, validate=True)
        if len(raw) != 2 * GRID * GRID:
            raise ValueError(f"fingerprint has {len(raw)} bytes, expected {2 * GRID * GRID}")
        cells = np.frombuffer(raw, dtype=np.uint8)
        return cls(
            means=cells[: GRID * GRID].reshape(GRID, GRID).copy(),
            contrasts=cells[GRID * GRID :].reshape(GRID, GRID).copy(),
        )

    def compare(
        self, other: Fingerprint, *, tolerance: int = DEFAULT_TOLERANCE
    ) -> FingerprintComparison:
        """How far ``other`` is from this fingerprint, cell by cell."""
        mean_diff = np.abs(self.means.astype(np.int16) - other.means.astype(np.int16))
        contrast_diff = np.abs(self.contrasts.astype(np.int16) - other.contrasts.astype(np.int16))
        worst = np.maximum(mean_diff, contrast_diff)
        return FingerprintComparison(
            max_cell_difference=int(worst.max()),
            changed_cells=int((worst > tolerance).sum()),
            tolerance=tolerance,
        )


@dataclass(frozen=True)
class FingerprintComparison:
    """The outcome of comparing a suspect frame's fingerprint with the signed one."""

    max_cell_difference: int
    changed_cells: int
    tolerance: int

    @property
    def matches(self) -> bool:
        return self.changed_cells == 0


def fingerprint(rgb: NDArray[np.uint8]) -> Fingerprint:
    """The fingerprint of an RGB ``uint8`` frame of any size."""
    # BT.601 luma, as codecs see it; the aspect ratio is discarded on purpose so a
    # resized copy lands on the same grid.
    luma = Image.fromarray(rgb, "RGB").convert("L")
    side = GRID * _CELL
    small = np.asarray(luma.resize((side, side), Image.Resampling.BOX), dtype=np.float32)
    cells = small.reshape(GRID, _CELL, GRID, _CELL).transpose(0, 2, 1, 3).reshape(GRID, GRID, -1)
    means = np.clip(np.rint(cells.mean(axis=2)), 0, 255).astype(np.uint8)
    contrasts = np.clip(np.rint(cells.std(axis=2)), 0, 255).astype(np.uint8)
    return Fingerprint(means=means, contrasts=contrasts)
