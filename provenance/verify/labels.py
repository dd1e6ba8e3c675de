"""Labelling-law metadata at verify time: read what the file carries, check it, report it.

The GB 45438 label is read from every placement the stamper writes (XMP in stills; the
``AIGC`` container tag and the XMP box in clips) and checked against itself (ReservedCode1,
ReservedCode2), the content ID and the copy signed into the manifest. A label that is present
and wrong fails verification; a label that is absent does not (a re-encoded upload loses its
metadata); ``verify --profile cn`` is where absence counts (``verify.profiles``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, LabelError
from ..labels import INTEGRITY_PREFIX, AigcLabel, parse_xmp
from ..manifest import StampClaims
from ..media import container_tags
from ..media.metadata import read_mp4_xmp, read_xmp
from ..watermark import ContentId
from ._checks import Checks
from .report import (
    AigcLabelSection,
    LabelsSection,
    LatentDisclosureSection,
    VisibleLabelSection,
)

__all__ = ["FileLabels", "check_labels", "read_clip_labels", "read_still_labels"]


@dataclass
class FileLabels:
    """The raw label metadata of one file."""

    aigc: dict[str, str] = field(default_factory=dict)
    """Placement (``xmp``, ``mp4-mdta``, ``mp4-xmp``) to the AIGC JSON text found there."""
    digital_source_type: str | None = None
    problems: list[str] = field(default_factory=list)

    def add_xmp(self, packet: bytes | None, placement: str) -> None:
        if packet is None:
            return
        try:
            found = parse_xmp(packet)
        except LabelError as exc:
            self.problems.append(f"{placement}: {exc}")
            return
        if found.aigc is not None:
            self.aigc[placement] = found.aigc
        self.digital_source_type = self.digital_source_type or found.digital_source_type


def read_still_labels(data: bytes, *, source: str) -> FileLabels:
    """The XMP labels of a PNG, JPEG or WebP file (damaged structure: a problem, no raise)."""
    labels = FileLabels()
    try:
        labels.add_xmp(read_xmp(data, source=source), "xmp")
    except InputError as exc:
        labels.problems.append(str(exc))
    return labels


def read_clip_labels(path: Path, *, bmff: bool) -> FileLabels:
    """The ``AIGC`` container tag (any container) and, for MP4/MOV, the XMP box."""
    labels = FileLabels()
    tags = {key.lower(): value for key, value in container_tags(path).items()}
    if "aigc" in tags:
        labels.aigc["mp4-mdta" if bmff else "container-tag"] = tags["aigc"]
    if bmff:
        try:
            labels.add_xmp(read_mp4_xmp(path), "mp4-xmp")
        except InputError as exc:
            labels.problems.append(str(exc))
    return labels


def check_labels(
    found: FileLabels,
    claims: StampClaims | None,
    content_id: ContentId | None,
    checks: Checks | None,
) -> LabelsSection:
    """The labels section; with ``checks``, a present-but-wrong label fails verification.

    ``content_id`` is the ID the manifest or watermark established (None if neither did).
    """
    return LabelsSection(
        aigc=_check_aigc(found, claims, content_id, checks or Checks()),
        xmp_digital_source_type=found.digital_source_type,
        latent_disclosure=_disclosure(claims),
        visible_label=_visible(claims),
    )


def _check_aigc(
    found: FileLabels, claims: StampClaims | None, content_id: ContentId | None, checks: Checks
) -> AigcLabelSection:
    if not found.aigc:
        return AigcLabelSection(problems=list(found.problems))
    placements = sorted(found.aigc)
    texts = {found.aigc[p] for p in placements}
    first = found.aigc[placements[0]]
    try:
        label = AigcLabel.from_json(first)
    except LabelError as exc:
        checks.record("label.aigc.well_formed", False, f"AIGC label: {exc}")
        return AigcLabelSection(
            present=True, placements=placements, well_formed=False, problems=[str(exc)]
        )
    problems = list(found.problems)
    agree = len(texts) == 1
    if not agree:
        detail = "AIGC label differs between placements: " + ", ".join(placements)
        problems.append(_fail(checks, "label.aigc.placements", detail))
    integrity = _integrity(label, checks, problems)
    propagator = label.propagator_integrity_ok()
    if propagator is False:
        problems.append(
            _fail(
                checks,
                "label.aigc.propagator",
                "AIGC label altered: ReservedCode2 does not match ContentPropagator/PropagateID",
            )
        )
    produce_ok = None if content_id is None else label.produce_id == content_id.hex
    if produce_ok is False:
        problems.append(
            _fail(
                checks,
                "label.aigc.produce_id",
                f"AIGC ProduceID {label.produce_id} is not the content ID {content_id}",
            )
        )
    signed = _matches_signed(label, claims, checks, problems)
    return AigcLabelSection(
        present=True,
        placements=placements,
        fields=label.fields(),
        well_formed=True,
        integrity_valid=integrity,
        produce_id_matches=produce_ok,
        matches_signed_copy=signed,
        placements_agree=agree,
        propagated=not label.first_written,
        propagator_integrity_valid=propagator,
        problems=problems,
    )


def _fail(checks: Checks, name: str, detail: str) -> str:
    checks.record(name, False, detail)
    return detail


def _integrity(label: AigcLabel, checks: Checks, problems: list[str]) -> bool | None:
    if not label.reserved_code1.startswith(INTEGRITY_PREFIX):
        return None  # another producer's own value: not ours to judge
    ok = label.producer_integrity_ok()
    if ok:
        checks.record("label.aigc.integrity", True, "AIGC ReservedCode1 matches its fields")
    else:
        problems.append(
            _fail(
                checks,
                "label.aigc.integrity",
                "AIGC label altered: ReservedCode1 does not match Label/ContentProducer/ProduceID",
            )
        )
    return ok


def _matches_signed(
    label: AigcLabel, claims: StampClaims | None, checks: Checks, problems: list[str]
) -> bool | None:
    if claims is None or claims.aigc is None:
        return None
    signed = claims.aigc.fields()
    mine = label.fields()
    producer_fields = ("Label", "ContentProducer", "ProduceID", "ReservedCode1")
    differ = [name for name in producer_fields if signed[name] != mine[name]]
    if differ:
        problems.append(
            _fail(
                checks,
                "label.aigc.signed_copy",
                f"AIGC label differs from the signed copy in {', '.join(differ)}",
            )
        )
        return False
    checks.record("label.aigc.signed_copy", True, "AIGC label matches the signed copy")
    return True


def _disclosure(claims: StampClaims | None) -> LatentDisclosureSection:
    if claims is None or claims.disclosure is None:
        return LatentDisclosureSection()
    d = claims.disclosure
    return LatentDisclosureSection(
        present=True,
        provider=d.provider,
        system_name=d.system_name,
        system_version=d.system_version,
        created_at=d.created_at.isoformat().replace("+00:00", "Z"),
        unique_id=d.unique_id,
    )


def _visible(claims: StampClaims | None) -> VisibleLabelSection:
    if claims is None or claims.visible_label is None:
        return VisibleLabelSection()
    v = claims.visible_label
    return VisibleLabelSection(
        declared=True,
        text=v.text,
        language=v.language,
        position=v.position,
        text_height_ratio=round(v.height_ratio, 4),
        duration_s=v.duration_ms / 1000 if v.duration_ms is not None else None,
    )
