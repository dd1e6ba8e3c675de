"""Verify a still: manifest, watermark, their agreement, content integrity, consent scope.

The procedure is normative in ``spec/verification.md``. In short: read the embedded manifest
against the trust anchors; detect the watermark; if the manifest is gone, resolve it from the
repository by the watermark payload and validate it against the file, where the exact-bytes
hard binding cannot match any more and the signed perceptual fingerprint decides instead;
then check the owner's signature on the grant and the declared use against its scope.
Other generators' own marks (e.g. SDXL's) are listed beside the verdict, never counted in it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from .. import _c2pa
from .._internal.files import read_input
from ..consent import Purpose, Use, scope_violations
from ..errors import ConsentError, ManifestError, WatermarkError
from ..fingerprint import fingerprint
from ..manifest import TRAINED_ALGORITHMIC_MEDIA, StampClaims, parse_claims
from ..media import LoadedImage, load_image
from ..repository import ManifestRepository
from ..trust import TrustAnchors
from ..watermark import Detection, detect_any, engine_for_alg
from ..watermark.thirdparty import detect_third_party
from .report import (
    Check,
    CheckStatus,
    ContentSection,
    LikenessSection,
    ManifestSection,
    StatusCode,
    ThirdPartyMarkSection,
    Verdict,
    VerificationReport,
    WatermarkSection,
)

__all__ = ["HARD_BINDING_CODES", "Verifier"]

_logger = logging.getLogger(__name__)

# Exact-bytes bindings: they must fail on a re-encoded copy, which is why a manifest
# recovered through the watermark is judged by the fingerprint instead.
HARD_BINDING_CODES = frozenset(
    {"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch"}
)
_UNTRUSTED = "signingCredential.untrusted"
_SYNTHETIC_TYPES = frozenset(
    {
        TRAINED_ALGORITHMIC_MEDIA,
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic",
    }
)


@dataclass
class _Checks:
    items: list[Check] = field(default_factory=list)

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


class Verifier:
    """Verifies stills against one set of trust anchors and (optionally) a repository."""

    def __init__(
        self,
        *,
        trust: TrustAnchors,
        repository: ManifestRepository | None = None,
        allow_untrusted: bool = False,
    ) -> None:
        self.trust = trust
        self.repository = repository
        self.allow_untrusted = allow_untrusted
        if allow_untrusted:
            _logger.warning("unsafe: accepting manifests whose signer is not trusted")

    def verify_file(self, path: Path) -> VerificationReport:
        """Verify the file at ``path``; it is only read, never modified.

        Raises:
            InputError: missing, a directory, empty, truncated or not a supported image.
        """
        return self.verify_bytes(read_input(path), source=str(path))

    def verify_bytes(self, data: bytes, *, source: str) -> VerificationReport:
        """Verify an image held in memory; ``source`` names it in the report.

        Raises:
            InputError: empty, truncated or not a supported image.
        """
        image = load_image(data, source=source)
        checks = _Checks()
        reading, manifest_error = self._read_embedded(image, data)
        claims = _claims_or_none(reading)
        detection = _detect(image, claims)
        recovered = False
        if reading is None and manifest_error is None and detection.content_id is not None:
            reading = self._resolve(image, data, detection, checks)
            recovered = reading is not None
            claims = _claims_or_none(reading)
        manifest = self._manifest_section(reading, recovered, manifest_error)
        third_party = _third_party_marks(image)
        if reading is None and manifest_error is None and not detection.detected:
            return _report(
                source,
                image,
                data,
                Verdict.NO_PROVENANCE,
                False,
                manifest,
                _watermark_section(detection, None),
                checks,
                third_party=third_party,
            )
        self._check_manifest(reading, manifest, manifest_error, checks)
        claims = self._check_claims(reading, claims, checks)
        watermark = _watermark_section(detection, claims)
        _check_watermark(detection, claims, checks)
        content = _check_content(image, claims, recovered, checks)
        likeness = _check_likeness(claims, checks)
        verdict = Verdict.VERIFIED if not checks.problems else Verdict.FAILED
        synthetic = detection.detected or manifest.digital_source_type in _SYNTHETIC_TYPES
        return _report(
            source,
            image,
            data,
            verdict,
            synthetic,
            manifest,
            watermark,
            checks,
            content=content,
            likeness=likeness,
            third_party=third_party,
        )

    def _read_embedded(
        self, image: LoadedImage, data: bytes
    ) -> tuple[_c2pa.ManifestReading | None, ManifestError | None]:
        try:
            return _c2pa.read(mime=image.format.mime, asset=data, trust=self.trust), None
        except ManifestError as exc:
            return None, exc

    def _resolve(
        self, image: LoadedImage, data: bytes, detection: Detection, checks: _Checks
    ) -> _c2pa.ManifestReading | None:
        assert detection.content_id is not None
        if self.repository is None:
            checks.record(
                "manifest.resolved",
                False,
                f"watermark {detection.content_id} found but no manifest repository "
                "is configured to resolve it",
            )
            return None
        record = self.repository.get(detection.content_id)
        if record is None:
            checks.record(
                "manifest.resolved",
                False,
                f"watermark {detection.content_id} is not in the manifest repository",
            )
            return None
        checks.record(
            "manifest.resolved",
            True,
            f"manifest recovered from the repository by watermark {detection.content_id}",
        )
        try:
            return _c2pa.read(
                mime=image.format.mime,
                asset=data,
                trust=self.trust,
                manifest_store=record.manifest_store,
            )
        except ManifestError as exc:
            checks.record("manifest.readable", False, f"stored manifest unreadable: {exc}")
            return None

    def _manifest_section(
        self,
        reading: _c2pa.ManifestReading | None,
        recovered: bool,
        error: ManifestError | None,
    ) -> ManifestSection:
        if reading is None:
            return ManifestSection(
                present=error is not None,
                source="embedded" if error is not None else None,
                validation_state="Invalid" if error is not None else None,
            )
        failures = [f for f in reading.failures if not (recovered and f.code in HARD_BINDING_CODES)]
        return ManifestSection(
            present=True,
            source="repository" if recovered else "embedded",
            recovered_via_watermark=recovered,
            validation_state=_effective_state(reading, failures),
            c2pa_validation_state=reading.state.value,
            failures=[
                StatusCode(code=f.code, url=f.url, explanation=f.explanation)
                for f in reading.failures
            ],
            label=reading.label,
            signer=reading.signer_common_name,
            signer_issuer=reading.signer_issuer,
            signed_at=reading.signed_at,
            digital_source_type=_digital_source_type(reading.assertions),
        )

    def _check_manifest(
        self,
        reading: _c2pa.ManifestReading | None,
        manifest: ManifestSection,
        error: ManifestError | None,
        checks: _Checks,
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
        if trusted or self.allow_untrusted:
            checks.record(
                "manifest.trust",
                True,
                "signer chains to a trust anchor"
                if trusted
                else "signer untrusted, accepted by --allow-untrusted",
            )
        else:
            checks.record(
                "manifest.trust",
                False,
                "signer does not chain to a trust anchor (give --trust CA.pem)",
            )
        checks.record(
            "manifest.synthetic",
            manifest.digital_source_type in _SYNTHETIC_TYPES,
            f"digitalSourceType is {manifest.digital_source_type}",
        )

    def _check_claims(
        self, reading: _c2pa.ManifestReading | None, claims: StampClaims | None, checks: _Checks
    ) -> StampClaims | None:
        if reading is None:
            return None
        if claims is None:
            try:
                parse_claims(reading.assertions)
            except ManifestError as exc:
                checks.record("manifest.claims", False, str(exc))
            return None
        return claims


def _claims_or_none(reading: _c2pa.ManifestReading | None) -> StampClaims | None:
    if reading is None:
        return None
    try:
        return parse_claims(reading.assertions)
    except ManifestError:
        return None


def _detect(image: LoadedImage, claims: StampClaims | None) -> Detection:
    if claims is not None:
        try:
            return engine_for_alg(claims.watermark_alg).detect(image.rgb)
        except WatermarkError:
            # An engine this SDK does not know: the manifest still names it, and the
            # watermark check then reports whatever the known engines find.
            _logger.info("unknown watermark alg %s; trying every engine", claims.watermark_alg)
    return detect_any(image.rgb)


def _third_party_marks(image: LoadedImage) -> list[ThirdPartyMarkSection]:
    """Other generators' marks, reported beside the verdict and never counted towards it:
    a fixed public message proves nothing about who signed what (spec/third-party-marks.md).
    """
    return [
        ThirdPartyMarkSection(
            scheme=mark.scheme,
            label=mark.label,
            message=mark.message,
            matches=mark.matches,
            bits=mark.bits,
            false_alarm_probability=mark.false_alarm_probability,
        )
        for mark in detect_third_party(image.rgb)
    ]


def _effective_state(reading: _c2pa.ManifestReading, failures: list[Any]) -> str:
    if reading.state.value == "Trusted" or (
        not failures and any(s.code == "signingCredential.trusted" for s in reading.successes)
    ):
        return "Trusted"
    if all(f.code == _UNTRUSTED for f in failures):
        return "Valid"
    return "Invalid"


def _digital_source_type(assertions: Any) -> str | None:
    actions = assertions.get("c2pa.actions.v2", {}).get("actions", [])
    for action in actions:
        if action.get("action") == "c2pa.created":
            value = action.get("digitalSourceType")
            return str(value) if value is not None else None
    return None


def _watermark_section(detection: Detection, claims: StampClaims | None) -> WatermarkSection:
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


def _check_watermark(detection: Detection, claims: StampClaims | None, checks: _Checks) -> None:
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


def _check_content(
    image: LoadedImage, claims: StampClaims | None, recovered: bool, checks: _Checks
) -> ContentSection:
    if claims is None or not recovered:
        if recovered:
            checks.skip("content.fingerprint", "no fingerprint to compare")
        return ContentSection()
    if claims.fingerprint is None:
        checks.record(
            "content.fingerprint",
            False,
            "recovered manifest has no fingerprint to check the content against",
        )
        return ContentSection()
    comparison = claims.fingerprint.compare(fingerprint(image.rgb))
    checks.record(
        "content.fingerprint",
        comparison.matches,
        "content matches the signed fingerprint"
        if comparison.matches
        else f"content altered since signing: {comparison.changed_cells} of 1024 "
        f"regions changed (worst by {comparison.max_cell_difference} levels)",
    )
    return ContentSection(
        fingerprint_checked=True,
        fingerprint_match=comparison.matches,
        max_cell_difference=comparison.max_cell_difference,
        changed_cells=comparison.changed_cells,
    )


def _check_likeness(claims: StampClaims | None, checks: _Checks) -> LikenessSection:
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


def _report(
    source: str,
    image: LoadedImage,
    data: bytes,
    verdict: Verdict,
    synthetic: bool,
    manifest: ManifestSection,
    watermark: WatermarkSection,
    checks: _Checks,
    *,
    content: ContentSection | None = None,
    likeness: LikenessSection | None = None,
    third_party: list[ThirdPartyMarkSection] | None = None,
) -> VerificationReport:
    return VerificationReport(
        file=source,
        format=image.format.mime,
        sha256=hashlib.sha256(data).hexdigest(),
        verdict=verdict,
        synthetic=synthetic,
        problems=checks.problems,
        manifest=manifest,
        watermark=watermark,
        third_party_marks=third_party or [],
        content=content or ContentSection(),
        likeness=likeness or LikenessSection(),
        checks=checks.items,
    )
