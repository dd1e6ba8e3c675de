"""The native engine: an informed spread-spectrum mark in the luma plane (``luma-iss``).

Designed for video first (``spec/payload.md``, section 7):

- It adds a smooth residual to luma only: the plane PyAV hands over for YUV frames (no
  colour round trip), and, for RGB images, the same residual added to R, G and B, which
  changes luma by exactly that residual and leaves chroma alone. Codecs keep luma at full
  resolution; 4:2:0 chroma is where imwatermark's marks die.
- The pattern sits on a canonical grid stretched over the frame, so a 1080p original still
  decodes at 720p, 480p or 360p.
- Informed embedding (ISS, Malvar and Florencio 2003): the embedder measures what the host
  frame already projects onto each bit and cancels it, so detection is limited by the
  attack, not by the picture.
- Texture masking: flat areas get a weaker mark, where it would be visible and where a
  codec would spend the most bits keeping it.
- :class:`LumaMarker` marks a clip and moves the pattern with the camera (global zoom and
  translation, tracked on the frame borders), so a codec's motion compensation carries the
  mark for free in panning shots instead of re-coding it in every frame. The followed zoom
  stays within the +-3 % the detector searches and re-anchors when it leaves.
- Soft evidence per bit is a z-score, additive over frames; the detector aligns each frame
  to the sync pattern first (``_luma_sync``: scale and offset), which absorbs shifts,
  central crops, the marker's zoom and the drift a codec's motion compensation gives the
  mark.

Example:
    >>> engine = LumaIssEngine()
    >>> marked = engine.embed(rgb, ContentId.mint(issuer=1))  # doctest: +SKIP
    >>> engine.detect(marked).content_id  # doctest: +SKIP
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from ..errors import InputError
from ._arrays import check_plane, check_rgb
from ._luma_canvas import Canvas
from ._luma_iss import HeldGrid, fresh_grid
from ._luma_pattern import (
    FINE_SCALE,
    Pattern,
    highpass,
    pattern_for,
    render,
    sample_cells,
)
from ._luma_sync import align, shrink
from ._luma_track import CameraTracker, Placement, StillBorders, tracking_view
from .aggregate import decode_soft
from .base import Detection, SoftBits
from .payload import PAYLOAD_BITS, PAYLOAD_LAYOUT, ContentId, encode_payload

__all__ = ["LIVE_READ_EVERY", "LumaIssEngine", "LumaMarker"]

Float32Array = NDArray[np.float32]
Plane = NDArray[np.uint8]

LIVE_READ_EVERY = 12
"""A live marker reads the host picture on one frame in this many (``spec/live.md``)."""


def _luma_of(rgb: NDArray[np.uint8]) -> Plane:
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


class LumaIssEngine:
    """The native luma engine; stateless, for stills and for reading frames."""

    name = "luma-iss"
    alg = "org.avatar-provenance.luma-iss.1"
    alg_params = f"payload={PAYLOAD_LAYOUT};bits={PAYLOAD_BITS};grid=144x256"
    min_height = 144
    min_width = 144

    def embed(self, rgb: NDArray[np.uint8], content_id: ContentId) -> NDArray[np.uint8]:
        """Return a marked copy of ``rgb``: the luma residual added to all three channels.

        Raises:
            ImageTooSmallError: the image is below 144x144.
            InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
        """
        return LumaMarker(content_id, follow_motion=False).mark_rgb(rgb)

    def embed_luma(self, luma: Plane, content_id: ContentId) -> Plane:
        """Return a marked copy of one luma plane (for example a YUV frame's Y).

        Raises:
            ImageTooSmallError: the plane is below 144x144.
            InputError: ``luma`` is not an ``(H, W)`` ``uint8`` array.
        """
        return LumaMarker(content_id, follow_motion=False).mark(luma)

    def clip_marker(self, content_id: ContentId) -> LumaMarker:
        """A marker for the frames of one clip, in order, that follows the camera."""
        return LumaMarker(content_id)

    def live_marker(self, content_id: ContentId) -> LumaMarker:
        """A clip marker for a live stream: it reads the host every
        :data:`LIVE_READ_EVERY` frames (``spec/live.md``)."""
        return LumaMarker(content_id, read_host_every=LIVE_READ_EVERY)

    def detect(self, rgb: NDArray[np.uint8]) -> Detection:
        """Look for a payload in ``rgb``.

        Raises:
            ImageTooSmallError: the image is below 144x144.
            InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
        """
        return decode_soft(self.name, self.read_soft(rgb))

    def read_soft(self, rgb: NDArray[np.uint8]) -> SoftBits:
        """Per-bit z-scores of one RGB frame, summable over a clip.

        Raises:
            ImageTooSmallError: the image is below 144x144.
            InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
        """
        check_rgb(rgb, self.name)
        return self.read_soft_luma(_luma_of(rgb))

    def read_soft_luma(self, luma: Plane) -> SoftBits:
        """Per-bit z-scores of one luma plane (full or limited range alike).

        Raises:
            ImageTooSmallError: the plane is below 144x144.
            InputError: ``luma`` is not an ``(H, W)`` ``uint8`` array.
        """
        check_plane(luma, self.name, self.min_height, self.min_width)
        height, width = luma.shape
        pattern = pattern_for(portrait=height > width)
        alignment = align(luma, pattern)
        cells = _limit_outliers(sample_cells(alignment.fine, pattern.shape, alignment.offset))
        valid = alignment.valid
        sums = pattern.bit_sums(cells, valid)
        counts = np.bincount(pattern.bit_of[valid], minlength=PAYLOAD_BITS)
        spread = float(cells[valid].std()) if valid.any() else 0.0
        if spread == 0.0:
            return SoftBits(values=np.zeros(PAYLOAD_BITS))
        z = sums / (spread * np.sqrt(np.maximum(counts, 1)))
        return SoftBits(values=z)


class LumaMarker:
    """Marks the frames of one clip with one content id, following the camera.

    Keep one marker per clip and feed it the frames in order: it tracks global zoom and
    translation against a reference frame (not frame to frame, so errors do not
    accumulate) and moves and scales the pattern with the picture, within the zoom band
    the detector reads (``spec/luma-engine.md``, section 2). Rotation is not followed.
    For stills, ``follow_motion=False``.

    Args:
        content_id: the id every frame carries.
        follow_motion: move the pattern with the camera's zoom and translation.
        read_host_every: read the host picture (texture mask and informed amplitudes) on
            every this many frames, and hold the grid, moving with the camera, in
            between. 1 for files; a live stream reads less often to keep the mark's cost
            per frame small next to a fast encoder's (``spec/live.md``).
    """

    def __init__(
        self, content_id: ContentId, *, follow_motion: bool = True, read_host_every: int = 1
    ) -> None:
        self._signs = encode_payload(content_id).astype(np.float64) * 2 - 1
        self._follow = follow_motion
        self._read_every = max(1, read_host_every)
        self._tracker: CameraTracker | None = None
        self._still: StillBorders | None = None
        self._canvas: Canvas | None = None
        # A clip holds its informed grid between frames (``_luma_iss``); stills are alone.
        self._held = HeldGrid(self._signs) if follow_motion else None
        self._grid: Float32Array | None = None
        self._read: Float32Array | None = None
        self._since_read = 0

    @property
    def offset(self) -> tuple[float, float]:
        """Current pattern displacement in grid cells (rows, columns), after the zoom."""
        return self._placement.offset

    @property
    def zoom(self) -> float:
        """Current pattern magnification about the frame centre (1.0: unzoomed)."""
        return self._placement.zoom

    @property
    def _placement(self) -> Placement:
        return Placement() if self._tracker is None else self._tracker.placement

    def mark(self, luma: Plane, out: Plane | None = None) -> Plane:
        """Return the next frame's luma plane marked, in ``out`` if given (``luma`` itself
        marks in place), else in a new array.

        Raises:
            ImageTooSmallError: the plane is below 144x144.
            InputError: ``luma`` is not an ``(H, W)`` ``uint8`` array, or ``out`` is not one
                of its shape.
        """
        check_plane(luma, LumaIssEngine.name, LumaIssEngine.min_height, LumaIssEngine.min_width)
        if out is None:
            out = np.empty_like(luma)
        elif out.shape != luma.shape or out.dtype != np.uint8:
            raise InputError(f"{LumaIssEngine.name}: out must be {luma.shape} uint8")
        place, grid = self._next(luma)
        canvas = self._canvas
        if canvas is None or canvas.shape != luma.shape:
            canvas = self._canvas = Canvas(luma.shape[0], luma.shape[1], grid.shape)
        return canvas.mark(luma, grid, place, out)

    def mark_rgb(self, rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Return a marked copy of the next RGB frame: the luma residual added to R, G and B.

        Raises:
            ImageTooSmallError: the image is below 144x144.
            InputError: ``rgb`` is not an ``(H, W, 3)`` ``uint8`` array.
        """
        check_rgb(rgb, LumaIssEngine.name)
        residual = self.residual(_luma_of(rgb))
        marked = cv2.add(rgb, cv2.merge([residual] * 3), dtype=cv2.CV_8U)
        return np.asarray(marked, dtype=np.uint8)

    def residual(self, luma: Plane) -> Float32Array:
        """The float residual for the next frame's luma plane (added, then rounded)."""
        check_plane(luma, LumaIssEngine.name, LumaIssEngine.min_height, LumaIssEngine.min_width)
        place, grid = self._next(luma)
        return render(grid, luma.shape[0], luma.shape[1], place.offset, place.zoom)

    def _next(self, luma: Plane) -> tuple[Placement, Float32Array]:
        """Where the pattern goes in the next frame, and its grid."""
        pattern = pattern_for(portrait=luma.shape[0] > luma.shape[1])
        if self._held is None:
            small = _thumbnail(luma)
            return Placement(), fresh_grid(self._signs, pattern, _host(small, pattern, Placement()))
        self._since_read += 1
        held = self._grid if self._grid is not None and self._grid.shape == pattern.shape else None
        due = held is None or self._since_read >= self._read_every
        # Checked on every frame: the borders are compared with the frame just before.
        still = self._still is not None and self._still.check(luma)
        if still and not due:
            assert held is not None and self._tracker is not None
            return self._tracker.placement, held
        small = _thumbnail(luma)
        place = self._track(small, luma.shape)
        if self._still is None and self._read_every > 1:
            assert self._tracker is not None
            # Only a marker that reads the host less than every frame skips frames whose
            # borders stand still; a file's marker reads every frame anyway.
            self._still = StillBorders(self._tracker.unread, self._tracker.cell_pixels)
            self._still.check(luma)
        if held is not None and (not due or _same(small, self._read)):
            # Between reads the grid moves with the camera: the host it was read from
            # moved with it.
            return place, held
        self._since_read, self._read = 0, small
        self._grid, _ = self._held.update(pattern, _host(small, pattern, place))
        return place, self._grid

    def _track(self, small: Float32Array, shape: tuple[int, ...]) -> Placement:
        view = tracking_view(small)
        if self._tracker is None or self._tracker.shape != view.shape:
            rows, cols = view.shape
            self._tracker = CameraTracker(view, (shape[0] / rows, shape[1] / cols))
            self._still = None
        return self._tracker.update(view)


def _host(small: Float32Array, pattern: Pattern, place: Placement) -> Float32Array:
    """The host's high-passed cells, read in the geometry the residual is drawn in (or ISS
    would cancel a projection the detector never sees)."""
    return sample_cells(highpass(small), pattern.shape, place.offset, zoom=place.zoom)


def _thumbnail(luma: Plane) -> Float32Array:
    """The host at twice the grid's resolution, which everything the marker measures reads."""
    height, width = luma.shape
    rows, cols = pattern_for(portrait=height > width).shape
    return shrink(luma, FINE_SCALE * cols, FINE_SCALE * rows)


def _same(a: Float32Array, b: Float32Array | None) -> bool:
    return b is not None and a.shape == b.shape and cv2.norm(a, b, cv2.NORM_INF) == 0


def _limit_outliers(cells: Float32Array) -> Float32Array:
    """Clip cells to 3 robust deviations: edges the embedder never saw (a caption bar, a
    logo) would otherwise outweigh the mark in the bits they touch."""
    scale = 1.4826 * float(np.median(np.abs(cells))) + 1e-6
    limited: Float32Array = np.clip(cells, -3 * scale, 3 * scale)
    return limited
