"""Revocation, supersession and expiry: the documents, their signatures, and the status rules."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from provenance.consent import License, grant_license
from provenance.consent_registry import ConsentRegistry
from provenance.errors import ConsentError, ScopeViolationError
from provenance.lifecycle import (
    LicenseEvents,
    LicenseState,
    Revocation,
    StatusList,
    Supersession,
    describe_status,
    ensure_current,
    license_status,
    revoke_license,
)
from provenance.owner import OwnerKey

USES = "Presenter of Acme's product tutorials and employee onboarding videos."
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _grant(key: OwnerKey, **extra: object) -> License:
    args: dict[str, object] = dict(
        owner_key=key, owner_name="Alice", face_id="face-a", licensee="Acme",
        allow=["education"], deny=[], territories=["EU"], not_before=date(2026, 1, 1),
        not_after=date(2026, 12, 31), intended_uses=USES, now=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    args.update(extra)
    return grant_license(**args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def owner() -> OwnerKey:
    return OwnerKey.generate()


@pytest.fixture(scope="module")
def license(owner: OwnerKey) -> License:
    return _grant(owner)


def test_revocation_is_signed_by_the_owner_and_round_trips(
    license: License, owner: OwnerKey, tmp_path: Path
) -> None:
    revocation = revoke_license(license, owner_key=owner, reason="ads for a casino", now=T0)
    revocation.verify_for(license.grant)
    path = tmp_path / "revocation.json"
    revocation.save(path)
    loaded = StatusList.load(path)
    assert loaded.revocations == (revocation,)
    body = json.loads(path.read_bytes())
    assert body["revocation"]["effective_at"] == "2026-03-01T12:00:00Z"


def test_a_key_other_than_the_owners_cannot_revoke(license: License) -> None:
    with pytest.raises(ConsentError, match="not the license owner's"):
        revoke_license(license, owner_key=OwnerKey.generate(), reason="not mine", now=T0)


def test_a_revocation_forged_with_another_key_does_not_count(
    license: License, owner: OwnerKey
) -> None:
    stranger = OwnerKey.generate()
    other = _grant(stranger, license_id=license.license_id)
    forged = revoke_license(other, owner_key=stranger, reason="forged", now=T0)
    with pytest.raises(ConsentError, match="not signed by the license's owner"):
        forged.verify_for(license.grant)
    status = license_status(license.grant, LicenseEvents(revocations=(forged,)), at=T0)
    assert status.state is LicenseState.VALID


def test_an_edited_revocation_fails_its_signature(license: License, owner: OwnerKey) -> None:
    revocation = revoke_license(license, owner_key=owner, reason="real reason", now=T0)
    document = revocation.model_dump(mode="json", by_alias=True)
    document["revocation"]["reason"] = "edited reason"
    edited = Revocation.from_document(document, source="test")
    with pytest.raises(ConsentError, match="does not verify"):
        edited.verify()


def test_a_revocation_cannot_be_backdated(license: License, owner: OwnerKey) -> None:
    with pytest.raises(ConsentError, match="cannot be backdated"):
        revoke_license(
            license, owner_key=owner, reason="x", effective_at=T0 - timedelta(days=1), now=T0
        )


def test_revoked_from_the_effective_time_on(license: License, owner: OwnerKey) -> None:
    later = T0 + timedelta(days=10)
    revocation = revoke_license(license, owner_key=owner, reason="notice", effective_at=later,
                                now=T0)  # fmt: skip
    events = LicenseEvents(revocations=(revocation,))
    before = license_status(license.grant, events, at=later - timedelta(seconds=1))
    after = license_status(license.grant, events, at=later)
    assert before.state is LicenseState.VALID
    assert after.state is LicenseState.REVOKED and after.since == later
    assert describe_status(before, after) == (
        "signed while valid, revoked since 2026-03-11T12:00:00Z (notice)"
    )
    with pytest.raises(ScopeViolationError) as refused:
        ensure_current(license, events, at=later)
    assert refused.value.clause == "revoked"
    ensure_current(license, events, at=before.since or T0)


def test_expiry_before_and_after_not_after(license: License) -> None:
    none = LicenseEvents()
    last_day = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert license_status(license.grant, none, at=last_day).state is LicenseState.VALID
    expired = license_status(license.grant, none, at=last_day + timedelta(seconds=1))
    assert expired.state is LicenseState.EXPIRED
    assert expired.since == datetime(2027, 1, 1, tzinfo=UTC)
    early = license_status(license.grant, none, at=datetime(2025, 12, 31, tzinfo=UTC))
    assert early.state is LicenseState.NOT_YET_VALID
    signed = license_status(license.grant, none, at=T0)
    summary = describe_status(signed, expired)
    assert summary == "signed while valid, expired since 2027-01-01T00:00:00Z"


def test_supersession_takes_over_at_the_new_licenses_start(
    license: License, owner: OwnerKey
) -> None:
    newer = _grant(owner, supersedes=license.license_id, not_before=date(2026, 6, 1),
                   now=T0)  # fmt: skip
    assert newer.grant.supersedes == license.license_id
    newer.verify()
    events = LicenseEvents(supersessions=(Supersession(newer.grant, newer.signature),))
    june = datetime(2026, 6, 1, tzinfo=UTC)
    assert license_status(license.grant, events, at=june - timedelta(seconds=1)).state is (
        LicenseState.VALID
    )
    status = license_status(license.grant, events, at=june)
    assert status.state is LicenseState.SUPERSEDED
    assert status.superseded_by == newer.license_id
    with pytest.raises(ScopeViolationError) as refused:
        ensure_current(license, events, at=june)
    assert refused.value.clause == "superseded"


def test_a_license_from_another_owner_does_not_supersede(license: License) -> None:
    stranger = _grant(OwnerKey.generate(), supersedes=license.license_id, now=T0)
    events = LicenseEvents(supersessions=(Supersession(stranger.grant, stranger.signature),))
    assert license_status(license.grant, events, at=T0).state is LicenseState.VALID


def test_licenses_without_supersedes_keep_their_signed_bytes(license: License) -> None:
    assert b"supersedes" not in license.grant.signed_bytes()
    with pytest.raises(ConsentError, match="supersede itself"):
        _grant(OwnerKey.generate(), license_id=license.license_id,
               supersedes=license.license_id)  # fmt: skip


def test_earliest_end_names_the_state(license: License, owner: OwnerKey) -> None:
    revocation = revoke_license(license, owner_key=owner, reason="withdrawn", now=T0)
    events = LicenseEvents(revocations=(revocation,))
    status = license_status(license.grant, events, at=datetime(2027, 6, 1, tzinfo=UTC))
    assert status.state is LicenseState.REVOKED  # revoked in March beats expired in January


def test_registry_refuses_a_revocation_from_another_key(
    license: License, tmp_path: Path
) -> None:
    stranger = OwnerKey.generate()
    impostor = _grant(stranger, license_id=license.license_id)
    forged = revoke_license(impostor, owner_key=stranger, reason="forged", now=T0)
    with ConsentRegistry(tmp_path / "consent.sqlite") as registry:
        registry.register_license(license)
        with pytest.raises(ConsentError, match="not signed by the license's owner"):
            registry.record_revocation(forged)
        assert registry.events_for(license.grant).revocations == ()


def test_registry_needs_the_license_a_revocation_names(
    license: License, owner: OwnerKey, tmp_path: Path
) -> None:
    revocation = revoke_license(license, owner_key=owner, reason="withdrawn", now=T0)
    with ConsentRegistry(tmp_path / "consent.sqlite") as registry:
        with pytest.raises(ConsentError, match="never seen"):
            registry.record_revocation(revocation)
        registry.record_revocation(revocation, license)
        assert registry.events_for(license.grant).revocations == (revocation,)
        exported = registry.status_list()
    path = tmp_path / "status.json"
    path.write_bytes(exported.to_json())
    assert StatusList.load(path).revocations == (revocation,)


def test_registry_refuses_superseding_another_face(
    license: License, owner: OwnerKey, tmp_path: Path
) -> None:
    other_face = _grant(owner, face_id="face-b", supersedes=license.license_id)
    with ConsentRegistry(tmp_path / "consent.sqlite") as registry:
        registry.register_license(license)
        with pytest.raises(ConsentError, match="another face"):
            registry.register_license(other_face)
