"""Compliance profiles: which labelling obligations a verified file meets, field by field.

A profile is judged from a finished :class:`VerificationReport` alone, so it adds no file
access and no second opinion: ``verify --profile cn|eu|us-ca`` runs the normal verification
and then :func:`apply_profile`. Obligations, their sources and how each is decided are
normative in ``spec/labels.md``.

    >>> report = Verifier(trust=anchors).verify_file(path)          # doctest: +SKIP
    >>> apply_profile(report, Profile.CN).compliance.met             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from ..labels import LABEL_VALUES
from ._checks import SYNTHETIC_TYPES
from .report import (
    ComplianceSection,
    Obligation,
    ObligationStatus,
    VerificationReport,
)

__all__ = ["Profile", "apply_profile", "evaluate"]

MET, MISSED, UNKNOWN = ObligationStatus.MET, ObligationStatus.MISSED, ObligationStatus.UNKNOWN
_MIN_TEXT_RATIO = 0.05
_MIN_VIDEO_LABEL_S = 2.0

Judge = Callable[[VerificationReport], tuple[ObligationStatus, str]]


class Profile(StrEnum):
    CN = "cn"
    EU = "eu"
    US_CA = "us-ca"


def apply_profile(report: VerificationReport, profile: Profile) -> VerificationReport:
    """``report`` with its :attr:`~VerificationReport.compliance` section filled in."""
    return report.model_copy(update={"compliance": evaluate(report, profile)})


def evaluate(report: VerificationReport, profile: Profile) -> ComplianceSection:
    """Judge every obligation of ``profile``; ``met`` only when all of them are met."""
    obligations = [
        Obligation(id=oid, requirement=text, source=source, status=status, detail=detail)
        for oid, text, source, judge in _PROFILES[profile]
        for status, detail in [judge(report)]
    ]
    return ComplianceSection(
        profile=profile.value,
        met=all(o.status is MET for o in obligations),
        obligations=obligations,
    )


def _verdict(ok: bool | None, met: str, missed: str, unknown: str = "") -> tuple[
    ObligationStatus, str
]:
    if ok is None:
        return UNKNOWN, unknown
    return (MET, met) if ok else (MISSED, missed)


# --- China: Labeling Measures + GB 45438-2025 ------------------------------------------


def _cn_present(r: VerificationReport) -> tuple[ObligationStatus, str]:
    a = r.labels.aigc
    return _verdict(
        a.present,
        f"AIGC label in {', '.join(a.placements)}",
        "no AIGC label in the file's metadata",
    )


def _cn_fields(r: VerificationReport) -> tuple[ObligationStatus, str]:
    a = r.labels.aigc
    if not a.present:
        return MISSED, "no AIGC label"
    if not a.well_formed or a.fields is None:
        return MISSED, "AIGC label is not a seven-field JSON object: " + "; ".join(a.problems)
    empty = [k for k in ("ContentProducer", "ProduceID") if not a.fields[k]]
    if a.fields["Label"] not in LABEL_VALUES:
        return MISSED, f"Label is '{a.fields['Label']}', not 1, 2 or 3"
    if empty:
        return MISSED, f"empty {', '.join(empty)}"
    return MET, (
        f"Label {a.fields['Label']}, ContentProducer {a.fields['ContentProducer']}, "
        f"ProduceID {a.fields['ProduceID']}"
    )


def _cn_integrity(r: VerificationReport) -> tuple[ObligationStatus, str]:
    a = r.labels.aigc
    if not a.present or not a.well_formed:
        return MISSED, "no readable AIGC label"
    if a.problems:
        return MISSED, "; ".join(a.problems)
    if a.integrity_valid is None and a.matches_signed_copy is None:
        return UNKNOWN, "ReservedCode1 is not ours and no signed copy to compare with"
    return MET, "ReservedCode1, ProduceID and the signed copy agree with the label"


def _cn_placement(r: VerificationReport) -> tuple[ObligationStatus, str]:
    a = r.labels.aigc
    wanted = {"mp4-mdta", "container-tag"} if r.video is not None else {"xmp"}
    where = "container metadata key AIGC" if r.video is not None else "XMP TC260:AIGC"
    return _verdict(
        bool(wanted & set(a.placements)), f"found in the {where}", f"nothing in the {where}"
    )


def _cn_visible(r: VerificationReport) -> tuple[ObligationStatus, str]:
    v = r.labels.visible_label
    if not v.declared or v.text_height_ratio is None:
        return MISSED, "no visible label declared in the signed manifest"
    if v.text_height_ratio < _MIN_TEXT_RATIO:
        return MISSED, f"text height {v.text_height_ratio:.1%} of the shorter side (< 5%)"
    detail = f"'{v.text}', text {v.text_height_ratio:.1%} of the shorter side"
    if r.video is not None:
        needed = min(_MIN_VIDEO_LABEL_S, r.video.duration_s or _MIN_VIDEO_LABEL_S)
        if (v.duration_s or 0.0) + 1e-6 < needed:
            return MISSED, f"shown {v.duration_s} s from the start (< {needed:g} s)"
        detail += f", first {v.duration_s:g} s"
    return MET, detail + " (declared in the signed manifest; pixels not inspected)"


# --- EU: AI Act Art. 50 and the Code of Practice ---------------------------------------


def _manifest_intact(r: VerificationReport) -> bool:
    return r.manifest.present and r.manifest.validation_state in ("Trusted", "Valid")


def _eu_signed(r: VerificationReport) -> tuple[ObligationStatus, str]:
    m = r.manifest
    return _verdict(
        _manifest_intact(r),
        f"C2PA manifest {m.validation_state} ({m.source})",
        f"no intact signed manifest ({m.validation_state or 'none'})",
    )


def _eu_timestamp(r: VerificationReport) -> tuple[ObligationStatus, str]:
    return _verdict(
        _manifest_intact(r) and bool(r.manifest.timestamped),
        f"RFC 3161 time-stamp at {r.manifest.signed_at}",
        "the signature carries no validated RFC 3161 time-stamp (stamp with --tsa-url)",
    )


def _eu_synthetic(r: VerificationReport) -> tuple[ObligationStatus, str]:
    dst = r.manifest.digital_source_type
    return _verdict(
        dst in SYNTHETIC_TYPES, f"digitalSourceType {dst}", f"digitalSourceType is {dst}"
    )


def _eu_watermark(r: VerificationReport) -> tuple[ObligationStatus, str]:
    w = r.watermark
    return _verdict(
        w.detected, f"{w.engine} watermark {w.payload}", "no imperceptible watermark found"
    )


def _eu_identifier(r: VerificationReport) -> tuple[ObligationStatus, str]:
    return _verdict(
        r.watermark.matches_manifest,
        f"watermark payload {r.watermark.payload} is the manifest's soft binding",
        "watermark and manifest do not name the same content ID",
        "watermark and manifest not both present",
    )


def _visible_declared(r: VerificationReport) -> tuple[ObligationStatus, str]:
    v = r.labels.visible_label
    return _verdict(
        v.declared, f"visible label '{v.text}' declared", "no visible disclosure declared"
    )


# --- California SB 942 --------------------------------------------------------------------


def _latent(field: str, label: str) -> Judge:
    def judge(r: VerificationReport) -> tuple[ObligationStatus, str]:
        d = r.labels.latent_disclosure
        value = getattr(d, field)
        if field == "system_name" and value:
            value = f"{value} {d.system_version or ''}".strip()
        if not d.present or not value:
            return MISSED, f"no {label} in the signed latent disclosure"
        if not _manifest_intact(r):
            return MISSED, f"{label} present but the manifest does not validate"
        return MET, f"{label}: {value}"

    return judge


def _ca_permanent(r: VerificationReport) -> tuple[ObligationStatus, str]:
    w = r.watermark
    return _verdict(
        w.detected and (r.manifest.present or w.matches_manifest is True),
        f"watermark {w.payload} leads back to the disclosure",
        "no watermark leading back to the disclosure (metadata alone is easily removed)",
    )


_GB = "GB 45438-2025 Annex E"
_CP = "EU Code of Practice on AI-generated content"
_SB = "California SB 942 §22757.3(b)"
_PROFILES: dict[Profile, list[tuple[str, str, str, Judge]]] = {
    Profile.CN: [
        ("cn.implicit_label", "implicit AIGC label in the file metadata",
         "Labeling Measures Art. 5; " + _GB, _cn_present),
        ("cn.implicit_label.fields", "seven fields; Label 1/2/3; producer and content ID",
         _GB, _cn_fields),
        ("cn.implicit_label.placement", "XMP TC260:AIGC (images) or container key AIGC (video)",
         "GB 45438-2025 §6.2; TC260 video practice guide", _cn_placement),
        ("cn.implicit_label.integrity", "label not altered, forged or hidden",
         "Labeling Measures Art. 10", _cn_integrity),
        ("cn.explicit_label", "visible label, text ≥5% of the shorter side; video ≥2 s at start",
         "Labeling Measures Art. 4; GB 45438-2025", _cn_visible),
    ],
    Profile.EU: [
        ("eu.metadata.signed", "machine-readable, signed, tamper-evident marking",
         "AI Act Art. 50(2); " + _CP + " 1.1.1", _eu_signed),
        ("eu.metadata.timestamped", "metadata time-stamped", _CP + " 1.1.1", _eu_timestamp),
        ("eu.metadata.ai_generated", "marked as artificially generated",
         "AI Act Art. 50(2)", _eu_synthetic),
        ("eu.watermark", "imperceptible watermark", _CP + " 1.1.2", _eu_watermark),
        ("eu.identifier", "identifier cross-referenced between marking layers",
         _CP + " (2nd draft)", _eu_identifier),
        ("eu.deepfake_disclosure", "visible disclosure of a deep fake (deployer)",
         "AI Act Art. 50(4)", _visible_declared),
    ],
    Profile.US_CA: [
        ("us-ca.latent.provider", "name of the covered provider", _SB,
         _latent("provider", "provider")),
        ("us-ca.latent.system", "name and version of the GenAI system", _SB,
         _latent("system_name", "system name and version")),
        ("us-ca.latent.time", "time and date of creation", _SB,
         _latent("created_at", "creation time")),
        ("us-ca.latent.unique_id", "a unique identifier", _SB,
         _latent("unique_id", "unique ID")),
        ("us-ca.latent.permanent", "permanent or extraordinarily difficult to remove",
         _SB, _ca_permanent),
    ],
}  # fmt: skip
