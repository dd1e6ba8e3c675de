"""The typed result of verifying one asset, and its JSON form (``spec/verify-report.md``).

Verification never answers with a bool: it returns a :class:`VerificationReport` that
records every check, with an overall :class:`Verdict`. Callers who want fail-closed
behaviour call :meth:`VerificationReport.raise_for_failure`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import EXIT_FAILED, EXIT_NO_PROVENANCE, ProvenanceError
from ..lifecycle import LicenseState

__all__ = [
    "REPORT_SCHEMA",
    "AigcLabelSection",
    "Check",
    "CheckStatus",
    "ComplianceSection",
    "ContentSection",
    "LabelsSection",
    "LatentDisclosureSection",
    "LicenseStatusSection",
    "LikenessSection",
    "ManifestSection",
    "Obligation",
    "ObligationStatus",
    "SegmentReport",
    "SegmentStatus",
    "StatusCode",
    "StreamSection",
    "ThirdPartyMarkSection",
    "Verdict",
    "VerificationFailedError",
    "VerificationReport",
    "VideoSection",
    "VisibleLabelSection",
    "WatermarkSample",
    "WatermarkSection",
]

REPORT_SCHEMA = "avatar-provenance/verify-report/v1"


class Verdict(StrEnum):
    """The overall answer, mapped to exit codes 0, 1 and 3."""

    VERIFIED = "verified"
    FAILED = "failed"
    NO_PROVENANCE = "no_provenance"


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Check(_Model):
    """One named check and its outcome (names are listed in spec/verify-report.md)."""

    name: str
    status: CheckStatus
    detail: str


class StatusCode(_Model):
    """A C2PA validation status entry."""

    code: str
    url: str | None = None
    explanation: str | None = None


class ManifestSection(_Model):
    present: bool
    source: str | None = Field(None, description="'embedded', 'repository' or null")
    recovered_via_watermark: bool = False
    resolved_from: str | None = Field(
        None, description="base URL of the remote resolution service the manifest came from"
    )
    resolution_error: str | None = Field(
        None,
        description="why a remote resolution service could not answer (unreachable, timed "
        "out, refused, not registered); asking again later may succeed",
    )
    validation_state: str | None = Field(
        None, description="Trusted, Valid or Invalid, hard binding excluded when recovered"
    )
    c2pa_validation_state: str | None = Field(None, description="the state c2pa reported")
    failures: list[StatusCode] = Field(default_factory=list)
    label: str | None = None
    signer: str | None = None
    signer_issuer: str | None = None
    signed_at: str | None = None
    digital_source_type: str | None = None
    timestamped: bool | None = Field(
        None, description="the signature carries a validated RFC 3161 time-stamp"
    )
    parent_label: str | None = Field(
        None, description="when this manifest updates another (parentOf): that manifest"
    )
    edits: list[str] = Field(
        default_factory=list, description="an update's actions, e.g. c2pa.edited.metadata"
    )


class WatermarkSection(_Model):
    detected: bool
    engine: str | None = None
    alg: str | None = None
    payload: str | None = Field(None, description="the content ID, 16 hex digits")
    confidence: float | None = None
    corrected_bits: int | None = None
    false_alarm_probability: float | None = None
    matches_manifest: bool | None = None


class ThirdPartyMarkSection(_Model):
    """A generator's own mark (e.g. SDXL's); evidence of origin, never of our provenance."""

    scheme: str = Field(description="'sdxl', 'sd2' or 'sd1'")
    label: str
    message: str = Field(description="the fixed message, hex")
    matches: int
    bits: int
    false_alarm_probability: float


class ContentSection(_Model):
    fingerprint_checked: bool = False
    fingerprint_match: bool | None = None
    max_cell_difference: int | None = None
    changed_cells: int | None = None


class WatermarkSample(_Model):
    """The watermark evidence of one decoded frame, on its own (``spec/video.md``).

    A clip is judged on the sum of its frames' evidence; these per-frame values show how
    that evidence is spread over time (a re-encode or an overlay weakens some moments).
    """

    time_s: float = Field(description="presentation time of the frame")
    bit_agreement: float | None = Field(
        None,
        description="share of the 156 payload bits this frame alone reads as the clip's "
        "payload (0.5 is chance); null when the clip's payload is unknown",
    )
    detected: bool = Field(description="this frame alone decodes to a payload")
    confidence: float = Field(description="1 - false-alarm probability of this frame alone, or 0")


class VideoSection(_Model):
    """How a clip was examined: what the container says, what was signed, what was decoded."""

    duration_s: float | None = Field(None, description="the suspect clip's video duration")
    fps: str | None = Field(None, description="frame rate as a fraction, e.g. '30/1'")
    width: int | None = None
    height: int | None = None
    frame_count: int | None = Field(None, description="frames the container declares, if any")
    audio: str | None = Field(None, description="audio codec, or null when there is none")
    frames_checked: int = Field(0, description="frames whose watermark evidence was read")
    times_checked: list[float] = Field(
        default_factory=list, description="presentation times (s) of the frames checked"
    )
    stopped_early: bool = Field(
        False, description="sampling stopped once the payload decoded, before the budget"
    )
    signed_duration_s: float | None = None
    signed_frames: int | None = None
    signed_fps: str | None = None
    fingerprints_checked: int = 0
    fingerprint_mismatch_times: list[float] = Field(default_factory=list)
    samples: list[WatermarkSample] = Field(
        default_factory=list, description="per-frame watermark evidence of the frames checked"
    )


class SegmentStatus(StrEnum):
    """How one live-stream segment fared."""

    VERIFIED = "verified"
    """Signed by the stream's session key, content intact, in sequence, chained."""
    FAILED = "failed"
    """A signature, content, stream, sequence or chain check failed."""
    WATERMARK_ONLY = "watermark_only"
    """No signature (stripped or re-encoded); the watermark still names the stream."""


class SegmentReport(_Model):
    """One segment of a live stream, checked as it arrived (``spec/live.md``)."""

    index: int = Field(description="arrival order, from 1")
    file: str
    sequence_number: int | None = Field(None, description="the signed sequence number")
    status: SegmentStatus
    watermark_payload: str | None = Field(
        None, description="content ID read from the frames (unsigned segments only)"
    )
    verify_ms: float = Field(description="time spent checking this segment")
    problems: list[str] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)


class StreamSection(_Model):
    """A live stream: what its manifest declares and how every segment fared."""

    stream_id: str | None = None
    content_id: str | None = Field(None, description="the stream's watermark payload")
    init: str = Field(description="the init segment checked")
    session_key_id: str | None = None
    segment_frames: int | None = None
    fps: str | None = None
    width: int | None = None
    height: int | None = None
    ended: bool | None = Field(None, description="the playlist says the stream ended")
    segments_checked: int = 0
    segments_verified: int = 0
    segments_failed: int = 0
    segments_watermark_only: int = 0
    segments: list[SegmentReport] = Field(default_factory=list)


class LikenessSection(_Model):
    face_id: str | None = None
    license_id: str | None = None
    license_sha256: str | None = None
    licensee: str | None = None
    owner_public_key: str | None = None
    owner_signature_valid: bool | None = None
    declared_purpose: str | None = None
    declared_territory: str | None = None
    stamped_at: str | None = None
    scope: dict[str, Any] | None = None
    in_scope: bool | None = None
    violations: list[dict[str, str]] = Field(default_factory=list)


class AigcLabelSection(_Model):
    """The GB 45438 implicit label found in the file's metadata (spec/labels.md)."""

    present: bool = False
    placements: list[str] = Field(
        default_factory=list, description="where it was found: 'xmp', 'mp4-mdta', 'mp4-xmp'"
    )
    fields: dict[str, str] | None = Field(None, description="the seven fields, as read")
    well_formed: bool | None = None
    integrity_valid: bool | None = Field(
        None, description="ReservedCode1 matches the producer fields; null if not ours"
    )
    produce_id_matches: bool | None = Field(
        None, description="ProduceID is the content ID of the manifest or watermark"
    )
    matches_signed_copy: bool | None = Field(
        None, description="producer fields equal the copy signed into the manifest"
    )
    placements_agree: bool | None = None
    propagated: bool | None = Field(None, description="a platform has added its own fields")
    propagator_integrity_valid: bool | None = Field(
        None, description="ReservedCode2 checked; null when another platform's own value"
    )
    problems: list[str] = Field(default_factory=list)


class LatentDisclosureSection(_Model):
    """California SB 942 latent disclosure, from the signed manifest."""

    present: bool = False
    provider: str | None = None
    system_name: str | None = None
    system_version: str | None = None
    created_at: str | None = None
    unique_id: str | None = None


class VisibleLabelSection(_Model):
    """The visible label the signed manifest says was rendered into the pixels."""

    declared: bool = False
    text: str | None = None
    language: str | None = None
    position: str | None = None
    text_height_ratio: float | None = Field(None, description="text height / shorter side")
    duration_s: float | None = Field(None, description="clips: seconds from the first frame")


class LabelsSection(_Model):
    """Labelling-law metadata: GB 45438, IPTC in XMP, SB 942, the visible label."""

    aigc: AigcLabelSection = Field(default_factory=AigcLabelSection)
    xmp_digital_source_type: str | None = Field(
        None, description="Iptc4xmpExt:DigitalSourceType in the file's XMP"
    )
    latent_disclosure: LatentDisclosureSection = Field(default_factory=LatentDisclosureSection)
    visible_label: VisibleLabelSection = Field(default_factory=VisibleLabelSection)


class ObligationStatus(StrEnum):
    MET = "met"
    MISSED = "missed"
    UNKNOWN = "unknown"


class Obligation(_Model):
    """One obligation of a profile, judged from the report (names in spec/labels.md)."""

    id: str
    requirement: str
    source: str
    status: ObligationStatus
    detail: str


class ComplianceSection(_Model):
    """``verify --profile``: which obligations the file meets and which it misses."""

    profile: str = Field(description="'cn', 'eu' or 'us-ca'")
    met: bool = Field(description="every obligation met")
    obligations: list[Obligation] = Field(default_factory=list)
class LicenseStatusSection(_Model):
    """The license's lifecycle when the content was signed and now (spec/consent.md §11)."""

    source: str | None = Field(
        None,
        description="where revocations and supersessions came from: 'workspace', 'file', "
        "or null when none was available (then only expiry is known)",
    )
    at_signing: LicenseState = Field(description="state at the manifest's stamped_at")
    at_signing_since: str | None = Field(None, description="when that state began")
    now: LicenseState = Field(description="state at checked_at")
    now_since: str | None = Field(None, description="when the current state began")
    checked_at: str
    revocation_reason: str | None = Field(None, description="the owner's reason, if revoked")
    superseded_by: str | None = Field(None, description="the license that replaced this one")
    summary: str = Field(description="e.g. 'signed while valid, revoked since ...'")


class VerificationReport(_Model):
    """Everything ``verify`` found about one file."""

    schema_: str = Field(REPORT_SCHEMA, alias="schema")
    file: str
    format: str | None = None
    sha256: str | None = None
    verdict: Verdict
    synthetic: bool
    problems: list[str] = Field(default_factory=list)
    manifest: ManifestSection
    watermark: WatermarkSection
    third_party_marks: list[ThirdPartyMarkSection] = Field(default_factory=list)
    content: ContentSection = Field(default_factory=ContentSection)
    likeness: LikenessSection = Field(default_factory=LikenessSection)
    video: VideoSection | None = Field(None, description="present for video files only")
    stream: StreamSection | None = Field(None, description="present for live streams only")
    license_status: LicenseStatusSection | None = Field(
        None, description="present when a license was found (spec/consent.md §11)"
    )
    checks: list[Check] = Field(default_factory=list)
    labels: LabelsSection = Field(default_factory=LabelsSection)
    compliance: ComplianceSection | None = Field(
        None, description="present with verify --profile"
    )

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form, field names as in the schema."""
        return self.model_dump(mode="json", by_alias=True)

    def to_json(self) -> str:
        """Pretty JSON, as ``verify --json`` prints it."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def raise_for_failure(self) -> None:
        """Raise unless the verdict is VERIFIED.

        Raises:
            VerificationFailedError: with this report attached.
        """
        if self.verdict is not Verdict.VERIFIED:
            raise VerificationFailedError(self)


class VerificationFailedError(ProvenanceError):
    """A verification that did not end in VERIFIED, for fail-closed callers."""

    def __init__(self, report: VerificationReport) -> None:
        first = report.problems[0] if report.problems else report.verdict.value
        super().__init__(f"{report.file}: {first}")
        self.report = report

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return EXIT_NO_PROVENANCE if self.report.verdict is Verdict.NO_PROVENANCE else EXIT_FAILED
