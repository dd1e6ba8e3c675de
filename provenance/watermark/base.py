"""The contract every watermark engine meets, and the result of a detection.

Engines work on RGB ``uint8`` arrays of shape ``(height, width, 3)``; any colour conversion
an underlying library needs happens inside its adapter. An engine embeds the bits of
:func:`~provenance.watermark.payload.encode_payload` and decodes with
:func:`~provenance.watermark.payload.decode_payload`, so "detected" always means a BCH- and
CRC-valid payload, never a bit-match threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from .payload import ContentId

__all__ = ["Detection", "SoftBits", "WatermarkEngine"]


@dataclass(frozen=True)
class Detection:
    """What one engine found in one image.

    A not-detected result is a normal value (all optional fields None), not an error.

    Attributes:
        engine: the engine name, e.g. ``"imwm-dwtdctsvd"``.
        content_id: the recovered id, or None when no valid payload was found.
        corrected_bits: bit errors the payload code corrected, or None.
        false_alarm_probability: chance that an unmarked image yields this result, or None.
    """

    engine: str
    content_id: ContentId | None = None
    corrected_bits: int | None = None
    false_alarm_probability: float | None = None

    @property
    def detected(self) -> bool:
        """Whether a valid payload was found."""
        return self.content_id is not None

    @property
    def confidence(self) -> float:
        """``1 - false_alarm_probability`` when detected, else 0.0."""
        if self.content_id is None or self.false_alarm_probability is None:
            return 0.0
        return 1.0 - self.false_alarm_probability


@dataclass(frozen=True)
class SoftBits:
    """Soft evidence for each payload bit, read from one frame or summed over many.

    Evidence is additive: the evidence of a clip is the sum of its frames' evidence, which
    is how a clip decodes where single frames are too degraded (``spec/payload.md``).

    Attributes:
        values: float64 vector of :data:`~provenance.watermark.payload.PAYLOAD_BITS`
            values; a positive value votes for a 1 bit, its magnitude is the confidence.
        frames: how many frames contributed.
    """

    values: NDArray[np.float64]
    frames: int = 1

    def __add__(self, other: SoftBits) -> SoftBits:
        return SoftBits(values=self.values + other.values, frames=self.frames + other.frames)

    @property
    def hard_bits(self) -> NDArray[np.uint8]:
        """The bit each value votes for (ties read as 0)."""
        bits: NDArray[np.uint8] = (self.values > 0).astype(np.uint8)
        return bits


class WatermarkEngine(Protocol):
    """An invisible-watermark engine, looked up by name through the registry.

    Attributes:
        name: registry name, e.g. ``"imwm-dwtdctsvd"``.
        alg: C2PA soft-binding algorithm id written into the manifest.
        alg_params: soft-binding parameters, e.g. ``"payload=ap1;bits=156"``.
        min_height: smallest image height the engine accepts, in pixels.
        min_width: smallest image width the engine accepts, in pixels.
    """

    name: str
    alg: str
    alg_params: str
    min_height: int
    min_width: int

    def embed(self, rgb: NDArray[np.uint8], content_id: ContentId) -> NDArray[np.uint8]:
        """Return a marked copy of ``rgb``; the input is never modified.

        Args:
            rgb: ``(height, width, 3)`` RGB ``uint8`` image.
            content_id: the id to embed.

        Returns:
            A new array of the same shape and dtype.

        Raises:
            ImageTooSmallError: the image is below ``min_height`` x ``min_width``.
            InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
            WatermarkError: the underlying engine failed.
        """
        ...

    def detect(self, rgb: NDArray[np.uint8]) -> Detection:
        """Look for a payload in ``rgb``.

        Args:
            rgb: ``(height, width, 3)`` RGB ``uint8`` image.

        Returns:
            The detection; ``detected`` is False when no valid payload was found.

        Raises:
            ImageTooSmallError: the image is below ``min_height`` x ``min_width``.
            InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
            WatermarkError: the underlying engine failed.
        """
        ...

    def read_soft(self, rgb: NDArray[np.uint8]) -> SoftBits:
        """Read per-bit evidence from one frame, to be summed over a clip.

        Args:
            rgb: ``(height, width, 3)`` RGB ``uint8`` image.

        Raises:
            ImageTooSmallError: the image is below ``min_height`` x ``min_width``.
            InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
            WatermarkError: the underlying engine failed.
        """
        ...
