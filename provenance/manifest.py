"""The C2PA manifest of a stamped asset, as data: built for signing, parsed after reading.

No I/O here. :func:`build_definition` turns the facts of one stamp into the manifest
definition that ``_c2pa.sign`` (a still) or ``_c2pa.sign_stream`` (a clip) consumes;
:func:`parse_claims` reads the same facts back out of a validated manifest's assertions. The
assertion shapes are normative in ``spec/assertions.md``; keep the two in step.

A clip's claims add :class:`ClipFacts` (frame count, duration, size, frame rate and the
fingerprint timeline) and scope the soft binding to ``0..duration_ms``::

    claims = StampClaims(..., timespan_ms=(0, 10_000),
                         clip=ClipFacts(300, 10_000, 1280, 720, "30/1", timeline))
    definition = build_definition(claims, title="clip.mp4", poster=True)
    store = _c2pa.sign_stream(definition, signer, mime="video/mp4", source=src,
                              destination=dst, resources={POSTER_IDENTIFIER: jpeg})
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import __version__
from .consent import Grant, OwnerSignature
from .errors import ManifestError
from .fingerprint import ALGORITHM as FINGERPRINT_ALGORITHM
from .fingerprint import GRID as FINGERPRINT_GRID
from .fingerprint import Fingerprint, FingerprintTimeline
from .labels import (
    TRAINED_ALGORITHMIC_MEDIA,
    AigcLabel,
    LatentDisclosure,
    VisibleLabelFacts,
)
from .watermark import ContentId

__all__ = [
    "CLIP_LABEL",
    "CONSENT_LABEL",
    "FINGERPRINT_LABEL",
    "LABELS_LABEL",
    "LATENT_DISCLOSURE_LABEL",
    "POSTER_IDENTIFIER",
    "TRAINED_ALGORITHMIC_MEDIA",
    "ClipFacts",
    "DeclaredUse",
    "StampClaims",
    "build_definition",
    "parse_claims",
]

CONSENT_LABEL = "org.avatar-provenance.likeness-consent"
FINGERPRINT_LABEL = "org.avatar-provenance.fingerprint"
CLIP_LABEL = "org.avatar-provenance.clip"
LABELS_LABEL = "org.avatar-provenance.labels"
LATENT_DISCLOSURE_LABEL = "org.avatar-provenance.latent-disclosure"
POSTER_IDENTIFIER = "poster.jpg"
"""The resource identifier of a clip's poster frame (a JPEG) in the manifest."""
SOFT_BINDING_LABEL = "c2pa.soft-binding"
ACTIONS_LABEL = "c2pa.actions.v2"
TRAINING_LABEL = "cawg.training-mining"
SOFTWARE_NAME = "avatar-provenance"
_FPS = re.compile(r"[1-9][0-9]*/[1-9][0-9]*")


@dataclass(frozen=True)
class DeclaredUse:
    """What the vendor says this asset is for: checked against the license before signing."""

    purpose: str
    territory: str
    licensee: str


@dataclass(frozen=True)
class ClipFacts:
    """What a stamped clip is: its frames, length, size, rate and content fingerprints.

    Raises:
        ValueError: a count or size is negative (width and height: not positive), or
            ``fps`` is not a ratio of positive integers such as ``"30/1"`` or
            ``"30000/1001"``.
    """

    frames: int
    duration_ms: int
    width: int
    height: int
    fps: str
    timeline: FingerprintTimeline | None = None

    def __post_init__(self) -> None:
        for name in ("frames", "duration_ms", "width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"clip {name} must be a non-negative integer, got {value!r}")
        if self.width == 0 or self.height == 0:
            raise ValueError(f"clip size must be positive, got {self.width}x{self.height}")
        if not isinstance(self.fps, str) or not _FPS.fullmatch(self.fps):
            raise ValueError(f"clip fps must look like '30/1' or '30000/1001', got {self.fps!r}")


@dataclass(frozen=True)
class StampClaims:
    """Everything one stamp asserts, in the form both the builder and the parser use."""

    content_id: ContentId
    watermark_alg: str
    watermark_alg_params: str
    grant: Grant
    owner_signature: OwnerSignature
    license_sha256: str
    use: DeclaredUse
    stamped_at: datetime
    vendor: str
    fingerprint: Fingerprint | None = None
    timespan_ms: tuple[int, int] | None = None
    clip: ClipFacts | None = None
    aigc: AigcLabel | None = None
    """The GB 45438 label as written into the file's metadata (spec/labels.md)."""
    disclosure: LatentDisclosure | None = None
    visible_label: VisibleLabelFacts | None = None

    @property
    def face_id(self) -> str:
        return self.grant.face_id

    @property
    def license_id(self) -> str:
        return self.grant.license_id


def build_definition(claims: StampClaims, *, title: str, poster: bool = False) -> dict[str, Any]:
    """The manifest definition for one stamped asset (see ``spec/assertions.md``).

    Args:
        claims: the facts of the stamp; ``claims.clip`` adds the clip assertion.
        title: the output file name.
        poster: name a JPEG poster frame as the manifest's thumbnail; the signer must then
            be given it as the resource :data:`POSTER_IDENTIFIER`.
    """
    assertions: list[dict[str, Any]] = [
        _actions(claims),
        _soft_binding(claims),
        {"label": CONSENT_LABEL, "data": _consent(claims)},
        _training_mining(),
    ]
    if claims.fingerprint is not None:
        assertions.append({"label": FINGERPRINT_LABEL, "data": _fingerprint(claims.fingerprint)})
    if claims.clip is not None:
        assertions.append({"label": CLIP_LABEL, "data": _clip(claims.clip)})
    if claims.disclosure is not None:
        assertions.append(
            {"label": LATENT_DISCLOSURE_LABEL, "data": _disclosure(claims.disclosure)}
        )
    if claims.aigc is not None or claims.visible_label is not None:
        assertions.append({"label": LABELS_LABEL, "data": _labels(claims)})
    definition: dict[str, Any] = {
        "claim_generator_info": [{"name": SOFTWARE_NAME, "version": __version__}],
        "title": title,
    }
    if poster:
        definition["thumbnail"] = {"format": "image/jpeg", "identifier": POSTER_IDENTIFIER}
    definition["assertions"] = assertions
    return definition


def _actions(claims: StampClaims) -> dict[str, Any]:
    agent = {"name": SOFTWARE_NAME, "version": __version__}
    return {
        "label": ACTIONS_LABEL,
        "data": {
            "actions": [
                {
                    "action": "c2pa.created",
                    "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                    "softwareAgent": agent,
                    "description": (
                        f"Synthetic avatar rendered by {claims.vendor} from the licensed "
                        f"likeness {claims.face_id}"
                    ),
                },
                {
                    "action": "c2pa.watermarked",
                    "softwareAgent": agent,
                    "parameters": {
                        "description": "Invisible watermark whose payload is this manifest's "
                        "lookup key in the vendor's manifest repository",
                    },
                },
            ]
        },
    }


def _soft_binding(claims: StampClaims) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    if claims.timespan_ms is not None:
        scope = {"timespan": {"start": claims.timespan_ms[0], "end": claims.timespan_ms[1]}}
    return {
        "label": SOFT_BINDING_LABEL,
        "data": {
            "alg": claims.watermark_alg,
            # A JSON int array is how c2pa-python takes a CBOR byte string.
            "blocks": [{"scope": scope, "value": list(claims.content_id.to_bytes())}],
            "alg-params": claims.watermark_alg_params,
        },
    }


def _consent(claims: StampClaims) -> dict[str, Any]:
    return {
        "version": 1,
        "content_id": claims.content_id.hex,
        "face_id": claims.face_id,
        "license_id": claims.license_id,
        "license_sha256": claims.license_sha256,
        "grant": claims.grant.model_dump(mode="json", by_alias=True),
        "owner_signature": claims.owner_signature.model_dump(mode="json"),
        "declared_use": {
            "purpose": claims.use.purpose,
            "territory": claims.use.territory,
            "licensee": claims.use.licensee,
        },
        "stamped_at": _iso(claims.stamped_at),
    }


def _fingerprint(value: Fingerprint) -> dict[str, Any]:
    return {"alg": FINGERPRINT_ALGORITHM, "grid": value.grid, "value": value.encode()}


def _clip(clip: ClipFacts) -> dict[str, Any]:
    data: dict[str, Any] = {
        "frames": clip.frames,
        "duration_ms": clip.duration_ms,
        "width": clip.width,
        "height": clip.height,
        "fps": clip.fps,
    }
    if clip.timeline is not None:
        data["timeline"] = clip.timeline.encode()
    return data


def _disclosure(value: LatentDisclosure) -> dict[str, Any]:
    return {
        "provider": value.provider,
        "system": {"name": value.system_name, "version": value.system_version},
        "created_at": _iso(value.created_at),
        "unique_id": value.unique_id,
    }


def _labels(claims: StampClaims) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if claims.aigc is not None:
        data["aigc"] = claims.aigc.fields()
        data["digital_source_type"] = TRAINED_ALGORITHMIC_MEDIA
    visible = claims.visible_label
    if visible is not None:
        data["visible"] = {
            "text": visible.text,
            "language": visible.language,
            "position": visible.position,
            "text_height_px": visible.text_height_px,
            "shorter_side_px": visible.shorter_side_px,
            "duration_ms": visible.duration_ms,
        }
    return data


def _training_mining() -> dict[str, Any]:
    # Frames of a real person's face must not train the next clone of that face.
    not_allowed = {"use": "notAllowed"}
    return {
        "label": TRAINING_LABEL,
        "data": {
            "entries": {
                "cawg.ai_generative_training": not_allowed,
                "cawg.ai_training": not_allowed,
                "cawg.data_mining": not_allowed,
                "cawg.ai_inference": not_allowed,
            }
        },
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_claims(assertions: Mapping[str, Any]) -> StampClaims:
    """Read the stamp's facts back from a manifest's assertions (label to data).

    Raises:
        ManifestError: an assertion this SDK writes is missing or malformed, which means the
            manifest was not made by a conforming stamper.
    """
    try:
        consent = assertions[CONSENT_LABEL]
        binding = assertions[SOFT_BINDING_LABEL]
    except KeyError as exc:
        raise ManifestError(f"manifest lacks the {exc.args[0]} assertion") from exc
    try:
        fingerprint_data = assertions.get(FINGERPRINT_LABEL)
        clip_data = assertions.get(CLIP_LABEL)
        timespan = binding["blocks"][0].get("scope", {}).get("timespan")
        use = consent["declared_use"]
        return StampClaims(
            content_id=ContentId.from_bytes(_binding_value(binding["blocks"][0]["value"])),
            watermark_alg=str(binding["alg"]),
            watermark_alg_params=str(binding.get("alg-params", "")),
            grant=Grant.model_validate(consent["grant"]),
            owner_signature=OwnerSignature.model_validate(consent["owner_signature"]),
            license_sha256=str(consent["license_sha256"]),
            use=DeclaredUse(str(use["purpose"]), str(use["territory"]), str(use["licensee"])),
            stamped_at=datetime.fromisoformat(str(consent["stamped_at"])),
            vendor="",
            fingerprint=(
                Fingerprint.decode(
                    str(fingerprint_data["value"]),
                    grid=int(fingerprint_data.get("grid", FINGERPRINT_GRID)),
                )
                if fingerprint_data
                else None
            ),
            timespan_ms=(int(timespan["start"]), int(timespan["end"])) if timespan else None,
            clip=_parse_clip(clip_data) if clip_data is not None else None,
            **_parse_labels(assertions),
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ManifestError(f"malformed avatar-provenance assertion: {exc}") from exc


def _parse_labels(assertions: Mapping[str, Any]) -> dict[str, Any]:
    """The labelling-law assertions as StampClaims keywords (absent in older stamps).

    Raises:
        KeyError, TypeError, ValueError: malformed (the caller names the manifest).
    """
    found: dict[str, Any] = {}
    disclosure = assertions.get(LATENT_DISCLOSURE_LABEL)
    if disclosure is not None:
        found["disclosure"] = LatentDisclosure(
            provider=str(disclosure["provider"]),
            system_name=str(disclosure["system"]["name"]),
            system_version=str(disclosure["system"]["version"]),
            created_at=datetime.fromisoformat(str(disclosure["created_at"])),
            unique_id=str(disclosure["unique_id"]),
        )
    labels = assertions.get(LABELS_LABEL) or {}
    if labels.get("aigc") is not None:
        found["aigc"] = AigcLabel.from_fields(labels["aigc"])
    visible = labels.get("visible")
    if visible is not None:
        duration = visible.get("duration_ms")
        found["visible_label"] = VisibleLabelFacts(
            text=str(visible["text"]),
            language=str(visible["language"]),
            position=str(visible["position"]),
            text_height_px=int(visible["text_height_px"]),
            shorter_side_px=int(visible["shorter_side_px"]),
            duration_ms=int(duration) if duration is not None else None,
        )
    return found


def _parse_clip(data: Any) -> ClipFacts:
    """The clip assertion back as :class:`ClipFacts`.

    Raises:
        ManifestError: a field is missing or malformed, naming the assertion.
    """
    try:
        if not isinstance(data, Mapping):
            raise ValueError("not an object")
        timeline = data.get("timeline")
        return ClipFacts(
            frames=data["frames"],
            duration_ms=data["duration_ms"],
            width=data["width"],
            height=data["height"],
            fps=data["fps"],
            timeline=FingerprintTimeline.decode(timeline) if timeline is not None else None,
        )
    except KeyError as exc:
        raise ManifestError(f"malformed {CLIP_LABEL} assertion: no {exc.args[0]!r}") from exc
    except ValueError as exc:
        raise ManifestError(f"malformed {CLIP_LABEL} assertion: {exc}") from exc


def _binding_value(value: Any) -> bytes:
    # The Reader shows the CBOR byte string as base64; a definition holds an int list.
    if isinstance(value, str):
        return base64.b64decode(value)
    return bytes(value)
