"""The C2PA manifest of a stamped asset, as data: built for signing, parsed after reading.

No I/O here. :func:`build_definition` turns the facts of one stamp into the manifest
definition that ``_c2pa.sign`` consumes; :func:`parse_claims` reads the same facts back out
of a validated manifest's assertions. The assertion shapes are normative in
``spec/assertions.md``; keep the two in step.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import __version__
from .consent import Grant, OwnerSignature
from .errors import ManifestError
from .fingerprint import ALGORITHM as FINGERPRINT_ALGORITHM
from .fingerprint import GRID as FINGERPRINT_GRID
from .fingerprint import Fingerprint
from .watermark import ContentId

__all__ = [
    "CONSENT_LABEL",
    "FINGERPRINT_LABEL",
    "TRAINED_ALGORITHMIC_MEDIA",
    "DeclaredUse",
    "StampClaims",
    "build_definition",
    "parse_claims",
]

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CONSENT_LABEL = "org.avatar-provenance.likeness-consent"
FINGERPRINT_LABEL = "org.avatar-provenance.fingerprint"
SOFT_BINDING_LABEL = "c2pa.soft-binding"
ACTIONS_LABEL = "c2pa.actions.v2"
TRAINING_LABEL = "cawg.training-mining"
SOFTWARE_NAME = "avatar-provenance"


@dataclass(frozen=True)
class DeclaredUse:
    """What the vendor says this asset is for: checked against the license before signing."""

    purpose: str
    territory: str
    licensee: str


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

    @property
    def face_id(self) -> str:
        return self.grant.face_id

    @property
    def license_id(self) -> str:
        return self.grant.license_id


def build_definition(claims: StampClaims, *, title: str) -> dict[str, Any]:
    """The manifest definition for one stamped asset (see ``spec/assertions.md``)."""
    assertions: list[dict[str, Any]] = [
        _actions(claims),
        _soft_binding(claims),
        {"label": CONSENT_LABEL, "data": _consent(claims)},
        _training_mining(),
    ]
    if claims.fingerprint is not None:
        assertions.append({"label": FINGERPRINT_LABEL, "data": _fingerprint(claims.fingerprint)})
    return {
        "claim_generator_info": [{"name": SOFTWARE_NAME, "version": __version__}],
        "title": title,
        "assertions": assertions,
    }


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
    return {"alg": FINGERPRINT_ALGORITHM, "grid": FINGERPRINT_GRID, "value": value.encode()}


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
                Fingerprint.decode(str(fingerprint_data["value"])) if fingerprint_data else None
            ),
            timespan_ms=(int(timespan["start"]), int(timespan["end"])) if timespan else None,
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ManifestError(f"malformed avatar-provenance assertion: {exc}") from exc


def _binding_value(value: Any) -> bytes:
    # The Reader shows the CBOR byte string as base64; a definition holds an int list.
    if isinstance(value, str):
        return base64.b64decode(value)
    return bytes(value)
