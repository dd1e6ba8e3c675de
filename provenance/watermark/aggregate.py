"""Decode a payload from soft evidence summed over the frames of a clip.

One decode attempt per clip: the evidence of every frame is summed first and decoded once,
so the clip's false-alarm probability is that of a single payload decode
(``spec/payload.md``, section 6), however many frames went into it.

Example:
    >>> decoder = ClipDecoder(get_engine("luma-iss"))  # doctest: +SKIP
    >>> for rgb in frames:  # doctest: +SKIP
    ...     decoder.add(rgb)
    >>> decoder.result().content_id  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .base import Detection, SoftBits, WatermarkEngine
from .payload import PAYLOAD_BITS, decode_payload

__all__ = ["ClipDecoder", "decode_soft"]


def decode_soft(engine: str, evidence: SoftBits) -> Detection:
    """Decode summed evidence into a detection attributed to ``engine``."""
    decoded = decode_payload(evidence.hard_bits)
    if decoded is None:
        return Detection(engine=engine)
    return Detection(
        engine=engine,
        content_id=decoded.content_id,
        corrected_bits=decoded.corrected_bits,
        false_alarm_probability=decoded.false_alarm_probability,
    )


class ClipDecoder:
    """Accumulates one engine's per-frame evidence and decodes the sum once."""

    def __init__(self, engine: WatermarkEngine) -> None:
        self._engine = engine
        self._evidence = SoftBits(values=np.zeros(PAYLOAD_BITS), frames=0)

    @property
    def frames(self) -> int:
        """How many frames have been added."""
        return self._evidence.frames

    def add(self, rgb: NDArray[np.uint8]) -> None:
        """Read one RGB frame's evidence and add it to the sum."""
        self.add_evidence(self._engine.read_soft(rgb))

    def add_evidence(self, evidence: SoftBits) -> None:
        """Add evidence read elsewhere (for example from a luma plane)."""
        self._evidence = self._evidence + evidence

    def result(self) -> Detection:
        """Decode everything added so far; not detected when nothing was added."""
        if self._evidence.frames == 0:
            return Detection(engine=self._engine.name)
        return decode_soft(self._engine.name, self._evidence)
