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
from pathlib import Path

from .. import _c2pa
from .._internal.files import read_input
from ..errors import ManifestError, WatermarkError
from ..fingerprint import fingerprint
from ..lifecycle import LifecycleSource
from ..manifest import ClipFacts, StampClaims
from ..media import LoadedImage, load_image
from ..media.image import sniff_format
from ..repository import ManifestRepository
from ..resolution import ManifestResolver
from ..trust import TrustAnchors
from ..watermark import Detection, detect_any, engine_for_alg
from ..watermark.thirdparty import detect_third_party
from ._checks import (
    HARD_BINDING_CODES,
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
from .labels import check_labels, read_still_labels
from .report import (
    ContentSection,
    LabelsSection,
    LicenseStatusSection,
    LikenessSection,
    ManifestSection,
    ThirdPartyMarkSection,
    Verdict,
    VerificationReport,
    WatermarkSection,
)
from .video import verify_video

__all__ = ["HARD_BINDING_CODES", "Verifier"]

_logger = logging.getLogger(__name__)


class Verifier:
    """Verifies stills and clips against one set of trust anchors.

    A stripped file's manifest is looked up by its watermark payload in ``repository``
    (the vendor's own), then through ``resolver`` (remote vendors' services, see
    :class:`provenance.resolution.RemoteResolver`); either may be None.
    """

    def __init__(
        self,
        *,
        trust: TrustAnchors,
        repository: ManifestRepository | None = None,
        allow_untrusted: bool = False,
        lifecycle: LifecycleSource | None = None,
        resolver: ManifestResolver | None = None,
    ) -> None:
        """Set up a verifier.

        Args:
            trust: the trust anchors manifests must chain to.
            repository: resolves stripped files by their watermark.
            allow_untrusted: UNSAFE, accept an untrusted signer (logged).
            lifecycle: revocations and supersessions (a workspace's registry or a status
                list); without it only expiry is reported.
        """
        self.trust = trust
        self.repository = repository
        self.resolver = resolver
        self.allow_untrusted = allow_untrusted
        self.lifecycle = lifecycle
        if allow_untrusted:
            _logger.warning("unsafe: accepting manifests whose signer is not trusted")

    def verify_file(self, path: Path) -> VerificationReport:
        """Verify the file at ``path``; it is only read, never modified.

        Stills (PNG, JPEG, WebP, told by their leading bytes) are verified here; anything
        else is treated as video (``verify.video``).

        Raises:
            InputError: missing, a directory, empty, truncated, or neither a supported
                image nor a decodable video.
        """
        if not _looks_like_still(path):
            return verify_video(
                path,
                trust=self.trust,
                repository=self.repository,
                allow_untrusted=self.allow_untrusted,
                lifecycle=self.lifecycle,
                resolver=self.resolver,
            )
        return self.verify_bytes(read_input(path), source=str(path))

    def verify_bytes(self, data: bytes, *, source: str) -> VerificationReport:
        """Verify an image held in memory; ``source`` names it in the report.

        Raises:
            InputError: empty, truncated or not a supported image.
        """
        image = load_image(data, source=source)
        checks = Checks()
        reading, manifest_error = self._read_embedded(image, data)
        claims = claims_or_none(reading)
        detection = _detect(image, claims)
        recovered = False
        if reading is None and manifest_error is None and detection.content_id is not None:
            reading = self._resolve(image, data, detection, checks)
            recovered = reading is not None
            claims = claims_or_none(reading)
        manifest = manifest_section(reading, recovered, manifest_error, checks)
        third_party = _third_party_marks(image)
        found_labels = read_still_labels(data, source=source)
        if reading is None and manifest_error is None and not detection.detected:
            return _report(
                source,
                image,
                data,
                Verdict.NO_PROVENANCE,
                False,
                manifest,
                watermark_section(detection, None),
                checks,
                third_party=third_party,
                labels=check_labels(found_labels, None, None, None),
            )
        check_manifest(
            reading, manifest, manifest_error, checks, allow_untrusted=self.allow_untrusted
        )
        claims = check_claims(reading, claims, checks)
        watermark = watermark_section(detection, claims)
        check_watermark(detection, claims, checks)
        content = _check_content(image, claims, recovered, checks)
        likeness = check_likeness(claims, checks)
        labels = check_labels(
            found_labels, claims, claims.content_id if claims else detection.content_id, checks
        )
        likeness, status = check_license_status(claims, likeness, self.lifecycle, checks)
        verdict = Verdict.VERIFIED if not checks.problems else Verdict.FAILED
        synthetic = detection.detected or manifest.digital_source_type in SYNTHETIC_TYPES
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
            labels=labels,
            license_status=status,
        )

    def _read_embedded(
        self, image: LoadedImage, data: bytes
    ) -> tuple[_c2pa.ManifestReading | None, ManifestError | None]:
        try:
            return _c2pa.read(mime=image.format.mime, asset=data, trust=self.trust), None
        except ManifestError as exc:
            return None, exc

    def _resolve(
        self, image: LoadedImage, data: bytes, detection: Detection, checks: Checks
    ) -> _c2pa.ManifestReading | None:
        assert detection.content_id is not None
        record = find_record(
            self.repository,
            detection.content_id,
            checks,
            resolver=self.resolver,
            alg=engine_alg(detection.engine),
        )
        if record is None:
            return None
        try:
            if record.mime != image.format.mime:
                # A frame taken out of a signed clip: the clip's manifest is validated on
                # its own, since its hard binding covers the MP4, not this still.
                return _c2pa.read_store(record.manifest_store, trust=self.trust)
            return _c2pa.read(
                mime=image.format.mime,
                asset=data,
                trust=self.trust,
                manifest_store=record.manifest_store,
            )
        except ManifestError as exc:
            checks.record("manifest.readable", False, f"stored manifest unreadable: {exc}")
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


def _check_content(
    image: LoadedImage, claims: StampClaims | None, recovered: bool, checks: Checks
) -> ContentSection:
    if claims is None or not recovered:
        if recovered:
            checks.skip("content.fingerprint", "no fingerprint to compare")
        return ContentSection()
    if claims.clip is not None:
        return _check_frame_of_clip(image, claims.clip, checks)
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


def _check_frame_of_clip(image: LoadedImage, clip: ClipFacts, checks: Checks) -> ContentSection:
    """A still from a signed clip: compare it with the clip's fingerprinted moments.

    A frame between two fingerprinted moments need not match either, so no match is a
    skipped check (the still's moment cannot be told), not a failure; a match is a pass.
    """
    timeline = clip.timeline
    if timeline is None or not timeline.entries:
        checks.skip("content.fingerprint", "the signed clip carries no fingerprints")
        return ContentSection()
    found = fingerprint(image.rgb, grid=timeline.grid)
    best = min(
        (signed.compare(found) for _, signed in timeline.entries),
        key=lambda c: (c.changed_cells, c.max_cell_difference),
    )
    if best.matches:
        checks.record(
            "content.fingerprint", True, "frame matches a fingerprinted moment of the signed clip"
        )
    else:
        checks.skip(
            "content.fingerprint",
            "frame of a signed clip, between its fingerprinted moments: its pixels are not "
            "checked (verify the clip itself for that)",
        )
    return ContentSection(
        fingerprint_checked=True,
        fingerprint_match=best.matches,
        max_cell_difference=best.max_cell_difference,
        changed_cells=best.changed_cells,
    )


def _looks_like_still(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return True  # let read_input raise its one-line error
    return not head or sniff_format(head) is not None


def _report(
    source: str,
    image: LoadedImage,
    data: bytes,
    verdict: Verdict,
    synthetic: bool,
    manifest: ManifestSection,
    watermark: WatermarkSection,
    checks: Checks,
    *,
    content: ContentSection | None = None,
    likeness: LikenessSection | None = None,
    third_party: list[ThirdPartyMarkSection] | None = None,
    labels: LabelsSection | None = None,
    license_status: LicenseStatusSection | None = None,
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
        license_status=license_status,
        checks=checks.items,
        labels=labels or LabelsSection(),
    )
