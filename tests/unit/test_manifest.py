"""Manifest definition: what stamping writes is what verification reads back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from provenance.consent import grant_license
from provenance.errors import ManifestError
from provenance.fingerprint import fingerprint
from provenance.manifest import (
    CONSENT_LABEL,
    TRAINED_ALGORITHMIC_MEDIA,
    DeclaredUse,
    StampClaims,
    build_definition,
    parse_claims,
)
from provenance.media.synthetic import avatar_frame
from provenance.owner import OwnerKey
from provenance.watermark import ContentId


def _claims(timespan: tuple[int, int] | None = None) -> StampClaims:
    license = grant_license(
        owner_key=OwnerKey.generate(),
        owner_name="Ada",
        face_id="face-7",
        licensee="Studio",
        allow=["education"],
        deny=["politics"],
        territories=["EU"],
        not_after=date.today() + timedelta(days=30),
        intended_uses="Recorded lecture videos for an online university course in physics",
    )
    return StampClaims(
        content_id=ContentId.from_hex("00ff112233445566"),
        watermark_alg="org.example.alg.1",
        watermark_alg_params="bits=156",
        grant=license.grant,
        owner_signature=license.signature,
        license_sha256=license.sha256(),
        use=DeclaredUse("education", "DE", "Studio"),
        stamped_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        vendor="Studio",
        fingerprint=fingerprint(avatar_frame(64, 64)),
        timespan_ms=timespan,
    )


def _as_read(definition: dict[str, object]) -> dict[str, object]:
    return {a["label"]: a["data"] for a in definition["assertions"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize("timespan", [None, (0, 10_000)])
def test_round_trip(timespan: tuple[int, int] | None) -> None:
    claims = _claims(timespan)
    definition = build_definition(claims, title="t.png")
    actions = _as_read(definition)["c2pa.actions.v2"]["actions"]  # type: ignore[index]
    assert actions[0]["action"] == "c2pa.created"
    assert actions[0]["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert actions[1]["action"] == "c2pa.watermarked"
    parsed = parse_claims(_as_read(definition))
    assert parsed.content_id == claims.content_id
    assert parsed.grant == claims.grant
    assert parsed.use == claims.use
    assert parsed.timespan_ms == timespan
    assert parsed.fingerprint is not None
    parsed.grant.verify(parsed.owner_signature)


def test_missing_or_malformed_assertions() -> None:
    assertions = _as_read(build_definition(_claims(), title="t"))
    with pytest.raises(ManifestError, match=CONSENT_LABEL):
        parse_claims({k: v for k, v in assertions.items() if k != CONSENT_LABEL})
    broken = dict(assertions)
    broken[CONSENT_LABEL] = {"grant": "nonsense"}
    with pytest.raises(ManifestError, match="malformed"):
        parse_claims(broken)
