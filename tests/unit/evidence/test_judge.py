"""The verdict rules of spec/evidence.md section 3, on typed verify reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from provenance.errors import InputError
from provenance.evidence import Clause, EvidenceVerdict, Observation, judge
from provenance.verify import Check, CheckStatus, Verdict, VerificationReport
from provenance.verify.report import LikenessSection, ManifestSection, WatermarkSection

SCOPE = {
    "allow": ["education", "marketing"],
    "deny": ["politics"],
    "territories": ["EU", "US"],
    "not_before": "2026-01-01",
    "not_after": "2026-12-31",
}
STAMPED = "2026-03-01T10:00:00+00:00"


def report(*, face: str = "face-1", checks: list[Check] | None = None,
           violations: list[dict[str, str]] | None = None, **likeness: Any) -> VerificationReport:
    fields = {"face_id": face, "license_id": "lic_" + "a" * 26, "licensee": "Acme",
              "scope": SCOPE, "declared_purpose": "education", "declared_territory": "DE",
              "stamped_at": STAMPED, "violations": violations or [], **likeness}  # fmt: skip
    return VerificationReport(
        file="x.png",
        verdict=Verdict.FAILED if violations else Verdict.VERIFIED,
        synthetic=True,
        manifest=ManifestSection(present=True, source="embedded"),
        watermark=WatermarkSection(detected=True, payload="00" * 8),
        likeness=LikenessSection(**fields),
        checks=checks or [],
    )


def seen(purpose: str | None = None, territory: str | None = None, day: str = "2026-06-01"
         ) -> Observation:
    at = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return Observation.parse(purpose=purpose, territory=territory, at=at)


def clauses(result: Any) -> list[tuple[str, str]]:
    return [(c.clause.value, c.basis) for c in result.clauses]


def test_in_scope_when_observed_use_is_allowed() -> None:
    result = judge(report(), face_id="face-1", observation=seen("marketing", "FR"))
    assert result.verdict is EvidenceVerdict.IN_SCOPE and not result.clauses


@pytest.mark.parametrize(
    ("observation", "expected"),
    [
        (seen("politics"), [("purpose", "observed")]),
        (seen("news"), [("purpose", "observed")]),
        (seen(territory="CH"), [("territory", "observed")]),
        (seen(day="2027-01-01"), [("date", "observed")]),
        (seen("politics", "BR", "2025-12-31"),
         [("purpose", "observed"), ("territory", "observed"), ("date", "observed")]),
    ],
)  # fmt: skip
def test_each_observed_clause(observation: Observation, expected: list[tuple[str, str]]) -> None:
    result = judge(report(), face_id="face-1", observation=observation)
    assert result.verdict is EvidenceVerdict.OUT_OF_SCOPE
    assert clauses(result) == expected


def test_unobserved_parts_break_nothing() -> None:
    # Not observing a purpose must not be read as observing the first allowed one: an
    # observation of nothing but the date stays in scope.
    assert judge(report(), face_id="face-1", observation=seen()).verdict is (
        EvidenceVerdict.IN_SCOPE
    )


def test_declared_violations_count() -> None:
    failing = [Check(name="likeness.in_scope", status=CheckStatus.FAIL, detail="licensee")]
    bad = report(checks=failing, violations=[{"clause": "licensee", "message": "not Acme"}])
    result = judge(bad, face_id="face-1", observation=seen("education"))
    assert clauses(result) == [("licensee", "declared")]


def test_revoked_before_observation_and_before_stamping() -> None:
    after_stamp = datetime(2026, 4, 1, tzinfo=UTC)
    result = judge(report(), face_id="face-1", observation=seen("education"),
                   revoked_at=after_stamp)  # fmt: skip
    assert clauses(result) == [("revoked", "observed")]
    before_stamp = datetime(2026, 2, 1, tzinfo=UTC)
    result = judge(report(), face_id="face-1", observation=seen("education"),
                   revoked_at=before_stamp)  # fmt: skip
    assert clauses(result) == [("revoked", "declared"), ("revoked", "observed")]
    later = datetime(2026, 7, 1, tzinfo=UTC)
    assert not judge(report(), face_id="face-1", observation=seen("education"),
                     revoked_at=later).clauses  # fmt: skip
    assert Clause.REVOKED.value == "revoked"


def test_no_provenance_other_face_and_distrust() -> None:
    none = VerificationReport(
        file="x.png", verdict=Verdict.NO_PROVENANCE, synthetic=False,
        manifest=ManifestSection(present=False), watermark=WatermarkSection(detected=False),
    )  # fmt: skip
    assert judge(none, face_id="face-1", observation=seen()).verdict is EvidenceVerdict.NO_LICENSE
    other = judge(report(face="face-2"), face_id="face-1", observation=seen("politics"))
    assert other.verdict is EvidenceVerdict.NOT_THIS_FACE and "face-2" in other.reasons[0]
    forged = report(checks=[Check(name="manifest.trust", status=CheckStatus.FAIL,
                                  detail="signer does not chain")])  # fmt: skip
    result = judge(forged, face_id="face-1", observation=seen("politics"))
    assert result.verdict is EvidenceVerdict.UNVERIFIED
    assert result.reasons == ["signer does not chain"]


@pytest.mark.parametrize(
    ("purpose", "territory", "message"),
    [("mischief", None, "unknown observed purpose"), (None, "XX", "observed territory"),
     (None, "DE,FR", "one territory")],
)  # fmt: skip
def test_observation_input_errors(purpose: str | None, territory: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Observation.parse(purpose=purpose, territory=territory)
