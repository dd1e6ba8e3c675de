"""The license's lifecycle in a verify report: valid, revoked, superseded or expired,
when the content was signed and now (``spec/consent.md`` §11).

Content signed while its license was valid stays verified when the license is revoked
later: the report says so ("signed while valid, revoked since ..."). Content signed after
the owner revoked or replaced the license fails ``likeness.license_status`` and carries a
``revoked`` or ``superseded`` violation, like any other clause.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..lifecycle import (
    LicenseEvents,
    LicenseState,
    LicenseStatus,
    LifecycleSource,
    describe_status,
    license_status,
)
from ..manifest import StampClaims
from ._checks import Checks
from .report import LicenseStatusSection, LikenessSection

__all__ = ["check_license_status"]

_WITHDRAWN = {LicenseState.REVOKED: "revoked", LicenseState.SUPERSEDED: "superseded"}


def check_license_status(
    claims: StampClaims | None,
    likeness: LikenessSection,
    lifecycle: LifecycleSource | None,
    checks: Checks,
) -> tuple[LikenessSection, LicenseStatusSection | None]:
    """Record ``likeness.license_status`` and return the section (None without a license)."""
    if claims is None:
        return likeness, None
    grant = claims.grant
    events = lifecycle.events_for(grant) if lifecycle is not None else LicenseEvents()
    now = datetime.now(UTC)
    signed = license_status(grant, events, at=claims.stamped_at)
    current = license_status(grant, events, at=now)
    summary = describe_status(signed, current)
    clause = _WITHDRAWN.get(signed.state)
    if clause is not None:
        checks.record("likeness.license_status", False, summary)
        violation = {"clause": clause, "message": f"license {grant.license_id}: {summary}"}
        likeness = likeness.model_copy(
            update={"in_scope": False, "violations": [*likeness.violations, violation]}
        )
    elif lifecycle is None:
        checks.skip(
            "likeness.license_status",
            f"{summary}; revocation not checked (no workspace and no --revocations file)",
        )
    else:
        checks.record("likeness.license_status", True, summary)
    section = LicenseStatusSection(
        source=lifecycle.description if lifecycle is not None else None,
        at_signing=signed.state,
        at_signing_since=_iso(signed),
        now=current.state,
        now_since=_iso(current),
        checked_at=now.isoformat(),
        revocation_reason=current.reason or signed.reason,
        superseded_by=current.superseded_by or signed.superseded_by,
        summary=summary,
    )
    return likeness, section


def _iso(status: LicenseStatus) -> str | None:
    return status.since.astimezone(UTC).isoformat() if status.since is not None else None
