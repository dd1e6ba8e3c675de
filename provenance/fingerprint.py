"""A coarse perceptual fingerprint that tells a re-encode from an edit.

When a platform strips the manifest and re-encodes a stamped frame, the watermark leads back
to the signed manifest, but the manifest's hard binding (a hash of the exact bytes) no longer
matches, and it cannot: the bytes changed. What must still be caught is a *content* change,
such as a patch pasted over the face. The signed manifest therefore also carries this
fingerprint: the luma of the frame reduced to a grid of cell means and cell contrasts
(32x32 for a still, 16x16 for each sampled frame of a clip). Re-encoding and resizing move
each cell by a few levels; a pasted patch moves the cells it covers by tens of levels. The
layout is specified in ``spec/assertions.md``.

A clip carries a :class:`FingerprintTimeline`: one 16x16 fingerprint per second (by default)
taken from the decoded frames' Y plane with :func:`luma_fingerprint`, so a verifier can
check a frame of a re-encoded copy against the signed entry nearest in time. Measured on
synthetic clips (``benchmarks/_media.py``, 854x480, seeds 0-3, worst cell over every frame;
table in ``spec/assertions.md``): H.264 CRF 28 moves a 16x16 cell by at most 2 levels, CRF 35
or a 720p CRF 23 to 480p CRF 28 re-encode by at most 6, the PNG of an extracted frame against
the signed YUV plane by 2; the next frame of a talking head (33 ms later, the mouth moving)
by up to 14, but two frames later by up to 24. A background patch pasted over the face
(80x107 px or more at 480p) moves the cells it covers by at least 22. So the same
:data:`DEFAULT_TOLERANCE` (16) serves stills and clips, provided the verifier compares
frames within one frame period of an entry's time.

Example::

    from provenance.fingerprint import TimelineBuilder, luma_fingerprint

    builder = TimelineBuilder()                  # one 16x16 fingerprint per second
    for t_ms, y_plane in decoded_frames:         # e.g. from PyAV, yuv420p plane 0
        builder.offer(t_ms, y_plane, full_range=False)
    timeline = builder.build()
    signed_at, signed = timeline.nearest(t_ms)   # later, at verification
    signed.compare(luma_fingerprint(y_plane, full_range=False, grid=16)).matches
"""

from __future__ import annotations

import base64
import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

__all__ = [
    "ALGORITHM",
    "CLIP_GRID",
    "DEFAULT_TOLERANCE",
    "GRID",
    "Fingerprint",
    "FingerprintComparison",
    "FingerprintTimeline",
    "TimelineBuilder",
    "fingerprint",
    "luma_fingerprint",
]

ALGORITHM = "org.avatar-provenance.fingerprint.luma-grid.1"
GRID = 32
"""Cells per side of a still's fingerprint."""
CLIP_GRID = 16
"""Cells per side of each fingerprint in a clip's timeline."""
_CELL = 4  # pixels per cell side on the working image (128x128 for a still, 64x64 for a clip)
# Largest per-cell change (in 8-bit luma levels) still taken as the same picture. Measured on
# synthetic avatar frames: JPEG q75-q95 moves cells by 1-2 levels, halving the size by up to 8
# (cell contrast drops with the lost detail); a pasted patch moved the cells it covers by ~90.
# For 16x16 clip fingerprints: re-encodes up to 6, the next frame of a talking head up to 14,
# a pasted patch 22 or more (module docstring).
DEFAULT_TOLERANCE = 16

# Limited-range ("TV") Y spans 16..235; this table stretches it to 0..255 as BT.601 full
# range, which is what Pillow's RGB-to-L conversion produces for the same picture.
_EXPAND_LIMITED: list[int] = (
    np.clip(np.rint((np.arange(256) - 16) * (255 / 219)), 0, 255).astype(np.uint8).tolist()
)


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """Cell means and cell standard deviations of the luma, ``grid`` x ``grid`` each.

    Two fingerprints are equal when every cell is; use :meth:`compare` for "the same
    picture".
    """

    means: NDArray[np.uint8]
    contrasts: NDArray[np.uint8]

    def __post_init__(self) -> None:
        shape = self.means.shape
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
            raise ValueError(f"fingerprint cells must be a square grid, got {shape}")
        if self.contrasts.shape != shape:
            raise ValueError(f"contrasts {self.contrasts.shape} differ from means {shape}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self.encode() == other.encode()

    def __hash__(self) -> int:
        return hash(self.encode())

    @property
    def grid(self) -> int:
        """Cells per side."""
        return int(self.means.shape[0])

    def encode(self) -> str:
        """Base64 of the means then the contrasts, row-major, one byte per cell."""
        return base64.b64encode(self.means.tobytes() + self.contrasts.tobytes()).decode()

    @classmethod
    def decode(cls, text: str, *, grid: int = GRID) -> Fingerprint:
        """Parse :meth:`encode`'s output for a ``grid`` x ``grid`` fingerprint.

        Raises:
            ValueError: wrong length or not base64.
        """
        raw = base64.b64decode(text, validate=True)
        cells = grid * grid
        if len(raw) != 2 * cells:
            raise ValueError(f"fingerprint has {len(raw)} bytes, expected {2 * cells}")
        values = np.frombuffer(raw, dtype=np.uint8)
        return cls(
            means=values[:cells].reshape(grid, grid).copy(),
            contrasts=values[cells:].reshape(grid, grid).copy(),
        )

    def compare(
        self, other: Fingerprint, *, tolerance: int = DEFAULT_TOLERANCE
    ) -> FingerprintComparison:
        """How far ``other`` is from this fingerprint, cell by cell.

        Args:
            other: a fingerprint of the same grid size.
            tolerance: the largest per-cell change still taken as the same picture.

        Raises:
            ValueError: the grid sizes differ.
        """
        if other.grid != self.grid:
            raise ValueError(
                f"cannot compare a {self.grid}x{self.grid} fingerprint with a "
                f"{other.grid}x{other.grid} one"
            )
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


def fingerprint(rgb: NDArray[np.uint8], *, grid: int = GRID) -> Fingerprint:
    """The fingerprint of an RGB ``uint8`` frame of any size."""
    # BT.601 luma, as codecs see it; the aspect ratio is discarded on purpose so a
    # resized copy lands on the same grid.
    return _cells(Image.fromarray(rgb, "RGB").convert("L"), grid)


def luma_fingerprint(y: NDArray[np.uint8], *, full_range: bool, grid: int = GRID) -> Fingerprint:
    """The fingerprint of a decoded video frame's Y plane, comparable with :func:`fingerprint`.

    Args:
        y: the ``(H, W)`` luma plane (e.g. plane 0 of a ``yuv420p`` frame).
        full_range: True for JPEG-range Y (0..255); False for the usual limited range
            (16..235), which is stretched to full range first so the plane lands on the
            fingerprint of the RGB picture it encodes. The colour matrix is taken as BT.601;
            a BT.709 clip's Y differs by a level or two on saturated colours.
        grid: cells per side (:data:`CLIP_GRID` for a clip's timeline).

    Raises:
        ValueError: ``y`` is not a two-dimensional ``uint8`` array.
    """
    if y.ndim != 2 or y.dtype != np.uint8:
        raise ValueError(f"a luma plane is a 2-D uint8 array, got {y.dtype} {y.shape}")
    luma = Image.fromarray(np.ascontiguousarray(y), "L")
    if not full_range:
        # Pillow's table lookup: the same bytes as indexing the array, 3x faster at 1080p,
        # and a clip's timeline looks at about a third of its frames.
        luma = luma.point(_EXPAND_LIMITED)
    return _cells(luma, grid)


def _cells(luma: Image.Image, grid: int) -> Fingerprint:
    if grid < 1:
        raise ValueError(f"grid must be positive, got {grid}")
    side = grid * _CELL
    small = np.asarray(luma.resize((side, side), Image.Resampling.BOX), dtype=np.float32)
    cells = small.reshape(grid, _CELL, grid, _CELL).transpose(0, 2, 1, 3).reshape(grid, grid, -1)
    means = np.clip(np.rint(cells.mean(axis=2)), 0, 255).astype(np.uint8)
    contrasts = np.clip(np.rint(cells.std(axis=2)), 0, 255).astype(np.uint8)
    return Fingerprint(means=means, contrasts=contrasts)


@dataclass(frozen=True)
class FingerprintTimeline:
    """Fingerprints of a clip's frames by presentation time (ms), in increasing order.

    ``interval_ms`` is the sampling interval the entries were taken on: each entry is the
    first frame at or after a multiple of it, so consecutive entries are at least that far
    apart (further where frames were missing, or where a long clip was thinned to its
    ``max_entries``).
    """

    grid: int
    entries: tuple[tuple[int, Fingerprint], ...]
    interval_ms: int = 1000

    def __post_init__(self) -> None:
        if self.grid < 1 or self.interval_ms < 1:
            raise ValueError("timeline grid and interval must be positive")
        previous = -1
        for t_ms, value in self.entries:
            if t_ms <= previous:
                raise ValueError(
                    f"timeline times must increase from 0, got {t_ms} after {previous}"
                )
            if value.grid != self.grid:
                raise ValueError(f"entry at {t_ms} ms is {value.grid}x, not {self.grid}x")
            previous = t_ms

    def encode(self) -> dict[str, Any]:
        """The JSON form used in the clip assertion (``spec/assertions.md``)."""
        return {
            "alg": ALGORITHM,
            "grid": self.grid,
            "interval_ms": self.interval_ms,
            "entries": [{"t_ms": t_ms, "value": value.encode()} for t_ms, value in self.entries],
        }

    @classmethod
    def decode(cls, data: Mapping[str, Any]) -> FingerprintTimeline:
        """Parse :meth:`encode`'s output.

        Raises:
            ValueError: an unknown ``alg``, a missing or mistyped field, a value of the
                wrong length, or times that do not increase.
        """
        if not isinstance(data, Mapping):
            raise ValueError("a fingerprint timeline is a JSON object")
        if data.get("alg") != ALGORITHM:
            raise ValueError(f"unknown fingerprint alg {data.get('alg')!r}")
        grid = _integer(data, "grid")
        interval_ms = _integer(data, "interval_ms")
        items = data.get("entries")
        if not isinstance(items, list):
            raise ValueError("timeline entries must be a list")
        entries = []
        for item in items:
            if not isinstance(item, Mapping) or not isinstance(item.get("value"), str):
                raise ValueError(f"malformed timeline entry {item!r}")
            entries.append((_integer(item, "t_ms"), Fingerprint.decode(item["value"], grid=grid)))
        return cls(grid=grid, entries=tuple(entries), interval_ms=interval_ms)

    def nearest(self, t_ms: int) -> tuple[int, Fingerprint] | None:
        """The entry closest in time to ``t_ms`` (the earlier on a tie); None if empty."""
        if not self.entries:
            return None
        times = [t for t, _ in self.entries]
        index = bisect.bisect_left(times, t_ms)
        if index == len(times) or (index > 0 and t_ms - times[index - 1] <= times[index] - t_ms):
            index -= 1
        return self.entries[index]


def _integer(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    # bool is an int in Python but never a valid count or time here.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"timeline field {key!r} must be an integer, got {value!r}")
    return value


class TimelineBuilder:
    """Collects a :class:`FingerprintTimeline` while a clip's frames go by.

    Call :meth:`offer` with every decoded frame in presentation order. After each multiple
    of ``interval_ms`` it looks at the next few frames (``window_ms``) and keeps the one
    that differs least from its neighbours: a verifier of a copy whose frame rate changed
    sees each moment up to one frame early or late, and at a hard cut or mid-syllable that
    is another picture, while at a still moment it is the same one. Frames outside the
    windows return at once, the plane untouched. :meth:`build` keeps at most
    ``max_entries``, evenly spread over the clip, so a long clip's manifest stays small
    (each 16x16 entry is ~700 bytes of base64).
    """

    def __init__(
        self,
        interval_ms: int = 1000,
        max_entries: int = 600,
        grid: int = CLIP_GRID,
        window_ms: int | None = None,
    ):
        """Set the sampling interval, the cap on entries, the grid and the search window
        (default: 300 ms, or a third of the interval if that is shorter).

        Raises:
            ValueError: any of them is not positive, or the window is not shorter than
                the interval.
        """
        if window_ms is None:
            window_ms = max(1, min(300, interval_ms // 3))
        if interval_ms < 1 or max_entries < 1 or grid < 1 or window_ms < 1:
            raise ValueError("interval_ms, max_entries, grid and window_ms must be positive")
        if window_ms >= interval_ms:
            raise ValueError("window_ms must be shorter than interval_ms")
        self.interval_ms = interval_ms
        self.max_entries = max_entries
        self.grid = grid
        self.window_ms = window_ms
        self._next_ms = 0
        self._window_end: int | None = None
        # (time, fingerprint, worst difference to a neighbour seen so far) per window frame
        self._candidates: list[tuple[int, Fingerprint, tuple[int, int]]] = []
        self._entries: list[tuple[int, Fingerprint]] = []

    def offer(self, t_ms: int, y: NDArray[np.uint8], *, full_range: bool) -> None:
        """Consider this frame for the timeline.

        Args:
            t_ms: the frame's presentation time in ms (frames before 0 are skipped).
            y: its luma plane, as for :func:`luma_fingerprint`.
            full_range: whether ``y`` is full range.
        """
        if self._window_end is not None and t_ms >= self._window_end:
            self._close_window()
        if self._window_end is None:
            if t_ms < self._next_ms:
                return
            self._window_end = t_ms + self.window_ms
        found = luma_fingerprint(y, full_range=full_range, grid=self.grid)
        if self._candidates:
            previous_t, previous, worst = self._candidates[-1]
            step = _difference(previous, found)
            self._candidates[-1] = (previous_t, previous, max(worst, step))
            self._candidates.append((t_ms, found, step))
        else:
            self._candidates.append((t_ms, found, (0, 0)))

    def build(self) -> FingerprintTimeline:
        """The timeline so far; the first and last entries are always kept."""
        if self._candidates:
            self._close_window()
        entries = self._entries
        if len(entries) > self.max_entries:
            picks = np.rint(np.linspace(0, len(entries) - 1, self.max_entries)).astype(int)
            entries = [entries[i] for i in picks]
        return FingerprintTimeline(
            grid=self.grid, entries=tuple(entries), interval_ms=self.interval_ms
        )

    def _close_window(self) -> None:
        # The last candidate's later neighbour is unknown; with more than one candidate,
        # prefer frames whose both neighbours were seen.
        scored = self._candidates[:-1] if len(self._candidates) > 1 else self._candidates
        t_ms, chosen, _ = min(scored, key=lambda c: (c[2], c[0]))
        self._entries.append((t_ms, chosen))
        start = self._candidates[0][0]
        self._next_ms = (start // self.interval_ms + 1) * self.interval_ms
        self._window_end = None
        self._candidates = []


def _difference(a: Fingerprint, b: Fingerprint) -> tuple[int, int]:
    comparison = a.compare(b)
    return comparison.changed_cells, comparison.max_cell_difference
