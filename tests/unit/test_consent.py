"""Tests for consent licenses: validity rules, signatures, tampering and the scope check."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance._territories import EU_MEMBERS, ISO_3166_1_ALPHA_2
from provenance.consent import (
    License,
    Purpose,
    Representation,
    Royalties,
    Use,
    ensure_permitted,
    export_json_schema,
    grant_license,
    parse_purposes,
    parse_territories,
    scope_violations,
)
from provenance.errors import ConsentError, InputError, OutputExistsError, ScopeViolationError
from provenance.owner import OwnerKey

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "spec" / "schemas" / "license.schema.json"
FIXED_KEY = OwnerKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
FIXED_NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
INTENDED = "Presenter of Acme's product tutorials and employee onboarding videos."

MakeLicense = Callable[..., License]


@pytest.fixture
def make_license() -> MakeLicense:
    """Factory: a valid license from the fixed key, with any argument overridden."""

    def _make(**overrides: Any) -> License:
        arguments: dict[str, Any] = {
            "owner_key": FIXED_KEY,
            "owner_name": "Alice Example",
            "face_id": "face_alice",
            "licensee": "Acme Avatars Ltd",
            "allow": ["education", "marketing"],
            "deny": ["politics", "gambling"],
            "territories": ["EU", "US"],
            "not_before": date(2026, 1, 1),
            "not_after": date(2027, 12, 31),
            "intended_uses": INTENDED,
            "representation": "counsel",
            "royalties": Royalties(currency="EUR", per_use="0.50"),
            "license_id": "lic_" + "a" * 26,
            "now": FIXED_NOW,
        }
        arguments.update(overrides)
        return grant_license(**arguments)

    return _make


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


# --- signing and verification -------------------------------------------------------------


def test_grant_verify_round_trip_through_json(make_license: MakeLicense) -> None:
    license = make_license()
    license.verify()
    again = License.from_json(license.to_json(), source="mem")
    again.verify()
    assert again == license
    assert again.sha256() == license.sha256()


def test_known_answer_signature(make_license: MakeLicense) -> None:
    # Ed25519 is deterministic, so a fixed key and grant pin the canonical bytes end to end.
    # The same vector is printed in spec/consent.md, "Test vector".
    license = make_license()
    terms = (
        b'{"intended_uses":"Presenter of Acme\'s product tutorials and employee onboarding '
        b'videos.","representation":"counsel","royalties":{"currency":"EUR",'
        b'"per_minute":null,"per_new_licensee":null,"per_use":"0.50"}}'
    )
    assert hashlib.sha256(terms).hexdigest() == license.grant.terms_sha256
    assert license.grant.signed_bytes() == (
        b'{"face_id":"face_alice","issued_at":"2026-01-02T03:04:05Z",'
        b'"license_id":"lic_aaaaaaaaaaaaaaaaaaaaaaaaaa","licensee":"Acme Avatars Ltd",'
        b'"owner":{"minor":false,"name":"Alice Example",'
        b'"public_key":"ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="},'
        b'"schema":"avatar-provenance/license/v1","scope":{"allow":["education","marketing"],'
        b'"deny":["politics","gambling"],"not_after":"2027-12-31","not_before":"2026-01-01",'
        b'"territories":["EU","US"]},'
        b'"terms_sha256":"14843f056074b442afc339ad4324d6cf8ef57444d1f9ea12b353b67428885162"}'
    )
    assert base64.b64decode(license.signature.value).hex() == (
        "ee54bc1243c8ee31ccbfb6528bcc7038dd802cff2add679ab0e858eba87d9fdc"
        "05c1d5cc2368a2172c72cc0aa216235426a9f3ec53182a57e3010ff94a623f03"
    )
    assert license.sha256() == "96ed82e4249f326675bfa15631623f3f23e8c6ba8f5bac5d28629f6b328c084b"


def _tampered(license: License, edit: Callable[[dict[str, Any]], None]) -> License:
    document = json.loads(license.to_json())
    edit(document)
    return License.from_json(json.dumps(document).encode(), source="tampered")


TAMPERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "purpose added": lambda d: d["grant"]["scope"]["allow"].append("advertising"),
    "territory added": lambda d: d["grant"]["scope"]["territories"].append("CN"),
    "date moved": lambda d: d["grant"]["scope"].update(not_after="2028-12-31"),
    "licensee changed": lambda d: d["grant"].update(licensee="Evil Corp"),
    "face changed": lambda d: d["grant"].update(face_id="face_bob"),
    "minor flag flipped": lambda d: d["grant"]["owner"].update(minor=True),
    "terms changed": lambda d: d["terms"].update(representation="union"),
    "royalty changed": lambda d: d["terms"]["royalties"].update(per_use="0.01"),
}


@pytest.mark.parametrize("edit", TAMPERS.values(), ids=TAMPERS.keys())
def test_every_tamper_fails_verify(
    make_license: MakeLicense, edit: Callable[[dict[str, Any]], None]
) -> None:
    license = make_license()
    tampered = _tampered(license, edit)
    with pytest.raises(ConsentError, match=f"license {license.license_id}: "):
        tampered.verify()


def test_terms_tamper_is_named(make_license: MakeLicense) -> None:
    tampered = _tampered(make_license(), TAMPERS["terms changed"])
    with pytest.raises(ConsentError, match="terms do not match terms_sha256"):
        tampered.verify()


def test_signature_by_another_key_fails(make_license: MakeLicense) -> None:
    license = make_license()
    impostor = make_license(owner_key=OwnerKey.generate())
    # Owner key from the genuine grant, signature from another key.
    forged = License(grant=license.grant, terms=license.terms, signature=impostor.signature)
    with pytest.raises(ConsentError, match="owner signature does not verify"):
        forged.verify()


def test_swapped_owner_key_fails(make_license: MakeLicense) -> None:
    other = OwnerKey.generate().public_key
    tampered = _tampered(make_license(), lambda d: d["grant"]["owner"].update(public_key=other))
    with pytest.raises(ConsentError, match="owner signature does not verify"):
        tampered.verify()


def test_garbled_signature_value_fails_verify(make_license: MakeLicense) -> None:
    tampered = _tampered(make_license(), lambda d: d["signature"].update(value="@@@"))
    with pytest.raises(ConsentError, match="owner signature does not verify"):
        tampered.verify()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "invalid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "invalid JSON"),
        (b"[]", "valid dictionary"),
        (b"{}", "grant: Field required"),
    ],
)
def test_garbled_file_is_one_line_consent_error(data: bytes, reason: str) -> None:
    with pytest.raises(ConsentError, match=f"^x.json: not a license: .*{reason}") as info:
        License.from_json(data, source="x.json")
    assert "\n" not in str(info.value)
    assert info.value.__cause__ is None


def test_unsigned_file_fails_from_json(make_license: MakeLicense) -> None:
    document = json.loads(make_license().to_json())
    del document["signature"]
    with pytest.raises(ConsentError, match=r"^in\.json: not a license: signature: Field required$"):
        License.from_json(json.dumps(document).encode(), source="in.json")


def test_unknown_field_is_refused(make_license: MakeLicense) -> None:
    document = json.loads(make_license().to_json())
    document["grant"]["scope"]["also_allow"] = ["adult"]
    with pytest.raises(ConsentError, match=r"grant\.scope\.also_allow: Extra inputs"):
        License.from_json(json.dumps(document).encode(), source="in.json")


# --- files ---------------------------------------------------------------------------------


def test_save_load_round_trip(make_license: MakeLicense, tmp_path: Path) -> None:
    license = make_license()
    path = tmp_path / "alice.license.json"
    license.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert License.load(path) == license
    with pytest.raises(OutputExistsError):
        license.save(path)
    license.save(path, force=True)


def test_load_missing_file_names_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nothere\.json: cannot read license"):
        License.load(tmp_path / "nothere.json")


def test_load_garbage_names_path(tmp_path: Path) -> None:
    path = tmp_path / "junk.json"
    path.write_text("hello")
    with pytest.raises(ConsentError, match=r"junk\.json: not a license"):
        License.load(path)


# --- validity rules ------------------------------------------------------------------------


def test_eleven_year_term_is_refused(make_license: MakeLicense) -> None:
    with pytest.raises(ConsentError, match="exceeds 10 years"):
        make_license(not_before=date(2026, 1, 1), not_after=date(2037, 1, 1))


def test_term_limit_boundary(make_license: MakeLicense) -> None:
    make_license(not_before=date(2026, 1, 1), not_after=date(2035, 12, 31))
    with pytest.raises(ConsentError, match=r"latest allowed not_after: 2035-12-31"):
        make_license(not_before=date(2026, 1, 1), not_after=date(2036, 1, 1))


def test_leap_day_start(make_license: MakeLicense) -> None:
    make_license(not_before=date(2028, 2, 29), not_after=date(2038, 2, 27), now=FIXED_NOW)
    with pytest.raises(ConsentError, match="exceeds 10 years"):
        make_license(not_before=date(2028, 2, 29), not_after=date(2038, 2, 28))


def test_six_year_term_for_minor_is_refused(make_license: MakeLicense) -> None:
    make_license(minor=True, not_before=date(2026, 1, 1), not_after=date(2030, 12, 31))
    with pytest.raises(ConsentError, match="exceeds 5 years for a minor"):
        make_license(minor=True, not_before=date(2026, 1, 1), not_after=date(2031, 12, 31))


def test_term_limit_also_applies_to_parsed_files(make_license: MakeLicense) -> None:
    def stretch(document: dict[str, Any]) -> None:
        document["grant"]["scope"]["not_after"] = "2040-01-01"

    with pytest.raises(ConsentError, match=r"not a license: grant: .*exceeds 10 years"):
        _tampered(make_license(), stretch)


def test_not_before_after_not_after_is_refused(make_license: MakeLicense) -> None:
    with pytest.raises(ConsentError, match="not_before 2027-01-01 is after not_after 2026-06-30"):
        make_license(not_before=date(2027, 1, 1), not_after=date(2026, 6, 30))


def test_not_before_defaults_to_issue_date(make_license: MakeLicense) -> None:
    license = make_license(not_before=None)
    assert license.grant.scope.not_before == FIXED_NOW.date()
    assert license.grant.issued_at == FIXED_NOW


def test_overlapping_allow_and_deny_is_refused(make_license: MakeLicense) -> None:
    with pytest.raises(ConsentError, match="both allowed and denied: marketing"):
        make_license(allow=["education", "marketing"], deny=["marketing"])


def test_empty_allow_is_refused(make_license: MakeLicense) -> None:
    with pytest.raises(ConsentError, match="allow must name at least one purpose"):
        make_license(allow=[])


def test_empty_territories_is_refused(make_license: MakeLicense) -> None:
    with pytest.raises(ConsentError, match="at least one territory"):
        make_license(territories=[])


@pytest.mark.parametrize(
    "text",
    [
        "Marketing.",
        "education, marketing, advertising, entertainment",
        "Any use for education and marketing purposes only, etc.",
    ],
)
def test_vague_intended_uses_are_refused(make_license: MakeLicense, text: str) -> None:
    with pytest.raises(ConsentError, match="intended_uses"):
        make_license(intended_uses=text)


def test_unknown_purpose_lists_the_vocabulary(make_license: MakeLicense) -> None:
    with pytest.raises(ConsentError, match=r"unknown purpose 'astrology' \(known: education, "):
        make_license(allow=["education", "astrology"])


def test_bad_territory_is_refused(make_license: MakeLicense) -> None:
    with pytest.raises(ConsentError, match="unknown territory 'XX'"):
        make_license(territories=["US", "XX"])


def test_territories_are_normalised(make_license: MakeLicense) -> None:
    license = make_license(territories=["us", " de", "eu", "US"])
    assert license.grant.scope.territories == ("US", "DE", "EU")


def test_purposes_are_normalised(make_license: MakeLicense) -> None:
    license = make_license(allow=["Education", Purpose.MARKETING, "education"])
    assert license.grant.scope.allow == (Purpose.EDUCATION, Purpose.MARKETING)


def test_unknown_representation_is_refused(make_license: MakeLicense) -> None:
    with pytest.raises(ConsentError, match="unknown representation 'agent'"):
        make_license(representation="agent")
    assert make_license(representation=Representation.UNION).terms.representation == "union"


def test_bad_license_id_and_naive_now_are_refused(make_license: MakeLicense) -> None:
    with pytest.raises(ConsentError, match="license_id"):
        make_license(license_id="lic_x")
    with pytest.raises(ConsentError, match="timezone-aware"):
        make_license(now=datetime(2026, 1, 1))


def test_generated_license_id_shape(make_license: MakeLicense) -> None:
    ids = {make_license(license_id=None).license_id for _ in range(3)}
    assert len(ids) == 3
    assert all(i.startswith("lic_") and len(i) == 30 for i in ids)


def test_royalty_amounts_must_be_decimal_strings() -> None:
    with pytest.raises(ValueError, match="per_use"):
        Royalties(currency="EUR", per_use="0,50")
    with pytest.raises(ValueError, match="currency"):
        Royalties(currency="eur")


def test_issued_at_offset_is_normalised_to_utc(make_license: MakeLicense) -> None:
    plus_two = FIXED_NOW.astimezone(timezone(timedelta(hours=2)))
    license = make_license(now=plus_two)
    assert license.grant.issued_at == FIXED_NOW
    assert b'"issued_at": "2026-01-02T03:04:05Z"' in license.to_json()


# --- parsing helpers -----------------------------------------------------------------------


def test_parse_purposes() -> None:
    assert parse_purposes("education, marketing,") == (Purpose.EDUCATION, Purpose.MARKETING)
    with pytest.raises(ConsentError, match="unknown purpose 'poetry'"):
        parse_purposes("education,poetry")


def test_parse_territories() -> None:
    assert parse_territories("EU,us") == ("EU", "US")
    with pytest.raises(ConsentError, match="unknown territory 'XX'"):
        parse_territories("US,XX")


def test_territory_table() -> None:
    assert len(ISO_3166_1_ALPHA_2) == 249
    assert len(EU_MEMBERS) == 27
    assert EU_MEMBERS <= ISO_3166_1_ALPHA_2
    assert "XK" not in ISO_3166_1_ALPHA_2
    assert "EU" not in ISO_3166_1_ALPHA_2


# --- scope ---------------------------------------------------------------------------------


def _clauses(license: License, use: Use) -> list[str]:
    return [v.clause for v in scope_violations(license.grant, use)]


def test_permitted_use_has_no_violations(make_license: MakeLicense) -> None:
    license = make_license()
    use = Use(Purpose.EDUCATION, "US", _at(date(2026, 6, 1)), licensee="Acme Avatars Ltd")
    assert scope_violations(license.grant, use) == []
    ensure_permitted(license, use)


def test_purpose_not_allowed(make_license: MakeLicense) -> None:
    violations = scope_violations(
        make_license().grant, Use(Purpose.ADVERTISING, "US", _at(date(2026, 6, 1)))
    )
    assert [v.clause for v in violations] == ["purpose"]
    assert "advertising is not allowed (allowed: education, marketing)" in str(violations[0])


def test_deny_wins_over_allow(make_license: MakeLicense) -> None:
    license = make_license()
    # A grant that lists a purpose in both can only be built by bypassing validation; the
    # check must still refuse it.
    scope = license.grant.scope.model_copy(update={"allow": (Purpose.POLITICS,)})
    grant = license.grant.model_copy(update={"scope": scope})
    violations = scope_violations(grant, Use(Purpose.POLITICS, "US", _at(date(2026, 6, 1))))
    assert [v.clause for v in violations] == ["purpose"]
    assert "politics is denied" in str(violations[0])


def test_territory_not_covered(make_license: MakeLicense) -> None:
    assert _clauses(make_license(), Use(Purpose.EDUCATION, "cn", _at(date(2026, 6, 1)))) == [
        "territory"
    ]


@pytest.mark.parametrize("member", sorted(EU_MEMBERS))
def test_eu_in_license_covers_every_member(make_license: MakeLicense, member: str) -> None:
    license = make_license(territories=["EU"])
    assert _clauses(license, Use(Purpose.EDUCATION, member, _at(date(2026, 6, 1)))) == []


def test_eu_use_needs_every_member(make_license: MakeLicense) -> None:
    use = Use(Purpose.EDUCATION, "EU", _at(date(2026, 6, 1)))
    assert _clauses(make_license(territories=["EU"]), use) == []
    assert _clauses(make_license(territories=sorted(EU_MEMBERS)), use) == []
    assert _clauses(make_license(territories=["DE", "FR"]), use) == ["territory"]
    assert _clauses(make_license(territories=["NO"]), use) == ["territory"]


def test_non_member_not_covered_by_eu(make_license: MakeLicense) -> None:
    license = make_license(territories=["EU"])
    assert _clauses(license, Use(Purpose.EDUCATION, "CH", _at(date(2026, 6, 1)))) == ["territory"]


@pytest.mark.parametrize(
    ("at", "ok"),
    [
        (datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), False),
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), True),
        (datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC), True),
        (datetime(2028, 1, 1, 0, 0, tzinfo=UTC), False),
        # 2028-01-01 00:30 in UTC+1 is still 2027-12-31 in UTC: inside.
        (datetime(2028, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), True),
        # 2027-12-31 20:00 in UTC-5 is 2028-01-01 in UTC: outside.
        (datetime(2027, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5))), False),
    ],
)
def test_date_window_is_inclusive_by_utc_date(
    make_license: MakeLicense, at: datetime, ok: bool
) -> None:
    assert _clauses(make_license(), Use(Purpose.EDUCATION, "US", at)) == ([] if ok else ["date"])


def test_licensee_mismatch(make_license: MakeLicense) -> None:
    license = make_license()
    at = _at(date(2026, 6, 1))
    assert _clauses(license, Use(Purpose.EDUCATION, "US", at, licensee="Evil Corp")) == ["licensee"]
    assert _clauses(license, Use(Purpose.EDUCATION, "US", at)) == []


def test_all_clauses_reported_in_order(make_license: MakeLicense) -> None:
    use = Use(Purpose.ADULT, "CN", _at(date(2030, 1, 1)), licensee="Evil Corp")
    assert _clauses(make_license(), use) == ["purpose", "territory", "date", "licensee"]


def test_use_normalises(make_license: MakeLicense) -> None:
    use = Use("Education", " us", datetime(2026, 6, 1, 23, 30))  # type: ignore[arg-type]
    assert use.purpose is Purpose.EDUCATION
    assert use.territory == "US"
    assert use.at == datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    with pytest.raises(ConsentError, match="unknown purpose 'poetry'"):
        Use("poetry", "US", _at(date(2026, 6, 1)))  # type: ignore[arg-type]


def test_unknown_use_territory_is_a_violation_not_an_exception(make_license: MakeLicense) -> None:
    # Verifiers build uses from untrusted manifests; garbage must be reported, not raised.
    use = Use(Purpose.EDUCATION, "XX", _at(date(2026, 6, 1)))
    assert _clauses(make_license(), use) == ["territory"]


def test_ensure_permitted_raises_first_violation(make_license: MakeLicense) -> None:
    use = Use(Purpose.POLITICS, "CN", _at(date(2026, 6, 1)))
    with pytest.raises(ScopeViolationError, match="politics is denied") as info:
        ensure_permitted(make_license(), use)
    assert info.value.clause == "purpose"


def test_ensure_permitted_verifies_first(make_license: MakeLicense) -> None:
    tampered = _tampered(make_license(), TAMPERS["purpose added"])
    use = Use(Purpose.ADVERTISING, "US", _at(date(2026, 6, 1)))
    # The tampered scope would allow the use; the signature check must refuse it first.
    assert scope_violations(tampered.grant, use) == []
    with pytest.raises(ConsentError, match="owner signature does not verify") as info:
        ensure_permitted(tampered, use)
    assert not isinstance(info.value, ScopeViolationError)


# --- schema --------------------------------------------------------------------------------


def test_committed_schema_matches_fresh_export() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == export_json_schema(), (
        "spec/schemas/license.schema.json is stale; run: PYTHONPATH=. python spec/schemas/export.py"
    )


@pytest.mark.parametrize("value", [None, "avatar-provenance/license/v2"])
def test_schema_field_is_required_and_fixed(make_license: MakeLicense, value: str | None) -> None:
    document = json.loads(make_license().to_json())
    if value is None:
        del document["grant"]["schema"]
    else:
        document["grant"]["schema"] = value
    with pytest.raises(ConsentError, match=r"not a license: grant\.schema"):
        License.from_json(json.dumps(document).encode(), source="in.json")


def test_grant_alone_verifies(make_license: MakeLicense) -> None:
    # Selective disclosure: a manifest carries grant + signature without the terms.
    license = make_license()
    license.grant.verify(license.signature)
    assert "intended_uses" not in license.grant.signed_bytes().decode()


@pytest.mark.parametrize(
    "text",
    [
        "Moderator der Produktschulungen für Händler in Österreich.",
        "用于Acme产品教程和员工入职视频的主持人。仅在公司内部培训平台发布。",
    ],
)
def test_specific_intended_uses_in_other_languages(make_license: MakeLicense, text: str) -> None:
    assert make_license(intended_uses=text).terms.intended_uses == text
