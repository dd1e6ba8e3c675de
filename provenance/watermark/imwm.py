"""Adapter for ``invisible-watermark`` (``imwatermark``): the DWT-DCT(-SVD) chroma marks.

``imwatermark`` is imported through :mod:`._imwatermark`, and only inside the functions that
run it: importing it always imports torch (~1.3 s), which the CLI must not pay at start-up.

The adapter absorbs the library's hazards (``spec/payload.md`` and the watermark notes):
it wants BGR, raises ``RuntimeError`` below 256x256 and ``NameError`` for unknown methods,
and stores float results into ``uint8`` without rounding or clipping (values truncate, and
wrap outside 0..255), so the adapter embeds in float and clips once at the end.
Callers see RGB in, RGB out, and only errors from :mod:`provenance.errors`.

Example:
    >>> engine = DwtDctSvdEngine()
    >>> marked = engine.embed(rgb, ContentId.mint(issuer=1))  # doctest: +SKIP
    >>> engine.detect(marked).content_id  # doctest: +SKIP
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
from numpy.typing import NDArray

from ..errors import WatermarkError
from ._arrays import check_rgb
from ._imwatermark import import_imwatermark as _import_imwatermark
from .aggregate import decode_soft
from .base import Detection, SoftBits
from .payload import PAYLOAD_BITS, PAYLOAD_LAYOUT, ContentId, encode_payload

__all__ = ["DwtDctEngine", "DwtDctSvdEngine"]

_logger = logging.getLogger(__name__)

# imwatermark stores its float result into the uint8 YUV array it made from a uint8 input:
# values truncate (a -0.5 U bias that eats ~4 of the QIM margin of 9 and lost a synthetic
# face after JPEG q85) and wrap outside 0..255. Feeding float32 avoids both, but OpenCV's
# float BGR->YUV centres U at 0.5 instead of 128, which the uint8 decoder would misread.
# U = 0.492 (B - Y) with Y = ... + 0.114 B, so adding this to B lifts U by exactly 127.5;
# the conversions are linear in float, and the shift comes off B afterwards.
_BLUE_SHIFT = 127.5 / (0.492 * (1.0 - 0.114))

# A genuine mark moves U by at most ~14 levels (QIM step 36 on the Haar LL band, halved by
# the inverse transform) plus the library's swapped-detail-band error, which is small on
# smooth content but not at sharp chroma edges. Pixels that moved further keep their
# original value: that costs the mark a few votes, not the image.
_MAX_CHROMA_STEP = 48


class _ImwmEngine:
    """Shared body of the imwatermark engines; subclasses pick the method."""

    name: str
    alg: str
    method: str
    alg_params: str = f"payload={PAYLOAD_LAYOUT};bits={PAYLOAD_BITS}"
    # imwatermark only checks H*W >= 256*256; requiring both sides keeps enough blocks per
    # bit (>= 6 votes each for 156 bits) and a clear, per-dimension error message.
    min_height: int = 256
    min_width: int = 256

    def embed(self, rgb: NDArray[np.uint8], content_id: ContentId) -> NDArray[np.uint8]:
        """Return a marked copy of ``rgb`` carrying ``content_id``; ``rgb`` is not modified.

        Args:
            rgb: ``(height, width, 3)`` RGB ``uint8`` image, at least 256x256.
            content_id: the id to embed.

        Returns:
            A new ``uint8`` array of the same shape.

        Raises:
            ImageTooSmallError: the image is below 256x256.
            InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
            WatermarkError: imwatermark failed.
        """
        self._check(rgb)
        imwatermark = _import_imwatermark(self.name)
        bits = [int(b) for b in encode_payload(content_id)]
        # A new float array, so the caller's pixels are never handed to the library.
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR).astype(np.float32)
        bgr[..., 0] += _BLUE_SHIFT
        try:
            encoder = imwatermark.WatermarkEncoder()
            encoder.set_watermark("bits", bits)
            marked_bgr = np.asarray(encoder.encode(bgr, self.method), dtype=np.float32)
        except Exception as exc:
            raise WatermarkError(f"{self.name}: embedding failed: {exc}") from exc
        if marked_bgr.shape != bgr.shape:
            raise WatermarkError(f"{self.name}: engine returned shape {marked_bgr.shape}")
        marked_bgr[..., 0] -= _BLUE_SHIFT
        marked_bgr8: NDArray[np.uint8] = np.clip(np.rint(marked_bgr), 0, 255).astype(np.uint8)
        marked = np.ascontiguousarray(marked_bgr8[..., ::-1])
        return self._undo_chroma_damage(rgb, marked)

    def detect(self, rgb: NDArray[np.uint8]) -> Detection:
        """Look for a payload in ``rgb``.

        Args:
            rgb: ``(height, width, 3)`` RGB ``uint8`` image, at least 256x256.

        Returns:
            The detection; not detected when the read-back bits do not decode.

        Raises:
            ImageTooSmallError: the image is below 256x256.
            InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
            WatermarkError: imwatermark failed.
        """
        return decode_soft(self.name, self.read_soft(rgb))

    def read_soft(self, rgb: NDArray[np.uint8]) -> SoftBits:
        """One hard vote (+1 or -1) per bit: imwatermark exposes no soft values.

        Raises:
            ImageTooSmallError: the image is below 256x256.
            InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
            WatermarkError: imwatermark failed.
        """
        self._check(rgb)
        imwatermark = _import_imwatermark(self.name)
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        try:
            bits = imwatermark.WatermarkDecoder("bits", PAYLOAD_BITS).decode(bgr, self.method)
        except Exception as exc:
            raise WatermarkError(f"{self.name}: detection failed: {exc}") from exc
        votes = np.where(np.asarray(bits, dtype=np.uint8) != 0, 1.0, -1.0)
        return SoftBits(values=votes.astype(np.float64))

    def _check(self, rgb: NDArray[np.uint8]) -> None:
        check_rgb(rgb, self.name, self.min_height, self.min_width)

    def _undo_chroma_damage(
        self, original: NDArray[np.uint8], marked: NDArray[np.uint8]
    ) -> NDArray[np.uint8]:
        """Restore pixels whose chroma moved more than a mark can (detail-band swap damage)."""
        u_before = cv2.cvtColor(original, cv2.COLOR_RGB2YUV)[..., 1].astype(np.int16)
        u_after = cv2.cvtColor(marked, cv2.COLOR_RGB2YUV)[..., 1].astype(np.int16)
        damaged = np.abs(u_after - u_before) > _MAX_CHROMA_STEP
        count = int(damaged.sum())
        if count:
            _logger.debug("%s: restored %d over-shifted pixels", self.name, count)
            marked[damaged] = original[damaged]
        return marked


class DwtDctSvdEngine(_ImwmEngine):
    """imwatermark ``dwtDctSvd``: the default; survives JPEG q85 on synthetic faces."""

    name = "imwm-dwtdctsvd"
    alg = "org.avatar-provenance.imwatermark.dwtdctsvd.1"
    method = "dwtDctSvd"


class DwtDctEngine(_ImwmEngine):
    """imwatermark ``dwtDct``: faster, but misreads even unattacked smooth content.

    Kept selectable for compatibility; not the default.
    """

    name = "imwm-dwtdct"
    alg = "org.avatar-provenance.imwatermark.dwtdct.1"
    method = "dwtDct"
