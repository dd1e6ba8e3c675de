"""Examine suspect files in parallel: verify each, hash it, picture it, chart its watermark.

Each file is examined in a worker process (``concurrent.futures``) by the ordinary
:class:`~provenance.verify.Verifier`. Workers get only plain, picklable settings and open
their own repository connection; a file that cannot be read becomes an examination with an
error, so one bad download never sinks the report.

Workers come from a fork server (spawned clean, so no worker inherits a lock held by one of
this process's threads) that has imported the verifier and torch once (``_warm.py``);
spawning each worker instead costs every one of them that import, about as long as
verifying a few stills. Where there is no fork server (Windows), workers are spawned.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .._internal.files import read_input, sha256_file
from ..errors import InputError, ProvenanceError
from ..lifecycle import StatusList
from ..media import load_image, sample_rgb, thumbnail_jpeg
from ..repository import RepositoryUrl, open_repository
from ..trust import TrustAnchors
from ..verify import VerificationReport, Verifier
from ..verify.report import WatermarkSample
from ..verify.video import watermark_timeline
from ..watermark import ContentId

__all__ = ["Examination", "ExamineSettings", "examine", "examine_all", "find_suspects"]

_logger = logging.getLogger(__name__)

# What a folder of downloads is searched for; files named on the command line are always
# examined, whatever their suffix.
MEDIA_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"}
)
_THUMB_EDGE = 320


@dataclass(frozen=True)
class ExamineSettings:
    """How to verify; plain values, so they cross into worker processes.

    Attributes:
        trust_pem: trust anchor certificates (PEM), empty for none.
        repository: the manifest repository, or None.
        allow_untrusted: accept signers that chain to no anchor (unsafe).
        timeline_points: moments of a clip whose watermark evidence is charted.
        thumbnails: pictures taken from a clip.
        lifecycle: revocations and supersessions to check each license against, or None.
    """

    trust_pem: bytes = b""
    repository: RepositoryUrl | None = None
    allow_untrusted: bool = False
    timeline_points: int = 24
    thumbnails: int = 4
    lifecycle: StatusList | None = None


@dataclass(frozen=True)
class Examination:
    """What examining one file produced; ``error`` is set when it could not be read."""

    name: str
    path: Path
    sha256: str | None = None
    size: int | None = None
    report: VerificationReport | None = None
    error: str | None = None
    timeline: list[WatermarkSample] = field(default_factory=list)
    thumbnails: list[tuple[int | None, bytes]] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        if self.report is None:
            return None
        return "video" if self.report.video is not None else "image"


def find_suspects(inputs: Sequence[Path]) -> list[tuple[str, Path]]:
    """Files to examine: each file given, and the media files inside each folder given.

    Returns:
        ``(name as given, absolute path)`` pairs, folders walked in sorted order, hidden
        entries skipped, each file once.

    Raises:
        InputError: an input does not exist, or nothing to examine was found.
    """
    found: dict[Path, str] = {}
    for given in inputs:
        if given.is_dir():
            for path in _walk(given):
                found.setdefault(path.resolve(), str(path))
        elif given.exists():
            found.setdefault(given.resolve(), str(given))
        else:
            raise InputError(f"{given}: no such file or folder")
    if not found:
        names = ", ".join(str(p) for p in inputs)
        raise InputError(f"{names}: no images or videos found")
    return [(name, path) for path, name in found.items()]


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if not name.startswith(".") and path.suffix.lower() in MEDIA_SUFFIXES:
                yield path


def examine(name: str, path: Path, settings: ExamineSettings) -> Examination:
    """Verify one file and gather what a person needs to see; never raises for bad input."""
    try:
        size = path.stat().st_size
        digest = sha256_file(path)
    except OSError as exc:
        return Examination(name, path, error=f"{name}: cannot read ({exc.strerror or exc})")
    try:
        report = _verify(path, settings)
        if report.video is not None:
            timeline = _timeline(path, report, settings)
            thumbs = _clip_thumbnails(path, report, settings.thumbnails)
        else:
            timeline = []
            thumbs = [(None, thumbnail_jpeg(load_image(read_input(path), source=name).rgb,
                                            long_edge=_THUMB_EDGE))]
    except ProvenanceError as exc:
        return Examination(name, path, digest, size, error=exc.diagnostics())
    return Examination(name, path, digest, size, report, None, timeline, thumbs)


def _verify(path: Path, settings: ExamineSettings) -> VerificationReport:
    trust = TrustAnchors.from_pem(settings.trust_pem) if settings.trust_pem else TrustAnchors.none()
    repository = open_repository(settings.repository, create=False) if settings.repository else None
    try:
        verifier = Verifier(
            trust=trust,
            repository=repository,
            allow_untrusted=settings.allow_untrusted,
            lifecycle=settings.lifecycle,
        )
        return verifier.verify_file(path)
    finally:
        if repository is not None:
            repository.close()


def _timeline(
    path: Path, report: VerificationReport, settings: ExamineSettings
) -> list[WatermarkSample]:
    payload = report.watermark.payload
    return watermark_timeline(
        path,
        content_id=ContentId.from_hex(payload) if payload else None,
        alg=report.watermark.alg,
        points=settings.timeline_points,
    )


def _clip_thumbnails(
    path: Path, report: VerificationReport, count: int
) -> list[tuple[int | None, bytes]]:
    duration = (report.video.duration_s if report.video else None) or 0.0
    times = [duration * (i + 0.5) / count for i in range(count)] if duration > 0 else [0.0]
    return [
        (round(time * 1000), thumbnail_jpeg(rgb, long_edge=_THUMB_EDGE))
        for time, rgb in sample_rgb(path, times)
    ]


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["provenance.evidence._warm"])
    return context


def examine_all(
    suspects: Sequence[tuple[str, Path]],
    settings: ExamineSettings,
    *,
    jobs: int | None = None,
    on_done: Callable[[Examination], None] | None = None,
) -> list[Examination]:
    """Examine every suspect, in parallel when there is more than one, in input order.

    Args:
        suspects: from :func:`find_suspects`.
        settings: how to verify.
        jobs: worker processes (default: up to 4, at most one per core and per file).
        on_done: called in this process as each file finishes (for a progress bar).
    """
    workers = min(jobs or min(4, os.cpu_count() or 1), len(suspects))
    done = on_done or (lambda _: None)
    if workers <= 1:
        results = []
        for name, path in suspects:
            results.append(examine(name, path, settings))
            done(results[-1])
        return results
    by_index: dict[int, Examination] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        futures: dict[Future[Examination], int] = {
            pool.submit(examine, name, path, settings): index
            for index, (name, path) in enumerate(suspects)
        }
        for future in as_completed(futures):
            by_index[futures[future]] = future.result()
            done(by_index[futures[future]])
    return [by_index[i] for i in range(len(suspects))]
