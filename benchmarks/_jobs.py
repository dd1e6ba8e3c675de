"""Units of work that run in worker processes: make or mark a frame, attack and read media.

Why processes: the imwatermark engines are single-threaded Python loops and the encoders
run with one thread each, so two workers use both cores of the target machine. Every job
is a small picklable description; workers regenerate content from it (see ``_media``)
instead of receiving frames, and return only numbers (except the frame jobs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from provenance.watermark import (
    ClipDecoder,
    ContentId,
    SoftBits,
    WatermarkEngine,
    encode_payload,
    get_engine,
)

from . import _media
from ._attacks import CLIP_ATTACKS, STILL_ATTACKS, apply_chain, resample_fps
from ._metrics import bit_accuracy

__all__ = [
    "ClipJob",
    "FramesJob",
    "ReadResult",
    "Reader",
    "StillJob",
    "frame_batches",
    "init_worker",
    "make_frames",
    "run_clip_job",
    "run_still_job",
    "sample_indices",
]

RGB = NDArray[np.uint8]


def init_worker() -> None:
    """Single-threaded OpenCV, so timings and core use are predictable."""
    cv2.setNumThreads(1)


@dataclass(frozen=True)
class FramesJob:
    """Frames ``indices`` of clip ``kind``, marked by ``engine`` with ``content_id`` if set."""

    kind: _media.ClipKind
    indices: tuple[int, ...]
    height: int
    width: int
    seed: int
    engine: str | None = None
    content_id: ContentId | None = None


def frame_batches(engine: str | None, frames: int) -> list[tuple[int, ...]]:
    """How to split a clip's frames into jobs.

    An engine with a clip marker (``luma-iss``: it follows the camera from frame to frame)
    marks its clip in order in one job, as a vendor's renderer would; stateless engines get
    one job per frame so slow ones (imwatermark) spread over every worker.
    """
    if engine is not None and hasattr(get_engine(engine), "clip_marker"):
        return [tuple(range(frames))]
    return [(i,) for i in range(frames)]


def make_frames(job: FramesJob) -> list[RGB]:
    """Generate (and optionally mark, in order) some frames of a clip."""
    frames = [
        _media.clip_frame(job.kind, i, job.height, job.width, seed=job.seed) for i in job.indices
    ]
    if job.engine is None or job.content_id is None:
        return frames
    engine = get_engine(job.engine)
    clip_marker = getattr(engine, "clip_marker", None)
    if clip_marker is not None:
        marker = clip_marker(job.content_id)
        return [marker.mark_rgb(rgb) for rgb in frames]
    return [engine.embed(rgb, job.content_id) for rgb in frames]


@dataclass(frozen=True)
class Reader:
    """An engine that reads media; ``content_id`` is what it should find (None: unmarked)."""

    engine: str
    content_id: ContentId | None


@dataclass(frozen=True)
class ReadResult:
    """What one engine read from one item (a still or a clip) after one attack.

    Attributes:
        engine: the reading engine.
        attack: the attack name.
        detected: whether any valid payload decoded.
        recovered: whether the decoded id is the embedded one (False when unmarked).
        frame_accuracy: mean per-frame bit accuracy, or None when unmarked.
        clip_accuracy: bit accuracy of the summed evidence, or None when unmarked.
        frames_read: frames whose evidence was read.
        frames_total: frames in the attacked item.
    """

    engine: str
    attack: str
    detected: bool
    recovered: bool
    frame_accuracy: float | None
    clip_accuracy: float | None
    frames_read: int
    frames_total: int


@dataclass(frozen=True)
class StillJob:
    """A still (an avatar ``seed``, or flat grey when None), marked or not, all attacks."""

    seed: int | None
    height: int
    width: int
    attacks: tuple[str, ...]
    readers: tuple[Reader, ...]
    marked_by: str | None = None


def run_still_job(job: StillJob) -> list[ReadResult]:
    """Mark the still if asked, apply every attack, and let every reader detect."""
    if job.seed is None:
        rgb = _media.flat_grey(job.height, job.width)
    else:
        rgb = _media.still(job.height, job.width, seed=job.seed)
    if job.marked_by is not None:
        cid = job.readers[0].content_id
        if cid is None:
            raise ValueError("a marked still needs its reader's content id")
        rgb = get_engine(job.marked_by).embed(rgb, cid)
    results = []
    for name in job.attacks:
        attacked = apply_chain(rgb, STILL_ATTACKS[name])
        for reader in job.readers:
            engine = get_engine(reader.engine)
            soft = engine.read_soft(attacked)
            results.append(_result(engine, reader, name, [soft], ClipDecoder(engine), 1))
    return results


@dataclass(frozen=True)
class ClipJob:
    """Attack one delivered clip (a file on disk) and let every reader decode it."""

    path: str
    attack: str
    readers: tuple[Reader, ...]
    sample: int


def sample_indices(total: int, sample: int) -> list[int]:
    """``sample`` evenly spaced frame indices out of ``total`` (all when fewer)."""
    if total <= sample:
        return list(range(total))
    return sorted({round(i) for i in np.linspace(0, total - 1, sample)})


def attack_clip(data: bytes, attack: str) -> bytes:
    """Decode ``data``, apply clip attack ``attack``, re-encode; ``delivered`` is identity."""
    if attack == "delivered":
        return data
    spec = CLIP_ATTACKS[attack]
    decoded = list(_media.decode_clip(data))
    frames = [d.rgb() for d in decoded]
    if spec.fps != _media.FPS:
        picks = resample_fps([d.time for d in decoded], _media.FPS, spec.fps)
        frames = [frames[i] for i in picks]
    attacked = (apply_chain(rgb, spec.pixels) for rgb in frames)
    return _media.encode_clip(attacked, spec.codec, fps=spec.fps)


def run_clip_job(job: ClipJob) -> list[ReadResult]:
    """Attack the clip once, then read it with each engine.

    Engines with ``read_soft_luma`` read the Y plane of every frame; the others read RGB
    from ``sample`` evenly spaced frames, because imwatermark costs 0.1-0.4 s per frame.
    """
    with open(job.path, "rb") as handle:
        attacked = attack_clip(handle.read(), job.attack)
    decoded = list(_media.decode_clip(attacked))
    results = []
    for reader in job.readers:
        engine = get_engine(reader.engine)
        read_luma = getattr(engine, "read_soft_luma", None)
        if read_luma is not None:
            evidence = [read_luma(d.luma()) for d in decoded]
        else:
            picks = sample_indices(len(decoded), job.sample)
            evidence = [engine.read_soft(decoded[i].rgb()) for i in picks]
        results.append(
            _result(engine, reader, job.attack, evidence, ClipDecoder(engine), len(decoded))
        )
    return results


def _result(
    engine: WatermarkEngine,
    reader: Reader,
    attack: str,
    evidence: Sequence[SoftBits],
    decoder: ClipDecoder,
    total: int,
) -> ReadResult:
    for soft in evidence:
        decoder.add_evidence(soft)
    detection = decoder.result()
    frame_acc = clip_acc = None
    if reader.content_id is not None:
        expected = encode_payload(reader.content_id)
        frame_acc = float(np.mean([bit_accuracy(s, expected) for s in evidence]))
        clip_acc = bit_accuracy(sum(evidence[1:], evidence[0]), expected)
    return ReadResult(
        engine=engine.name,
        attack=attack,
        detected=detection.detected,
        recovered=reader.content_id is not None and detection.content_id == reader.content_id,
        frame_accuracy=frame_acc,
        clip_accuracy=clip_acc,
        frames_read=len(evidence),
        frames_total=total,
    )
