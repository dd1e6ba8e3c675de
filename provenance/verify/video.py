"""Verify a clip: manifest, watermark sampled across the clip, content, consent scope.

The procedure is normative in ``spec/video.md``. The watermark is read from frames spread
over the whole clip, in rounds of growing density; evidence from every frame read is summed
(``watermark.aggregate``) and decoded once per round, and sampling stops as soon as a
payload decodes. Most rounds decode only the frame a seek lands on (a keyframe), which is
why verifying costs a small fraction of decoding the clip.

When the manifest was stripped, the payload leads to it through the repository. The
manifest's exact-bytes binding (``c2pa.hash.bmff.v3``) cannot match a re-encoded copy, so
the signed clip facts decide instead: the duration must agree (frames cut out of the middle
shorten it) and frames at fingerprinted moments must match their signed fingerprints.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import _c2pa
from .._internal.files import sha256_file
from ..errors import ManifestError, WatermarkError
from ..fingerprint import Fingerprint, luma_fingerprint
from ..lifecycle import LifecycleSource
from ..live.session import LIVE_LABEL
from ..manifest import ClipFacts, StampClaims
from ..media import SampledFrame, VideoInfo, decode_luma, probe_video, sample_frames
from ..repository import ManifestRepository
from ..resolution import ManifestResolver, ResolvedManifest
from ..trust import TrustAnchors
from ..watermark import (
    ClipDecoder,
    ContentId,
    Detection,
    SoftBits,
    decode_soft,
    encode_payload,
    engine_for_alg,
    get_engine,
)
from ..watermark._registry import DEFAULT_ENGINE
from ..watermark.luma import LumaIssEngine
from ._checks import (
    SYNTHETIC_TYPES,
    Checks,
    check_claims,
    check_likeness,
    check_manifest,
    check_watermark,
    claims_or_none,
    engine_alg,
    find_record,
    manifest_section,
    watermark_section,
)
from ._status import check_license_status
from .labels import check_labels, read_clip_labels
from .report import (
    ContentSection,
    LabelsSection,
    LicenseStatusSection,
    LikenessSection,
    ManifestSection,
    Verdict,
    VerificationReport,
    VideoSection,
    WatermarkSample,
)

__all__ = ["verify_video", "watermark_timeline"]

_logger = logging.getLogger(__name__)

MP4 = "video/mp4"
# Containers c2pa reads a BMFF manifest from (ISO base media: MP4, MOV, M4V).
_BMFF_CONTAINERS = ("mov", "mp4")
# Sampling rounds: (points spread over the clip, frames decoded after each seek). Early
# rounds cost one keyframe decode per point; later rounds read runs of frames, for copies
# so degraded that single frames carry too little evidence.
_ROUNDS: tuple[tuple[int, int], ...] = ((4, 1), (8, 2), (16, 4), (32, 8))
# Frames the final in-order sweep may read in all (about 10 s at 30 fps).
_SWEEP_FRAMES = 300
# Fingerprinted moments compared when the manifest was recovered through the watermark.
_FINGERPRINT_CHECKS = 6
# A re-encode may change the frame rate (30 -> 25 fps moves the last frame by up to one
# frame) but not the duration; a cut of even a few frames shows.
_DURATION_SLACK_S = 0.15
_DURATION_SLACK_FRAMES = 2.5


@dataclass
class _Scan:
    detection: Detection
    times: list[float] = field(default_factory=list)
    stopped_early: bool = False
    evidence: list[tuple[float, SoftBits]] = field(default_factory=list)


def verify_video(
    path: Path,
    *,
    trust: TrustAnchors,
    repository: ManifestRepository | None,
    allow_untrusted: bool,
    lifecycle: LifecycleSource | None = None,
    resolver: ManifestResolver | None = None,
) -> VerificationReport:
    """Verify the clip at ``path`` (only read, never modified).

    Raises:
        InputError: missing, empty, truncated, no video stream or undecodable.
    """
    info = probe_video(path)
    checks = Checks()
    mime = MP4 if _is_bmff(info) else None
    reading, manifest_error = _read_embedded(path, mime, trust)
    claims = claims_or_none(reading)
    scan = _scan_watermark(path, info, claims)
    detection = scan.detection
    recovered = False
    if reading is None and manifest_error is None and detection.content_id is not None:
        record = find_record(
            repository,
            detection.content_id,
            checks,
            resolver=resolver,
            alg=engine_alg(detection.engine),
        )
        reading = _read_resolved(path, mime, trust, record, checks)
        recovered = reading is not None
        claims = claims_or_none(reading)
    manifest = manifest_section(reading, recovered, manifest_error, checks)
    video = _video_section(info, scan, claims)
    found_labels = read_clip_labels(path, bmff=_is_bmff(info))
    if reading is None and manifest_error is None and not detection.detected:
        return _report(
            path, info, Verdict.NO_PROVENANCE, False, manifest, scan, checks, video,
            labels=check_labels(found_labels, None, None, None),
        )  # fmt: skip
    check_manifest(reading, manifest, manifest_error, checks, allow_untrusted=allow_untrusted)
    claims = check_claims(reading, claims, checks)
    check_watermark(detection, claims, checks)
    content = ContentSection()
    if recovered and claims is not None:
        live = reading is not None and LIVE_LABEL in reading.assertions
        video, content = _check_clip_content(path, info, claims, video, checks, live=live)
    likeness = check_likeness(claims, checks)
    labels = check_labels(
        found_labels, claims, claims.content_id if claims else detection.content_id, checks
    )
    likeness, status = check_license_status(claims, likeness, lifecycle, checks)
    verdict = Verdict.VERIFIED if not checks.problems else Verdict.FAILED
    synthetic = detection.detected or manifest.digital_source_type in SYNTHETIC_TYPES
    return _report(
        path,
        info,
        verdict,
        synthetic,
        manifest,
        scan,
        checks,
        video,
        content=content,
        likeness=likeness,
        claims=claims,
        labels=labels,
        license_status=status,
    )


def _is_bmff(info: VideoInfo) -> bool:
    return any(name in info.container.split(",") for name in _BMFF_CONTAINERS)


def _read_embedded(
    path: Path, mime: str | None, trust: TrustAnchors
) -> tuple[_c2pa.ManifestReading | None, ManifestError | None]:
    if mime is None:
        return None, None
    try:
        with path.open("rb") as asset:
            return _c2pa.read(mime=mime, asset=asset, trust=trust), None
    except ManifestError as exc:
        return None, exc


def _read_resolved(
    path: Path,
    mime: str | None,
    trust: TrustAnchors,
    record: ResolvedManifest | None,
    checks: Checks,
) -> _c2pa.ManifestReading | None:
    if record is None:
        return None
    try:
        if mime is not None and record.mime == mime:
            with path.open("rb") as asset:
                return _c2pa.read(
                    mime=mime, asset=asset, trust=trust, manifest_store=record.manifest_store
                )
        return _c2pa.read_store(record.manifest_store, trust=trust)
    except ManifestError as exc:
        checks.record("manifest.readable", False, f"stored manifest unreadable: {exc}")
        return None


def _engine_for(claims: StampClaims | None) -> LumaIssEngine:
    """The luma engine the manifest names, or the default one for a stripped copy."""
    return _engine_for_alg(claims.watermark_alg if claims is not None else None)


def _engine_for_alg(alg: str | None) -> LumaIssEngine:
    """Only luma engines mark clips (``provenance.clip``), so an unknown or non-luma ``alg``
    falls back to the default engine and the watermark check reports what it finds.
    """
    if alg is not None:
        with contextlib.suppress(WatermarkError):
            engine = engine_for_alg(alg)
            if isinstance(engine, LumaIssEngine):
                return engine
    engine = get_engine(DEFAULT_ENGINE)
    if not isinstance(engine, LumaIssEngine):
        raise WatermarkError(f"{DEFAULT_ENGINE}: the default engine cannot read video")
    return engine


def _scan_watermark(path: Path, info: VideoInfo, claims: StampClaims | None) -> _Scan:
    """Read evidence from frames spread over the clip until a payload decodes.

    Seeks land on keyframes, so a clip with few keyframes (a short one, or a long GOP)
    yields few distinct frames from the rounds; a last sweep then reads frames in order
    from the start, up to a budget, before giving up.
    """
    engine = _engine_for(claims)
    decoder = ClipDecoder(engine)
    scan = _Scan(detection=decoder.result())
    seen: set[float] = set()

    def read(frames: Iterator[SampledFrame], budget: int | None = None) -> bool:
        for frame in frames:
            if budget is not None and len(seen) >= budget:
                break
            if frame.time in seen:
                continue
            seen.add(frame.time)
            scan.times.append(round(frame.time, 3))
            evidence = engine.read_soft_luma(frame.y)
            scan.evidence.append((frame.time, evidence))
            decoder.add_evidence(evidence)
        scan.detection = decoder.result()
        return scan.detection.detected

    duration = info.duration_s or 0.0
    for points, per_seek in _ROUNDS:
        if read(sample_frames(path, _spread(duration, points), per_seek=per_seek)):
            scan.stopped_early = True
            break
    else:
        read(decode_luma(path), budget=_SWEEP_FRAMES)
    scan.times.sort()
    return scan


def watermark_timeline(
    path: Path, *, content_id: ContentId | None, alg: str | None, points: int = 24
) -> list[WatermarkSample]:
    """Per-frame watermark evidence at ``points`` moments spread evenly over the clip.

    Verification stops reading as soon as the payload decodes, often after one keyframe;
    evidence for a person (``provenance report``) wants the whole clip, so this reads the
    frame nearest each moment and judges each on its own against ``content_id``.

    Args:
        path: the clip (only read).
        content_id: the payload the clip decoded to, to measure each frame's agreement with;
            None when the clip carries no readable payload.
        alg: the soft-binding algorithm the manifest names, or None for the default engine.
        points: how many moments to read.

    Raises:
        InputError: as :func:`~provenance.media.probe_video`.
    """
    info = probe_video(path)
    engine = _engine_for_alg(alg)
    duration = info.duration_s or 0.0
    frames = sample_frames(path, _spread(duration, max(points, 1)), exact=True)
    evidence = [(frame.time, engine.read_soft_luma(frame.y)) for frame in frames]
    return _frame_samples(engine.name, evidence, content_id)


def _frame_samples(
    engine: str, evidence: Sequence[tuple[float, SoftBits]], content_id: ContentId | None
) -> list[WatermarkSample]:
    """Judge each frame's evidence on its own, in time order."""
    expected = encode_payload(content_id) if content_id is not None else None
    samples = []
    for time, bits in sorted(evidence, key=lambda item: item[0]):
        alone = decode_soft(engine, bits)
        agreement = (
            float((bits.hard_bits == expected).mean()) if expected is not None else None
        )
        samples.append(
            WatermarkSample(
                time_s=round(time, 3),
                bit_agreement=agreement,
                detected=alone.detected,
                confidence=alone.confidence,
            )
        )
    return samples


def _spread(duration: float, points: int) -> list[float]:
    """``points`` times at the centres of equal slices of the clip (offset per round)."""
    if duration <= 0:
        return [0.0]
    return [duration * (i + 0.5) / points for i in range(points)]


def _video_section(info: VideoInfo, scan: _Scan, claims: StampClaims | None) -> VideoSection:
    clip = claims.clip if claims is not None else None
    return VideoSection(
        duration_s=info.duration_s,
        fps=f"{info.fps.numerator}/{info.fps.denominator}",
        width=info.width,
        height=info.height,
        frame_count=info.frame_count,
        audio=info.audio_codec,
        frames_checked=len(scan.times),
        times_checked=scan.times,
        stopped_early=scan.stopped_early,
        signed_duration_s=clip.duration_ms / 1000 if clip is not None else None,
        signed_frames=clip.frames if clip is not None else None,
        signed_fps=clip.fps if clip is not None else None,
        samples=_frame_samples(scan.detection.engine, scan.evidence, scan.detection.content_id),
    )


def _check_clip_content(
    path: Path,
    info: VideoInfo,
    claims: StampClaims,
    video: VideoSection,
    checks: Checks,
    *,
    live: bool = False,
) -> tuple[VideoSection, ContentSection]:
    clip = claims.clip
    if clip is None and live:
        # A piece of a live stream (a segment re-encoded on its own): the stream manifest
        # signs no clip facts; its segments are checked by their signatures (spec/live.md).
        checks.skip("content.clip", "a piece of a live stream: no clip facts to compare")
        return video, ContentSection()
    if clip is None:
        checks.record(
            "content.clip", False, "recovered manifest has no clip facts to check the copy against"
        )
        return video, ContentSection()
    _check_duration(info, clip, checks)
    mismatches, compared, worst, changed = _check_timeline(path, clip, info, checks)
    video = video.model_copy(
        update={"fingerprints_checked": compared, "fingerprint_mismatch_times": mismatches}
    )
    content = ContentSection(
        fingerprint_checked=compared > 0,
        fingerprint_match=(not mismatches) if compared else None,
        max_cell_difference=worst if compared else None,
        changed_cells=changed if compared else None,
    )
    return video, content


def _check_duration(info: VideoInfo, clip: ClipFacts, checks: Checks) -> None:
    signed = clip.duration_ms / 1000
    if info.duration_s is None:
        checks.record("content.duration", False, "the clip's duration cannot be read")
        return
    frame = 1 / float(info.fps) if info.fps else 1 / 30
    slack = max(_DURATION_SLACK_S, _DURATION_SLACK_FRAMES * frame)
    gap = info.duration_s - signed
    checks.record(
        "content.duration",
        abs(gap) <= slack,
        f"duration {info.duration_s:.3f} s matches the signed {signed:.3f} s"
        if abs(gap) <= slack
        else f"duration {info.duration_s:.3f} s differs from the signed {signed:.3f} s "
        f"by {gap:+.3f} s: frames were cut or added",
    )


def _check_timeline(
    path: Path, clip: ClipFacts, info: VideoInfo, checks: Checks
) -> tuple[list[float], int, int, int]:
    """Compare fingerprinted moments with the copy's frames at the same times.

    A frame-rate change moves each moment by up to one frame, which at a hard cut (a new
    slide) is a different picture; so each moment is compared with the copy's frame nearest
    it and its two neighbours, and the closest counts. A pasted patch shows in all three.
    """
    timeline = clip.timeline
    if timeline is None or not timeline.entries:
        checks.skip("content.fingerprint", "the signed clip carries no fingerprints")
        return [], 0, 0, 0
    entries = _pick(timeline.entries, _FINGERPRINT_CHECKS)
    start = _first_frame_time(path)
    step = 1 / float(info.fps) if info.fps else 1 / 30
    wanted = [start + t_ms / 1000 + k * step for t_ms, _ in entries for k in (-1, 0, 1)]
    frames = list(sample_frames(path, [max(start, t) for t in wanted], exact=True))
    mismatches: list[float] = []
    worst = changed = 0
    for index, (t_ms, signed) in enumerate(entries):
        near = {id(f): f for f in _match(wanted[3 * index : 3 * index + 3], frames) if f}
        comparisons = [
            signed.compare(luma_fingerprint(f.y, full_range=f.full_range, grid=timeline.grid))
            for f in near.values()
        ]
        if not comparisons:
            mismatches.append(t_ms / 1000)
            continue
        best = min(comparisons, key=lambda c: (c.changed_cells, c.max_cell_difference))
        worst = max(worst, best.max_cell_difference)
        changed += best.changed_cells
        if not best.matches:
            mismatches.append(t_ms / 1000)
    checks.record(
        "content.fingerprint",
        not mismatches,
        f"{len(entries)} fingerprinted moments match the signed clip"
        if not mismatches
        else "content differs from the signed clip at "
        + ", ".join(f"{t:.1f} s" for t in mismatches),
    )
    return mismatches, len(entries), worst, changed


def _pick(items: Sequence[tuple[int, Fingerprint]], count: int) -> list[tuple[int, Fingerprint]]:
    if len(items) <= count:
        return list(items)
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def _first_frame_time(path: Path) -> float:
    for frame in sample_frames(path, [0.0], per_seek=1):
        return frame.time
    return 0.0


def _match(
    wanted: Sequence[float], frames: Sequence[SampledFrame]
) -> Iterator[SampledFrame | None]:
    """For each wanted time, the decoded frame nearest it (None when none was decoded)."""
    for time in wanted:
        nearest = min(frames, key=lambda f: abs(f.time - time), default=None)
        yield nearest


def _report(
    path: Path,
    info: VideoInfo,
    verdict: Verdict,
    synthetic: bool,
    manifest: ManifestSection,
    scan: _Scan,
    checks: Checks,
    video: VideoSection,
    *,
    content: ContentSection | None = None,
    likeness: LikenessSection | None = None,
    claims: StampClaims | None = None,
    labels: LabelsSection | None = None,
    license_status: LicenseStatusSection | None = None,
) -> VerificationReport:
    return VerificationReport(
        file=str(path),
        format=MP4 if _is_bmff(info) else f"video ({info.container})",
        sha256=sha256_file(path),
        verdict=verdict,
        synthetic=synthetic,
        problems=checks.problems,
        manifest=manifest,
        watermark=watermark_section(scan.detection, claims),
        content=content or ContentSection(),
        likeness=likeness or LikenessSection(),
        video=video,
        license_status=license_status,
        checks=checks.items,
        labels=labels or LabelsSection(),
    )
