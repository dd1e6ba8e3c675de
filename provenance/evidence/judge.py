"""The verdict on one file: does it use this face within the owner's consent?

Pure functions over a :class:`~provenance.verify.VerificationReport` and what the reporter
observed (``spec/evidence.md`` section 3). The order of the rules matters: a file with no
provenance has no license; provenance that fails verification proves nothing either way;
provenance for another face is not this owner's business; only then are the license's
clauses compared, both with the use signed into the file and with the use observed.

Example:
    >>> observation = Observation.parse(purpose="politics", territory="DE")  # doctest: +SKIP
    >>> judge(report, face_id="face-0001", observation=observation).verdict  # doctest: +SKIP
    <EvidenceVerdict.OUT_OF_SCOPE: 'out_of_scope'>
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..consent import Grant, Purpose, Scope, Use, parse_territories, scope_violations
from ..errors import ConsentError, InputError
from ..verify import CheckStatus, Verdict, VerificationReport
from ..verify.report import LikenessSection
from .model import Clause, ClauseViolation, EvidenceVerdict, ObservedUse

__all__ = ["Judgement", "Observation", "judge"]

# The one check whose failure is a verdict here, not a reason to distrust the file.
_SCOPE_CHECK = "likeness.in_scope"


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Observation:
    """How the reporter saw the files used.

    Attributes:
        purpose: the purpose the use served, or None when not observed.
        territory: where it was published (alpha-2 or ``EU``), or None.
        at: when it was seen (UTC); the license's dates are compared with this day.
        source_url: where it was found.
    """

    purpose: Purpose | None
    territory: str | None
    at: datetime
    source_url: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        purpose: str | None = None,
        territory: str | None = None,
        at: datetime | None = None,
        source_url: str | None = None,
    ) -> Observation:
        """Build an observation from plain values; ``at`` defaults to now.

        Raises:
            InputError: an unknown purpose or territory, or more than one territory.
        """
        try:
            parsed_purpose = Purpose(purpose.strip().lower()) if purpose else None
        except ValueError:
            raise InputError(f"unknown observed purpose {purpose!r}") from None
        parsed_territory = None
        if territory:
            try:
                codes = parse_territories(territory)
            except ConsentError as exc:
                raise InputError(f"observed territory: {exc}") from None
            if len(codes) != 1:
                raise InputError(f"observe one territory per report, not {territory!r}")
            parsed_territory = codes[0]
        when = at or datetime.now(UTC)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return cls(parsed_purpose, parsed_territory, when.astimezone(UTC), source_url)

    def to_model(self) -> ObservedUse:
        return ObservedUse(
            purpose=self.purpose.value if self.purpose else None,
            territory=self.territory,
            observed_at=_utc_text(self.at),
            source_url=self.source_url,
        )


@dataclass(frozen=True)
class Judgement:
    verdict: EvidenceVerdict
    reasons: list[str] = field(default_factory=list)
    clauses: list[ClauseViolation] = field(default_factory=list)


def judge(
    report: VerificationReport,
    *,
    face_id: str,
    observation: Observation,
    revoked_at: datetime | None = None,
) -> Judgement:
    """The verdict on one verified file.

    Args:
        report: what ``verify`` found.
        face_id: the face whose owner asks.
        observation: the use the reporter saw.
        revoked_at: when the license the file names was revoked, if it was; the verify
            report gains a license-status section with the license lifecycle, and this
            argument is where that status enters (``spec/evidence.md`` section 3).

    Returns:
        The verdict, the reasons behind it and every violated clause.
    """
    if report.verdict is Verdict.NO_PROVENANCE:
        return Judgement(
            EvidenceVerdict.NO_LICENSE, ["no C2PA manifest and no watermark: no license shown"]
        )
    distrust = [
        c.detail for c in report.checks if c.status is CheckStatus.FAIL and c.name != _SCOPE_CHECK
    ]
    if distrust:
        return Judgement(EvidenceVerdict.UNVERIFIED, distrust)
    likeness = report.likeness
    if likeness.face_id is None:
        return Judgement(EvidenceVerdict.NO_LICENSE, ["the provenance names no licensed face"])
    if likeness.face_id != face_id:
        return Judgement(
            EvidenceVerdict.NOT_THIS_FACE,
            [f"the provenance names face {likeness.face_id}, not {face_id}"],
        )
    clauses = _declared(likeness) + _observed(likeness, observation)
    clauses += _revoked(likeness, observation, revoked_at)
    if clauses:
        return Judgement(
            EvidenceVerdict.OUT_OF_SCOPE,
            [f"{c.basis} use breaks the {c.clause.value} clause: {c.message}" for c in clauses],
            clauses,
        )
    return Judgement(
        EvidenceVerdict.IN_SCOPE,
        [f"licensed under {likeness.license_id} and within its scope as observed"],
    )


def _declared(likeness: LikenessSection) -> list[ClauseViolation]:
    return [
        ClauseViolation(clause=Clause(v["clause"]), basis="declared", message=v["message"])
        for v in likeness.violations
        if v.get("clause") in Clause.__members__.values()
    ]


def _observed(likeness: LikenessSection, observation: Observation) -> list[ClauseViolation]:
    """The clauses of spec/consent.md section 7, applied to the observed use.

    What was not observed (purpose, territory) is filled with a value the scope allows and
    its clause is left out, so only observed facts can break a clause.
    """
    if likeness.scope is None:
        return []
    scope = Scope.model_validate(likeness.scope)
    # scope_violations reads only these fields; the grant's signature was checked by verify,
    # and the report carries the scope, not the whole grant.
    fields: dict[str, Any] = {
        "license_id": likeness.license_id,
        "licensee": likeness.licensee,
        "scope": scope,
    }
    grant = Grant.model_construct(**fields)
    use = Use(
        observation.purpose or scope.allow[0],
        observation.territory or scope.territories[0],
        observation.at,
    )
    unobserved = {
        name
        for name, value in (
            (Clause.PURPOSE, observation.purpose),
            (Clause.TERRITORY, observation.territory),
        )
        if value is None
    }
    return [
        ClauseViolation(clause=Clause(v.clause), basis="observed", message=str(v))
        for v in scope_violations(grant, use)
        if v.clause not in unobserved
    ]


def _revoked(
    likeness: LikenessSection, observation: Observation, revoked_at: datetime | None
) -> list[ClauseViolation]:
    if revoked_at is None:
        return []
    revoked = revoked_at.astimezone(UTC) if revoked_at.tzinfo else revoked_at.replace(tzinfo=UTC)
    lic, when = likeness.license_id, _utc_text(revoked)
    found = []
    stamped = datetime.fromisoformat(likeness.stamped_at) if likeness.stamped_at else None
    if stamped is not None and stamped >= revoked:
        found.append(
            ClauseViolation(
                clause=Clause.REVOKED,
                basis="declared",
                message=f"license {lic}: stamped after its revocation at {when}",
            )
        )
    if observation.at >= revoked:
        found.append(
            ClauseViolation(
                clause=Clause.REVOKED,
                basis="observed",
                message=f"license {lic}: revoked at {when}, still in use when observed",
            )
        )
    return found
