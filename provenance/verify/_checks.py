"""Checks shared by the still and the clip verifiers, and the report sections they fill.

Everything here is internal. A verifier collects :class:`Checks` as it goes; the verdict is
VERIFIED only when none failed (``spec/verification.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from .. import _c2pa
from ..consent import Purpose, Use, scope_violations
from ..errors import ConsentError, ManifestError, ResolutionError
from ..manifest import CONSENT_LABEL, TRAINED_ALGORITHMIC_MEDIA, StampClaims, parse_claims
from ..repository import ManifestRepository
from ..resolution import ManifestResolver, ResolvedManifest
from ..watermark import ContentId, Detection, engine_algs
from .report import (
    Check,
    CheckStatus,
    LikenessSection,
    ManifestSection,
    StatusCode,
    WatermarkSection,
)

__all__ = [
    "HARD_BINDING_CODES",
    "SYNTHETIC_TYPES",
    "Checks",
    "check_claims",
    "check_likeness",
    "check_manifest",
    "check_watermark",
    "claims_or_none",
    "engine_alg",
    "find_record",
    "manifest_section",
    "watermark_section",
]

# Exact-bytes bindings: they must fail on a re-encoded copy, which is why a manifest
# recovered through the watermark is judged by the fingerprint instead.
HARD_BINDING_CODES = frozenset(
    {"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch"}
)
_UNTRUSTED = "signingCredential.untrusted"
SYNTHETIC_TYPES = frozenset(
    {
        TRAINED_ALGORITHMIC_MEDIA,
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic",
    }
)


@dataclass
class Checks:
    items: list[Check] = field(default_factory=list)
    # Set by find_record when a remote service answered, or failed to.
    resolved_from: str | None = None
    resolution_error: str | None = None

    def record(self, name: str, ok: bool, detail: str) -> bool:
        self.items.append(
            Check(name=name, status=CheckStatus.PASS if ok else CheckStatus.FAIL, detail=detail)
        )
        return ok

    def skip(self, name: str, detail: str) -> None:
        self.items.append(Check(name=name, status=CheckStatus.SKIP, detail=detail))

    @property
    def problems(self) -> list[str]:
        return [c.detail for c in self.items if c.status is CheckStatus.FAIL]


def manifest_section(
    reading: _c2pa.ManifestReading | None,
    recovered: bool,
    error: ManifestError | None,
    checks: Checks | None = None,
) -> ManifestSection:
    resolution_error = checks.resolution_error if checks is not None else None
    if reading is None:
        return ManifestSection(
            present=error is not None,
            source="embedded" if error is not None else None,
            validation_state="Invalid" if error is not None else None,
            resolution_error=resolution_error,
        )
    failures = [f for f in reading.failures if not (recovered and f.code in HARD_BINDING_CODES)]
    return ManifestSection(
        present=True,
        source="repository" if recovered else "embedded",
        recovered_via_watermark=recovered,
        resolved_from=checks.resolved_from if checks is not None and recovered else None,
        validation_state=_effective_state(reading, failures),
        c2pa_validation_state=reading.state.value,
        failures=[
            StatusCode(code=f.code, url=f.url, explanation=f.explanation) for f in reading.failures
        ],
        label=reading.label,
        signer=reading.signer_common_name,
        signer_issuer=reading.signer_issuer,
        signed_at=reading.signed_at,
        digital_source_type=_digital_source_type(reading.assertions)
        or _digital_source_type(reading.parent_assertions or {}),
        timestamped=any(s.code == "timeStamp.validated" for s in reading.successes),
        parent_label=reading.parent_label,
        edits=_edits(reading) if reading.parent_label else [],
    )


def check_manifest(
    reading: _c2pa.ManifestReading | None,
    manifest: ManifestSection,
    error: ManifestError | None,
    checks: Checks,
    *,
    allow_untrusted: bool,
) -> None:
    if error is not None:
        checks.record("manifest.readable", False, f"embedded manifest is corrupt: {error}")
        return
    if reading is None:
        return
    bad = [
        c.code
        for c in manifest.failures
        if c.code != _UNTRUSTED
        and not (manifest.recovered_via_watermark and c.code in HARD_BINDING_CODES)
    ]
    checks.record(
        "manifest.integrity",
        not bad,
        "manifest signature and bindings are intact"
        if not bad
        else f"manifest fails validation: {', '.join(bad)}",
    )
    trusted = manifest.validation_state == "Trusted"
    if trusted or allow_untrusted:
        checks.record(
            "manifest.trust",
            True,
            "signer chains to a trust anchor"
            if trusted
            else "signer untrusted, accepted by --allow-untrusted",
        )
    elif any(c.code == _UNTRUSTED for c in manifest.failures) or not bad:
        checks.record(
            "manifest.trust",
            False,
            "signer does not chain to a trust anchor (give --trust CA.pem)",
        )
    else:
        # An invalid manifest's signer is not vouched for, but blaming the trust anchors
        # would send the reader after the wrong fix.
        checks.record(
            "manifest.trust",
            False,
            "signer not trusted because the manifest itself is invalid",
        )
    checks.record(
        "manifest.synthetic",
        manifest.digital_source_type in SYNTHETIC_TYPES,
        f"digitalSourceType is {manifest.digital_source_type}",
    )


def check_claims(
    reading: _c2pa.ManifestReading | None, claims: StampClaims | None, checks: Checks
) -> StampClaims | None:
    if reading is None:
        return None
    if claims is None:
        try:
            parse_claims(stamp_assertions(reading))
        except ManifestError as exc:
            checks.record("manifest.claims", False, str(exc))
        return None
    return claims


def claims_or_none(reading: _c2pa.ManifestReading | None) -> StampClaims | None:
    if reading is None:
        return None
    try:
        return parse_claims(stamp_assertions(reading))
    except ManifestError:
        return None


def _effective_state(reading: _c2pa.ManifestReading, failures: list[Any]) -> str:
    if reading.state.value == "Trusted" or (
        not failures and any(s.code == "signingCredential.trusted" for s in reading.successes)
    ):
        return "Trusted"
    if all(f.code == _UNTRUSTED for f in failures):
        return "Valid"
    return "Invalid"


def _edits(reading: _c2pa.ManifestReading) -> list[str]:
    actions = reading.assertions.get("c2pa.actions.v2", {}).get("actions", [])
    return [str(a.get("action")) for a in actions if a.get("action") != "c2pa.opened"]


def stamp_assertions(reading: _c2pa.ManifestReading) -> Any:
    """The assertions holding the stamp: the active manifest's, or, when the active one is
    an update (a platform's ``label propagate``), its parent's."""
    if CONSENT_LABEL not in reading.assertions and reading.parent_assertions is not None:
        return reading.parent_assertions
    return reading.assertions


def _digital_source_type(assertions: Any) -> str | None:
    actions = assertions.get("c2pa.actions.v2", {}).get("actions", [])
    for action in actions:
        if action.get("action") == "c2pa.created":
            value = action.get("digitalSourceType")
            return str(value) if value is not None else None
    return None


def watermark_section(detection: Detection, claims: StampClaims | None) -> WatermarkSection:
    if not detection.detected:
        return WatermarkSection(detected=False, engine=detection.engine)
    assert detection.content_id is not None
    matches = None if claims is None else detection.content_id == claims.content_id
    return WatermarkSection(
        detected=True,
        engine=detection.engine,
        alg=claims.watermark_alg if claims is not None else None,
        payload=detection.content_id.hex,
        confidence=detection.confidence,
        corrected_bits=detection.corrected_bits,
        false_alarm_probability=detection.false_alarm_probability,
        matches_manifest=matches,
    )


def check_watermark(detection: Detection, claims: StampClaims | None, checks: Checks) -> None:
    if claims is None:
        return
    if not detection.detected:
        checks.record(
            "watermark.present",
            False,
            f"manifest declares watermark {claims.content_id} but none was found",
        )
        return
    assert detection.content_id is not None
    checks.record(
        "watermark.matches_manifest",
        detection.content_id == claims.content_id,
        f"watermark {detection.content_id} "
        + (
            "matches"
            if detection.content_id == claims.content_id
            else f"differs from the manifest's soft binding {claims.content_id}"
        ),
    )


def check_likeness(claims: StampClaims | None, checks: Checks) -> LikenessSection:
    if claims is None:
        return LikenessSection()
    grant = claims.grant
    try:
        grant.verify(claims.owner_signature)
        signature_ok = True
        checks.record(
            "likeness.owner_signature", True, "face owner's signature on the grant is valid"
        )
    except ConsentError as exc:
        signature_ok = False
        checks.record("likeness.owner_signature", False, f"face owner's signature: {exc}")
    violations = _violations(claims)
    checks.record(
        "likeness.in_scope",
        not violations,
        "declared use is within the consent scope"
        if not violations
        else "; ".join(f"{v['clause']}: {v['message']}" for v in violations),
    )
    return LikenessSection(
        face_id=grant.face_id,
        license_id=grant.license_id,
        license_sha256=claims.license_sha256,
        licensee=grant.licensee,
        owner_public_key=grant.owner.public_key,
        owner_signature_valid=signature_ok,
        declared_purpose=claims.use.purpose,
        declared_territory=claims.use.territory,
        stamped_at=claims.stamped_at.astimezone(UTC).isoformat(),
        scope=grant.scope.model_dump(mode="json"),
        in_scope=not violations,
        violations=violations,
    )


def _violations(claims: StampClaims) -> list[dict[str, str]]:
    try:
        purpose = Purpose(claims.use.purpose)
    except ValueError:
        return [{"clause": "purpose", "message": f"unknown purpose '{claims.use.purpose}'"}]
    found: list[dict[str, str]] = []
    for territory in claims.use.territory.split(","):
        use = Use(purpose, territory, claims.stamped_at, claims.use.licensee)
        for violation in scope_violations(claims.grant, use):
            entry = {"clause": violation.clause, "message": str(violation)}
            if entry not in found:
                found.append(entry)
    return found


def engine_alg(engine: str) -> str | None:
    """The soft-binding ``alg`` of the engine that read a payload (the remote query key)."""
    return engine_algs().get(engine)


def find_record(
    repository: ManifestRepository | None,
    content_id: ContentId,
    checks: Checks,
    *,
    resolver: ManifestResolver | None = None,
    alg: str | None = None,
) -> ResolvedManifest | None:
    """The signed manifest a watermark payload leads to, recording how the lookup went.

    The local repository is asked first, then the remote ``resolver`` (the vendor's
    service, ``spec/resolution.md``). A service that cannot answer gives a failed
    ``manifest.resolved`` check saying "could not resolve", never an exception.
    """
    if repository is None and resolver is None:
        checks.record(
            "manifest.resolved",
            False,
            f"watermark {content_id} found but no manifest repository is configured to resolve it",
        )
        return None
    if repository is not None:
        record = repository.get(content_id)
        if record is not None:
            checks.record(
                "manifest.resolved",
                True,
                f"manifest recovered from the repository by watermark {content_id}",
            )
            return ResolvedManifest(record.manifest_store, record.mime)
        if resolver is None:
            checks.record(
                "manifest.resolved",
                False,
                f"watermark {content_id} is not in the manifest repository",
            )
            return None
    assert resolver is not None
    return _resolve_remotely(resolver, content_id, alg, checks)


def _resolve_remotely(
    resolver: ManifestResolver, content_id: ContentId, alg: str | None, checks: Checks
) -> ResolvedManifest | None:
    try:
        found = resolver.resolve(content_id, alg=alg)
    except ResolutionError as exc:
        checks.resolution_error = str(exc)
        checks.record(
            "manifest.resolved", False, f"could not resolve watermark {content_id}: {exc}"
        )
        return None
    if found is None:
        checks.record(
            "manifest.resolved",
            False,
            f"watermark {content_id} is unknown to its issuer's resolution service",
        )
        return None
    checks.resolved_from = found.origin
    checks.record(
        "manifest.resolved",
        True,
        f"manifest recovered from {found.vendor or 'the vendor'} ({found.origin}) "
        f"by watermark {content_id}",
    )
    return found
