"""Write an evidence bundle: statement, artifacts, page, signature and time-stamp.

The bundle is a directory (``spec/evidence.md``)::

    evidence.json                  statement + Ed25519 signature + optional RFC 3161 token
    index.html                     the page a person reads (self-contained)
    files/NN/verify-report.json    the full verify report of file NN
    files/NN/thumb-*.jpg           pictures of file NN

Every file but ``evidence.json`` is listed in the statement with its SHA-256, so the one
signature covers them all. The directory is assembled under a temporary name beside the
destination and renamed into place, so a failure never leaves half a bundle.
"""

from __future__ import annotations

import base64
import contextlib
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .._internal.canonical import canonical_bytes, sha256_hex
from .._internal.files import write_atomic
from ..errors import OutputExistsError
from ..lifecycle import LicenseState
from ..owner import OwnerKey
from ..trust import TrustAnchors
from ..verify import VerificationReport
from .collect import Examination
from .judge import Observation, judge
from .model import (
    Artifact,
    BundleSignature,
    EvidenceBundle,
    EvidenceVerdict,
    FileEvidence,
    Finding,
    LicenseFinding,
    Reporter,
    Statement,
    TimelinePoint,
)
from .page import render_page

__all__ = ["BUNDLE_FILE", "PAGE_FILE", "Signing", "write_bundle"]

BUNDLE_FILE = "evidence.json"
PAGE_FILE = "index.html"


@dataclass(frozen=True)
class Signing:
    """Who signs the bundle, and where its signature is time-stamped.

    Attributes:
        key: the reporter's Ed25519 key (a face owner's key from ``keys owner``).
        name: how the reporter is named in the bundle, or None.
        tsa_url: an RFC 3161 time-stamp authority, or None for no time-stamp.
    """

    key: OwnerKey
    name: str | None = None
    tsa_url: str | None = None


def write_bundle(
    examinations: Sequence[Examination],
    out_dir: Path,
    *,
    face_id: str,
    observation: Observation,
    signing: Signing,
    trust: TrustAnchors,
    repository_used: bool,
    revocations: Mapping[str, datetime] | None = None,
    force: bool = False,
) -> EvidenceBundle:
    """Judge every examination and write the signed bundle to ``out_dir``.

    Args:
        examinations: from :func:`~provenance.evidence.collect.examine_all`.
        out_dir: the bundle directory to create.
        face_id: the face whose owner reports.
        observation: the use the reporter saw.
        signing: the reporter's key, name and time-stamp authority.
        trust: the trust anchors verification used (recorded by fingerprint).
        repository_used: whether a manifest repository resolved watermarks.
        revocations: license ID -> effective time of its revocation, for the ``revoked``
            clause (``spec/evidence.md`` section 3).
        force: replace an existing ``out_dir``.

    Raises:
        OutputExistsError: ``out_dir`` exists and ``force`` is false.
        TimestampError: a TSA URL was given and no usable token came back.
    """
    if out_dir.exists() and not force:
        raise OutputExistsError(f"{out_dir}: already exists (use --force to replace it)")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        bundle = _assemble(
            work, examinations, face_id, observation, signing, trust, repository_used,
            revocations or {},
        )  # fmt: skip
        write_atomic(work / BUNDLE_FILE, bundle.to_json())
        _move_into_place(work, out_dir, force=force)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return bundle


def _assemble(
    work: Path,
    examinations: Sequence[Examination],
    face_id: str,
    observation: Observation,
    signing: Signing,
    trust: TrustAnchors,
    repository_used: bool,
    revocations: Mapping[str, datetime],
) -> EvidenceBundle:
    files = [
        _file_evidence(work, index, exam, face_id, observation, revocations)
        for index, exam in enumerate(examinations, start=1)
    ]
    statement = Statement(
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        tool=f"avatar-provenance {_version()}",
        reporter=Reporter(name=signing.name, public_key=signing.key.public_key),
        face_id=face_id,
        observed=observation.to_model(),
        trust_anchors=list(trust.fingerprints),
        repository=repository_used,
        files=files,
        summary=dict(Counter(f.verdict.value for f in files)),
    )
    page = _artifact(work, PAGE_FILE, "page", render_page(statement))
    statement = statement.model_copy(update={"page": page})
    signature = signing.key.sign(canonical_bytes(statement.to_dict()))
    timestamp = None
    if signing.tsa_url:
        from ._tsa import request_timestamp

        timestamp = request_timestamp(signing.tsa_url, signature)
    return EvidenceBundle(
        statement=statement,
        signature=BundleSignature(
            public_key=signing.key.public_key, value=base64.b64encode(signature).decode("ascii")
        ),
        timestamp=timestamp,
    )


def _revoked_at(
    report: VerificationReport, revocations: Mapping[str, datetime]
) -> datetime | None:
    """When the license was revoked: given by the caller, else from the report's status."""
    license_id = report.likeness.license_id
    if license_id and license_id in revocations:
        return revocations[license_id]
    status = report.license_status
    if status is None:
        return None
    for state, since in ((status.at_signing, status.at_signing_since),
                         (status.now, status.now_since)):
        if state == LicenseState.REVOKED and since:
            return datetime.fromisoformat(since)
    return None


def _file_evidence(
    work: Path,
    index: int,
    exam: Examination,
    face_id: str,
    observation: Observation,
    revocations: Mapping[str, datetime],
) -> FileEvidence:
    base = {"index": index, "name": exam.name, "path": str(exam.path)}
    facts = {"sha256": exam.sha256, "size": exam.size, "kind": exam.kind}
    report = exam.report
    if report is None:
        return FileEvidence(
            **base, **facts, verdict=EvidenceVerdict.UNREADABLE, reasons=[exam.error or "?"],
            error=exam.error,
        )  # fmt: skip
    folder = f"files/{index:02d}"
    artifacts = [
        _artifact(work, f"{folder}/verify-report.json", "verify-report", report.to_json().encode())
    ]
    for time_ms, jpeg in exam.thumbnails:
        name = "thumb.jpg" if time_ms is None else f"thumb-{time_ms:07d}ms.jpg"
        artifacts.append(_artifact(work, f"{folder}/{name}", "thumbnail", jpeg, time_ms=time_ms))
    verdict = judge(
        report,
        face_id=face_id,
        observation=observation,
        revoked_at=_revoked_at(report, revocations),
    )
    return FileEvidence(
        **base,
        **facts,
        verdict=verdict.verdict,
        reasons=verdict.reasons,
        clauses=verdict.clauses,
        finding=_finding(report),
        license=_license(report),
        timeline=[
            TimelinePoint(
                time_ms=round(s.time_s * 1000),
                bit_agreement=None if s.bit_agreement is None else f"{s.bit_agreement:.4f}",
                detected=s.detected,
            )
            for s in exam.timeline
        ],
        artifacts=artifacts,
    )


def _number(value: float | None) -> str | None:
    """A float as the shortest decimal text that keeps 15 significant digits."""
    return None if value is None else f"{value:.15g}"


def _finding(report: VerificationReport) -> Finding:
    manifest, mark = report.manifest, report.watermark
    return Finding(
        verify_verdict=report.verdict.value,
        format=report.format,
        manifest_present=manifest.present,
        manifest_source=manifest.source,
        validation_state=manifest.validation_state,
        validation_codes=[f.code for f in manifest.failures],
        signer=manifest.signer,
        signed_at=manifest.signed_at,
        watermark_detected=mark.detected,
        watermark_engine=mark.engine,
        watermark_payload=mark.payload,
        watermark_confidence=_number(mark.confidence),
        watermark_false_alarm_probability=_number(mark.false_alarm_probability),
        frames_checked=report.video.frames_checked if report.video else None,
        problems=report.problems,
    )


def _license(report: VerificationReport) -> LicenseFinding | None:
    like = report.likeness
    if like.face_id is None:
        return None
    scope = like.scope or {}
    return LicenseFinding(
        face_id=like.face_id,
        license_id=like.license_id,
        license_sha256=like.license_sha256,
        licensee=like.licensee,
        owner_public_key=like.owner_public_key,
        owner_signature_valid=like.owner_signature_valid,
        declared_purpose=like.declared_purpose,
        declared_territory=like.declared_territory,
        stamped_at=like.stamped_at,
        allow=list(scope.get("allow", [])),
        deny=list(scope.get("deny", [])),
        territories=list(scope.get("territories", [])),
        not_before=scope.get("not_before"),
        not_after=scope.get("not_after"),
    )


def _artifact(
    work: Path, relative: str, kind: str, data: bytes, *, time_ms: int | None = None
) -> Artifact:
    write_atomic(work / relative, data)
    return Artifact(
        path=relative, kind=kind, sha256=sha256_hex(data), size=len(data), time_ms=time_ms
    )


def _move_into_place(work: Path, out_dir: Path, *, force: bool) -> None:
    work.chmod(0o755)
    if not out_dir.exists():
        work.rename(out_dir)
        return
    if not force:
        raise OutputExistsError(f"{out_dir}: already exists (use --force to replace it)")
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
    old.rmdir()
    out_dir.rename(old)
    work.rename(out_dir)
    with contextlib.suppress(OSError):
        shutil.rmtree(old)


def _version() -> str:
    try:
        return version("avatar-provenance")
    except PackageNotFoundError:
        return "unknown"
