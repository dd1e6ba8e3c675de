"""Verify a live stream segment by segment, as a player or an ingest server receives it.

:class:`StreamVerifier` is stateful: feed it the init segment, then each media segment as
it arrives, and it answers each with a :class:`SegmentReport`. The init segment's C2PA
manifest is checked as a clip's is (signature, trust, synthetic, owner signature, consent
scope) and yields the stream's session key; each segment must then be signed by that key
for this stream, match its signed content hash, follow the last accepted segment's
sequence number, and name that segment's hash as its predecessor. A segment without a
signature (its ``emsg`` stripped, or re-encoded) falls back to the watermark: its frames
are decoded with the init segment and the payload must be the stream's content ID.
``spec/live.md`` is normative.

    >>> verifier = StreamVerifier(trust=anchors, repository=repo)  # doctest: +SKIP
    >>> verifier.feed_init(init_bytes, source="init.mp4")
    >>> for name, data in arriving_segments():
    ...     print(verifier.feed_segment(data, source=name).status)
    >>> report = verifier.report(file="stream.m3u8")
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import _c2pa
from .._internal.files import read_input
from ..errors import InputError, ManifestError, WatermarkError
from ..live.playlist import read_playlist
from ..live.session import (
    StreamFacts,
    init_hash,
    read_segment_info,
    segment_hash,
)
from ..manifest import StampClaims
from ..media.bmff import box_types
from ..media.live import decode_segment_luma
from ..repository import ManifestRepository
from ..trust import TrustAnchors
from ..watermark import ClipDecoder, Detection, engine_for_alg, get_engine
from ..watermark._registry import DEFAULT_ENGINE
from ..watermark.luma import LumaIssEngine
from ._checks import (
    SYNTHETIC_TYPES,
    Checks,
    check_claims,
    check_likeness,
    check_manifest,
    claims_or_none,
    manifest_section,
    watermark_section,
)
from .report import (
    LikenessSection,
    ManifestSection,
    SegmentReport,
    SegmentStatus,
    StreamSection,
    Verdict,
    VerificationReport,
)

__all__ = ["StreamVerifier", "verify_playlist", "verify_segments"]

MP4 = "video/mp4"
HLS = "application/vnd.apple.mpegurl"
# Frames of an unsigned segment read for its watermark (a 2 s segment at 30 fps is 60).
_WATERMARK_FRAMES = 120


@dataclass
class _Chain:
    """What the verifier remembers between segments."""

    last: int | None = None
    last_hash: bytes | None = None
    seen: set[int] = field(default_factory=set)
    unsigned_since_last: int = 0


class StreamVerifier:
    """Checks one stream's init segment, then its segments one at a time.

    Args:
        trust: anchors the stream manifest's signer must chain to.
        repository: unused for signed streams; kept for symmetry with :class:`Verifier`.
        allow_untrusted: UNSAFE, accept a stream manifest whose signer is not trusted.
        from_start: the segments begin at the stream's first one, so a first segment with
            a later number means the earlier ones were dropped. False for a viewer that
            joins a running stream.
    """

    def __init__(
        self,
        *,
        trust: TrustAnchors,
        repository: ManifestRepository | None = None,
        allow_untrusted: bool = False,
        from_start: bool = True,
    ) -> None:
        self._trust, self._repository = trust, repository
        self._allow_untrusted, self._from_start = allow_untrusted, from_start
        self._checks = Checks()
        self._init: bytes | None = None
        self._init_source = ""
        self._reading: _c2pa.ManifestReading | None = None
        self._manifest = ManifestSection(present=False)
        self._claims: StampClaims | None = None
        self._likeness = LikenessSection()
        self._facts: StreamFacts | None = None
        self._chain = _Chain()
        self._segments: list[SegmentReport] = []
        self._detection: Detection | None = None

    @property
    def facts(self) -> StreamFacts | None:
        """What the stream manifest declares, once a valid init segment was fed."""
        return self._facts

    def feed_init(self, data: bytes, *, source: str) -> ManifestSection:
        """Check the init segment and its stream manifest; returns the manifest section.

        Problems are recorded for :meth:`report`; a stream whose init fails still has its
        segments checked as far as possible.
        """
        self._init, self._init_source = data, source
        reading, error = None, None
        try:
            reading = _c2pa.read(mime=MP4, asset=data, trust=self._trust)
        except ManifestError as exc:
            error = exc
        self._reading = reading
        self._manifest = manifest_section(reading, False, error)
        check_manifest(
            reading, self._manifest, error, self._checks, allow_untrusted=self._allow_untrusted
        )
        self._claims = check_claims(reading, claims_or_none(reading), self._checks)
        self._likeness = check_likeness(self._claims, self._checks)
        if reading is None:
            if error is None:
                self._checks.record("stream.manifest", False, f"{source}: no C2PA manifest")
            return self._manifest
        try:
            self._facts = StreamFacts.parse(reading.assertions)
        except ManifestError as exc:
            self._checks.record("stream.manifest", False, f"{source}: {exc}")
            return self._manifest
        if self._facts is None:
            self._checks.record(
                "stream.manifest", False, f"{source}: the manifest declares no live stream"
            )
        else:
            self._checks.record(
                "stream.manifest", True, f"live stream {self._facts.stream_id}, session key "
                f"{self._facts.kid.hex()}"
            )  # fmt: skip
        return self._manifest

    def feed_segment(self, data: bytes, *, source: str) -> SegmentReport:
        """Check the next segment as it arrives; returns its report."""
        started = time.perf_counter()
        checks = Checks()
        sequence: int | None = None
        payload: str | None = None
        status = SegmentStatus.FAILED
        try:
            sequence, status, payload = self._check_segment(data, source, checks)
        except InputError as exc:
            checks.record("segment.readable", False, str(exc))
        report = SegmentReport(
            index=len(self._segments) + 1,
            file=source,
            sequence_number=sequence,
            status=status,
            watermark_payload=payload,
            verify_ms=round((time.perf_counter() - started) * 1000, 3),
            problems=checks.problems,
            checks=checks.items,
        )
        self._segments.append(report)
        return report

    def feed_unreadable(self, *, source: str, problem: str) -> SegmentReport:
        """Record a segment that was announced but could not be read (gone, empty)."""
        checks = Checks()
        checks.record("segment.readable", False, problem)
        report = SegmentReport(
            index=len(self._segments) + 1,
            file=source,
            status=SegmentStatus.FAILED,
            verify_ms=0.0,
            problems=checks.problems,
            checks=checks.items,
        )
        self._segments.append(report)
        return report

    def _check_segment(
        self, data: bytes, source: str, checks: Checks
    ) -> tuple[int | None, SegmentStatus, str | None]:
        if not data:
            raise InputError(f"{source}: empty segment")
        facts = self._facts
        if facts is None:
            checks.record("segment.signature", False, "no valid stream manifest to check it by")
            return None, SegmentStatus.FAILED, None
        try:
            info = read_segment_info(data, facts, source=source)
        except ManifestError as exc:
            checks.record("segment.signature", False, str(exc))
            return None, SegmentStatus.FAILED, None
        if info is None:
            return self._unsigned(data, source, checks)
        checks.record("segment.signature", True, f"signed by session key {facts.kid.hex()}")
        own = info.stream_id == facts.stream_id and info.manifest_id == self._reading_label()
        checks.record(
            "segment.stream",
            own,
            "belongs to this stream" if own else f"signed for stream {info.stream_id} "
            f"(manifest {info.manifest_id}), not this one",
        )  # fmt: skip
        intact = segment_hash(data, source=source) == info.hash
        checks.record(
            "segment.hash",
            intact,
            "content matches its signed hash"
            if intact
            else "content differs from its signed hash: the segment was altered or substituted",
        )
        in_order = self._check_sequence(info.sequence, checks)
        if in_order and self._chain.unsigned_since_last == 0:
            self._check_chain(info.previous, checks)
        # The signed number and hash are authentic even when the content is not, so an
        # altered segment still holds its place: the next one is not reported missing.
        if own and in_order is not None:
            self._accept(info.sequence, info.hash, advance=in_order or self._ahead(info.sequence))
        status = SegmentStatus.VERIFIED if not checks.problems else SegmentStatus.FAILED
        return info.sequence, status, None

    def _reading_label(self) -> str | None:
        return self._reading.label if self._reading is not None else None

    def _ahead(self, sequence: int) -> bool:
        last = self._chain.last
        return last is None or sequence > last

    def _check_sequence(self, sequence: int, checks: Checks) -> bool | None:
        """True when the segment follows the last one; False when it is out of place
        (a gap is recorded but the stream moves on); None when it is a replay."""
        chain, facts = self._chain, self._facts
        assert facts is not None
        if sequence in chain.seen:
            checks.record(
                "segment.sequence", False, f"segment {sequence} replayed: already received"
            )
            return None
        if chain.last is None:
            expected = facts.min_sequence if self._from_start else sequence
        else:
            expected = chain.last + 1 + chain.unsigned_since_last
        if sequence == expected:
            checks.record("segment.sequence", True, f"segment {sequence} follows in order")
            return True
        if sequence > expected:
            missing = f"{expected}" if sequence == expected + 1 else f"{expected}-{sequence - 1}"
            detail = f"segment {sequence}: segment(s) {missing} missing (dropped)"
            checks.record("segment.sequence", False, detail)
            return False
        checks.record(
            "segment.sequence",
            False,
            f"segment {sequence} out of order: arrived after segment {chain.last}",
        )
        return False

    def _check_chain(self, previous: bytes, checks: Checks) -> None:
        expected = self._chain.last_hash
        if expected is None:
            if self._init is None or not self._from_start:
                checks.skip("segment.chain", "joined mid-stream: no predecessor to compare")
                return
            expected = init_hash(self._init)
        linked = previous == expected
        checks.record(
            "segment.chain",
            linked,
            "chained to the segment before it"
            if linked
            else "its signed predecessor is not the segment received before it",
        )

    def _accept(self, sequence: int, digest: bytes, *, advance: bool) -> None:
        chain = self._chain
        chain.seen.add(sequence)
        if advance:
            chain.last, chain.last_hash, chain.unsigned_since_last = sequence, digest, 0

    def _unsigned(
        self, data: bytes, source: str, checks: Checks
    ) -> tuple[None, SegmentStatus, str | None]:
        checks.record("segment.signature", False, "no segment signature (stripped or re-encoded)")
        detection = self._read_watermark(data, source)
        facts_id = self._claims.content_id if self._claims is not None else None
        if not detection.detected or detection.content_id is None:
            checks.record("segment.watermark", False, "no watermark in its frames either")
            return None, SegmentStatus.FAILED, None
        self._detection = detection
        payload = detection.content_id.hex
        ours = facts_id is not None and detection.content_id == facts_id
        checks.record(
            "segment.watermark",
            ours,
            f"watermark {payload} names this stream"
            if ours
            else f"watermark {payload} is not this stream's {facts_id}",
        )
        if ours:
            self._chain.unsigned_since_last += 1
            return None, SegmentStatus.WATERMARK_ONLY, payload
        return None, SegmentStatus.FAILED, payload

    def _read_watermark(self, data: bytes, source: str) -> Detection:
        engine = _engine_for(self._claims)
        decoder = ClipDecoder(engine)
        whole_file = "moov" in box_types(data, source=source)
        frames = decode_segment_luma(None if whole_file else self._init, data, source=source)
        for count, frame in enumerate(frames, start=1):
            decoder.add_evidence(engine.read_soft_luma(frame.y))
            if (count % 8 == 0 and decoder.result().detected) or count >= _WATERMARK_FRAMES:
                break
        return decoder.result()

    def report(
        self, *, file: str, format: str = HLS, ended: bool | None = None
    ) -> VerificationReport:
        """The whole stream so far: every segment's report and one verdict."""
        checks = Checks(items=list(self._checks.items))
        counts = {status: 0 for status in SegmentStatus}
        for segment in self._segments:
            counts[segment.status] += 1
        bad = len(self._segments) - counts[SegmentStatus.VERIFIED]
        checks.record(
            "stream.segments",
            bool(self._segments) and bad == 0,
            f"{counts[SegmentStatus.VERIFIED]} of {len(self._segments)} segments verified",
        )
        problems = checks.problems + [
            f"{s.file}: {problem}" for s in self._segments for problem in s.problems
        ]
        detection = self._detection
        signed_any = any(s.sequence_number is not None for s in self._segments)
        if self._reading is None and not signed_any and detection is None:
            verdict = Verdict.NO_PROVENANCE
        else:
            verdict = Verdict.VERIFIED if not problems else Verdict.FAILED
        synthetic = (detection is not None) or self._manifest.digital_source_type in SYNTHETIC_TYPES
        return VerificationReport(
            file=file,
            format=format,
            verdict=verdict,
            synthetic=synthetic,
            problems=problems,
            manifest=self._manifest,
            watermark=watermark_section(
                detection or Detection(engine=_engine_for(self._claims).name), self._claims
            ),
            likeness=self._likeness,
            stream=self._stream_section(counts, ended),
            checks=checks.items,
        )

    def _stream_section(
        self, counts: dict[SegmentStatus, int], ended: bool | None
    ) -> StreamSection:
        facts = self._facts
        return StreamSection(
            stream_id=facts.stream_id if facts else None,
            content_id=self._claims.content_id.hex if self._claims else None,
            init=self._init_source,
            session_key_id=facts.kid.hex() if facts else None,
            segment_frames=facts.segment_frames if facts else None,
            fps=facts.fps if facts else None,
            width=facts.width if facts else None,
            height=facts.height if facts else None,
            ended=ended,
            segments_checked=len(self._segments),
            segments_verified=counts[SegmentStatus.VERIFIED],
            segments_failed=counts[SegmentStatus.FAILED],
            segments_watermark_only=counts[SegmentStatus.WATERMARK_ONLY],
            segments=list(self._segments),
        )


def _engine_for(claims: StampClaims | None) -> LumaIssEngine:
    if claims is not None:
        with contextlib.suppress(WatermarkError):
            engine = engine_for_alg(claims.watermark_alg)
            if isinstance(engine, LumaIssEngine):
                return engine
    engine = get_engine(DEFAULT_ENGINE)
    if not isinstance(engine, LumaIssEngine):
        raise WatermarkError(f"{DEFAULT_ENGINE}: the default engine cannot read video")
    return engine


def verify_segments(
    init: Path,
    segments: list[Path],
    *,
    trust: TrustAnchors,
    repository: ManifestRepository | None = None,
    allow_untrusted: bool = False,
) -> VerificationReport:
    """Verify an init segment and media segments given as files, in the order given.

    Raises:
        InputError: the init segment is missing, empty or unreadable.
    """
    verifier = StreamVerifier(trust=trust, repository=repository, allow_untrusted=allow_untrusted)
    verifier.feed_init(read_input(init), source=str(init))
    for path in segments:
        _feed_file(verifier, path)
    return verifier.report(file=str(init), format=f"{MP4} (fragmented)")


def verify_playlist(
    playlist: Path,
    *,
    trust: TrustAnchors,
    repository: ManifestRepository | None = None,
    allow_untrusted: bool = False,
) -> VerificationReport:
    """Verify a local HLS playlist: its init segment, then every listed segment in order.

    An EVENT or VOD playlist lists the stream from its start, so its first segment must be
    the stream's first; a sliding-window live playlist may start anywhere.

    Raises:
        InputError: the playlist or its init segment is unreadable or not HLS fMP4.
    """
    parsed = read_playlist(playlist)
    from_start = parsed.playlist_type in ("EVENT", "VOD")
    verifier = StreamVerifier(
        trust=trust, repository=repository, allow_untrusted=allow_untrusted, from_start=from_start
    )
    verifier.feed_init(read_input(parsed.init), source=parsed.init.name)
    for path in parsed.segments:
        _feed_file(verifier, path, name=path.name)
    return verifier.report(file=str(playlist), format=HLS, ended=parsed.ended)


def _feed_file(verifier: StreamVerifier, path: Path, *, name: str | None = None) -> None:
    source = name or str(path)
    try:
        data = read_input(path)
    except InputError as exc:
        # A listed segment that is gone or empty is a stream problem, reported in place.
        verifier.feed_unreadable(source=source, problem=str(exc))
        return
    verifier.feed_segment(data, source=source)
