"""The evidence bundle: what was examined, what was found, the verdict, and who signed it.

``evidence.json`` (``spec/evidence.md``) is one :class:`EvidenceBundle`: a
:class:`Statement` signed by the reporter's Ed25519 key over its canonical bytes, and an
optional RFC 3161 time-stamp over that signature. Canonical JSON carries no floats, so every
measured fraction in a statement is a decimal string; the full verify report of each file
(floats and all) is an artifact beside it, named by its SHA-256.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "EVIDENCE_SCHEMA",
    "Artifact",
    "BundleSignature",
    "Clause",
    "ClauseViolation",
    "EvidenceBundle",
    "EvidenceVerdict",
    "FileEvidence",
    "Finding",
    "LicenseFinding",
    "ObservedUse",
    "Reporter",
    "Statement",
    "TimelinePoint",
    "Timestamp",
]

EVIDENCE_SCHEMA = "avatar-provenance/evidence/v1"


class EvidenceVerdict(StrEnum):
    """What a file shows about the face owner's consent."""

    IN_SCOPE = "in_scope"
    OUT_OF_SCOPE = "out_of_scope"
    NO_LICENSE = "no_license"
    NOT_THIS_FACE = "not_this_face"
    UNVERIFIED = "unverified"
    UNREADABLE = "unreadable"


class Clause(StrEnum):
    """A license clause a use can break (``spec/consent.md`` section 7)."""

    PURPOSE = "purpose"
    TERRITORY = "territory"
    DATE = "date"
    REVOKED = "revoked"
    LICENSEE = "licensee"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClauseViolation(_Model):
    """One broken clause; ``basis`` says whether the stamped use or the observed use broke it."""

    clause: Clause
    basis: str = Field(description="'declared' (the use signed into the file) or 'observed'")
    message: str


class ObservedUse(_Model):
    """How the reporter saw the files used; the same for every file of one report."""

    purpose: str | None = Field(None, description="a purpose of spec/consent.md section 3")
    territory: str | None = Field(None, description="ISO 3166-1 alpha-2 or EU")
    observed_at: str = Field(description="UTC date-time the use was observed")
    source_url: str | None = None


class Artifact(_Model):
    """A file in the bundle directory, bound to the signed statement by its hash."""

    path: str = Field(description="relative to the bundle directory, '/'-separated")
    kind: str = Field(description="'verify-report', 'thumbnail' or 'page'")
    sha256: str
    size: int
    time_ms: int | None = Field(None, description="for a video thumbnail, the frame's time")


class TimelinePoint(_Model):
    """One frame's watermark evidence on its own (``spec/video.md``)."""

    time_ms: int
    bit_agreement: str | None = Field(
        None, description="share of payload bits read as the clip's payload, decimal string"
    )
    detected: bool


class Finding(_Model):
    """What verification found in the file (the full report is an artifact)."""

    verify_verdict: str = Field(description="verified, failed or no_provenance")
    format: str | None = None
    manifest_present: bool
    manifest_source: str | None = Field(None, description="'embedded', 'repository' or null")
    validation_state: str | None = None
    validation_codes: list[str] = Field(default_factory=list)
    signer: str | None = None
    signed_at: str | None = None
    watermark_detected: bool
    watermark_engine: str | None = None
    watermark_payload: str | None = None
    watermark_confidence: str | None = Field(None, description="decimal string")
    watermark_false_alarm_probability: str | None = Field(None, description="decimal string")
    frames_checked: int | None = None
    problems: list[str] = Field(default_factory=list)


class LicenseFinding(_Model):
    """The consent grant the provenance names, and the use it declares."""

    face_id: str | None = None
    license_id: str | None = None
    license_sha256: str | None = None
    licensee: str | None = None
    owner_public_key: str | None = None
    owner_signature_valid: bool | None = None
    declared_purpose: str | None = None
    declared_territory: str | None = None
    stamped_at: str | None = None
    allow: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)
    territories: list[str] = Field(default_factory=list)
    not_before: str | None = None
    not_after: str | None = None


class FileEvidence(_Model):
    """One examined file."""

    index: int
    name: str = Field(description="the file's path as given to the report")
    path: str = Field(description="its absolute path when examined")
    sha256: str | None = None
    size: int | None = None
    kind: str | None = Field(None, description="'image' or 'video'")
    verdict: EvidenceVerdict
    reasons: list[str] = Field(default_factory=list)
    clauses: list[ClauseViolation] = Field(default_factory=list)
    finding: Finding | None = None
    license: LicenseFinding | None = None
    timeline: list[TimelinePoint] = Field(default_factory=list)
    artifacts: list[Artifact] = Field(default_factory=list)
    error: str | None = None


class Reporter(_Model):
    name: str | None = None
    public_key: str = Field(description="'ed25519:' + base64 of the raw key")


class Statement(_Model):
    """Everything the reporter signs."""

    schema_: str = Field(EVIDENCE_SCHEMA, alias="schema")
    created_at: str = Field(description="UTC date-time the report was made")
    tool: str = Field(description="'avatar-provenance <version>'")
    reporter: Reporter
    face_id: str
    observed: ObservedUse
    trust_anchors: list[str] = Field(
        default_factory=list, description="SHA-256 of each trust anchor certificate used"
    )
    repository: bool = Field(description="a manifest repository was used to resolve marks")
    files: list[FileEvidence]
    summary: dict[str, int] = Field(description="files per verdict")
    page: Artifact | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form that is signed (wire names, no floats)."""
        return self.model_dump(mode="json", by_alias=True)


class BundleSignature(_Model):
    alg: str = Field("Ed25519")
    public_key: str
    value: str = Field(description="standard base64 of the 64-byte signature")


class Timestamp(_Model):
    """An RFC 3161 time-stamp token over the signature's bytes."""

    tsa_url: str
    hash_alg: str = "sha256"
    message_imprint: str = Field(description="hex SHA-256 of the raw signature bytes")
    gen_time: str = Field(description="the TSA's time, UTC")
    serial_number: str
    response: str = Field(description="standard base64 of the DER TimeStampResp")


class EvidenceBundle(_Model):
    """The whole of ``evidence.json``."""

    statement: Statement
    signature: BundleSignature
    timestamp: Timestamp | None = None

    def to_json(self) -> bytes:
        """Pretty JSON as written to ``evidence.json`` (never what is signed)."""
        text = json.dumps(self.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)
        return (text + "\n").encode()


def export_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``evidence.json``, as committed in ``spec/schemas``."""
    schema = EvidenceBundle.model_json_schema(by_alias=True, mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
