"""A license's life after it is granted: revocation, supersession, expiry.

A face owner withdraws consent with a :class:`Revocation`: a small document naming the
license, a reason and an effective time, signed with the same Ed25519 key that signed the
license. A license is *superseded* when the owner signs a new license whose grant names it
in ``supersedes``. Expiry is the grant's own ``not_after``. Formats and rules:
``spec/consent.md``, "Lifecycle".

Everything here is pure: where the documents are kept (the vendor's workspace, a status-list
file handed to a platform) is :mod:`provenance.consent_registry`; both answer
:class:`LifecycleSource.events_for`, and :func:`license_status` turns the events into a
:class:`LicenseStatus` at any moment.

Example::

    from provenance.lifecycle import LicenseEvents, license_status, revoke_license

    revocation = revoke_license(license, owner_key=key, reason="no longer consent")
    events = LicenseEvents(revocations=(revocation,))
    license_status(license.grant, events, at=datetime.now(UTC)).state   # REVOKED
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ._internal.canonical import canonical_bytes, sha256_hex
from ._internal.files import read_input, write_atomic
from .consent import Grant, License, OwnerSignature, _one_line
from .errors import ConsentError, InputError, ScopeViolationError
from .owner import OwnerKey, parse_public_key, verify_owner_signature

__all__ = [
    "REVOCATION_SCHEMA",
    "STATUS_LIST_SCHEMA",
    "LicenseEvents",
    "LicenseState",
    "LicenseStatus",
    "LifecycleSource",
    "Revocation",
    "RevocationBody",
    "StatusList",
    "Supersession",
    "describe_status",
    "ensure_current",
    "license_status",
    "revoke_license",
]

REVOCATION_SCHEMA: Final = "avatar-provenance/revocation/v1"
STATUS_LIST_SCHEMA: Final = "avatar-provenance/status-list/v1"
_MAX_REASON = 2000
_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone (UTC, written with Z)")
    return value.astimezone(UTC)


class RevocationBody(BaseModel):
    """What the owner signs to withdraw consent (``spec/consent.md``, "Revocation")."""

    model_config = _FROZEN

    schema_: Literal["avatar-provenance/revocation/v1"] = Field(alias="schema")
    license_id: str = Field(pattern=r"^lic_[0-9a-z]{26,32}$")
    face_id: str = Field(min_length=1)
    owner_public_key: str
    reason: str = Field(min_length=1, max_length=_MAX_REASON)
    effective_at: datetime
    issued_at: datetime

    @field_validator("owner_public_key")
    @classmethod
    def _ed25519(cls, value: str) -> str:
        parse_public_key(value)
        return value

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reason must not be blank")
        return value

    @field_validator("effective_at", "issued_at")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        return _utc(value, "times")

    @model_validator(mode="after")
    def _not_backdated(self) -> RevocationBody:
        # A vendor cannot have known of a revocation before it was issued; backdating would
        # turn stamps made in good faith into violations.
        if self.effective_at < self.issued_at:
            raise ValueError(
                f"effective_at {_iso(self.effective_at)} is before issued_at "
                f"{_iso(self.issued_at)} (a revocation cannot be backdated)"
            )
        return self

    def signed_bytes(self) -> bytes:
        """Canonical JSON of the body: the bytes the owner signs."""
        return canonical_bytes(self.model_dump(mode="json", by_alias=True))


class Revocation(BaseModel):
    """A signed revocation document, as the owner hands it to the vendor."""

    model_config = _FROZEN

    revocation: RevocationBody
    signature: OwnerSignature

    @property
    def license_id(self) -> str:
        return self.revocation.license_id

    @property
    def effective_at(self) -> datetime:
        return self.revocation.effective_at

    def sha256(self) -> str:
        """Hex SHA-256 of the canonical document: names one revocation."""
        return sha256_hex(canonical_bytes(self.model_dump(mode="json", by_alias=True)))

    def verify(self) -> None:
        """Check the signature against the key the document names.

        Raises:
            ConsentError: the signature is malformed or does not verify.
        """
        body = self.revocation
        try:
            verify_owner_signature(body.owner_public_key, body.signed_bytes(), self.signature.raw())
        except ConsentError as exc:
            raise ConsentError(
                f"revocation of {body.license_id}: owner signature does not verify"
            ) from exc

    def verify_for(self, grant: Grant) -> None:
        """Check this revocation was signed by ``grant``'s owner, for that license.

        Raises:
            ConsentError: another license or face, another key, or a bad signature.
        """
        body = self.revocation
        if body.license_id != grant.license_id:
            raise ConsentError(f"revocation names {body.license_id}, not {grant.license_id}")
        if body.face_id != grant.face_id:
            raise ConsentError(
                f"revocation of {body.license_id} names face {body.face_id!r}, the license "
                f"is for {grant.face_id!r}"
            )
        if body.owner_public_key != grant.owner.public_key:
            raise ConsentError(
                f"revocation of {body.license_id} is not signed by the license's owner "
                f"(signed by {body.owner_public_key}, the owner is {grant.owner.public_key})"
            )
        self.verify()

    def to_json(self) -> bytes:
        text = json.dumps(self.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)
        return (text + "\n").encode()

    @classmethod
    def from_document(cls, document: Any, *, source: str) -> Revocation:
        """Parse an already decoded JSON document (no signature check).

        Raises:
            ConsentError: ``{source}: not a revocation: <reason>``.
        """
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            raise ConsentError(f"{source}: not a revocation: {_one_line(exc)}") from None

    def save(self, path: Path, *, force: bool = False) -> None:
        """Write :meth:`to_json` (it is public: mode 0644)."""
        write_atomic(path, self.to_json(), force=force)


@dataclass(frozen=True)
class Supersession:
    """A newer license's public grant that names an older license in ``supersedes``."""

    grant: Grant
    signature: OwnerSignature

    @property
    def effective_at(self) -> datetime:
        """When the new license takes over: its issue time, or its first day if later."""
        start = datetime.combine(self.grant.scope.not_before, time(), tzinfo=UTC)
        return max(self.grant.issued_at, start)

    def applies_to(self, grant: Grant) -> bool:
        """True when this names ``grant`` and is signed by the same owner for the same face."""
        new = self.grant
        if new.supersedes != grant.license_id or new.face_id != grant.face_id:
            return False
        if new.owner.public_key != grant.owner.public_key:
            return False
        try:
            new.verify(self.signature)
        except ConsentError:
            return False
        return True

    def to_document(self) -> dict[str, Any]:
        return {
            "grant": self.grant.model_dump(mode="json", by_alias=True),
            "signature": self.signature.model_dump(mode="json"),
        }


@dataclass(frozen=True)
class LicenseEvents:
    """What is known to have ended a license: revocations and supersessions (unfiltered)."""

    revocations: tuple[Revocation, ...] = ()
    supersessions: tuple[Supersession, ...] = ()


class LifecycleSource(Protocol):
    """Where revocations and supersessions come from: the workspace, or a status-list file."""

    @property
    def description(self) -> str:
        """``workspace`` or ``file``, for reports."""
        ...

    def events_for(self, grant: Grant) -> LicenseEvents:
        """Every known revocation and supersession naming ``grant``'s license."""
        ...


class LicenseState(StrEnum):
    """A license's state at one moment."""

    VALID = "valid"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class LicenseStatus:
    """The state at one moment, when it began, and what caused it."""

    state: LicenseState
    since: datetime | None = None
    reason: str | None = None
    superseded_by: str | None = None


def license_status(grant: Grant, events: LicenseEvents, *, at: datetime) -> LicenseStatus:
    """The state of ``grant``'s license at ``at``.

    Only events that verify for this grant count: a revocation signed by another key, or a
    new license from another owner, is ignored. When several events have ended the license
    by ``at``, the earliest one names the state ("revoked in March" beats "expired in June").
    """
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    ended: list[tuple[datetime, LicenseStatus]] = []
    for revocation in events.revocations:
        if _counts(revocation, grant):
            body = revocation.revocation
            status = LicenseStatus(LicenseState.REVOKED, body.effective_at, reason=body.reason)
            ended.append((body.effective_at, status))
    for supersession in events.supersessions:
        if supersession.applies_to(grant):
            since = supersession.effective_at
            by = supersession.grant.license_id
            ended.append((since, LicenseStatus(LicenseState.SUPERSEDED, since, superseded_by=by)))
    expiry = datetime.combine(grant.scope.not_after + timedelta(days=1), time(), tzinfo=UTC)
    ended.append((expiry, LicenseStatus(LicenseState.EXPIRED, expiry)))
    past = [item for item in ended if item[0] <= at]
    if past:
        return min(past, key=lambda item: item[0])[1]
    start = datetime.combine(grant.scope.not_before, time(), tzinfo=UTC)
    if at < start:
        return LicenseStatus(LicenseState.NOT_YET_VALID, None)
    return LicenseStatus(LicenseState.VALID, start)


def _counts(revocation: Revocation, grant: Grant) -> bool:
    try:
        revocation.verify_for(grant)
    except ConsentError:
        return False
    return True


def ensure_current(license: License, events: LicenseEvents, *, at: datetime) -> None:
    """Refuse a license that was revoked or superseded by ``at`` (expiry is the scope's
    ``date`` clause, checked by :func:`provenance.consent.ensure_permitted`).

    Raises:
        ScopeViolationError: clause ``revoked`` or ``superseded``.
    """
    status = license_status(license.grant, events, at=at)
    lic = license.license_id
    if status.state is LicenseState.REVOKED:
        assert status.since is not None
        raise ScopeViolationError(
            "revoked",
            f"license {lic} was revoked by its owner on {_iso(status.since)}: {status.reason}",
        )
    if status.state is LicenseState.SUPERSEDED:
        assert status.since is not None
        raise ScopeViolationError(
            "superseded",
            f"license {lic} was superseded by {status.superseded_by} on {_iso(status.since)}",
        )


def describe_status(at_signing: LicenseStatus, now: LicenseStatus) -> str:
    """One line a person reads: "signed while valid, revoked since 2026-05-01T00:00:00Z"."""
    if at_signing.state is LicenseState.VALID:
        if now.state is LicenseState.VALID:
            return "signed while valid, still valid"
        return f"signed while valid, {_ended(now)}"
    return f"signed while the license was not valid ({_ended(at_signing)})"


def _ended(status: LicenseStatus) -> str:
    state = status.state
    if state is LicenseState.NOT_YET_VALID:
        return "not yet valid"
    since = _iso(status.since) if status.since else "?"
    if state is LicenseState.REVOKED:
        return f"revoked since {since} ({status.reason})"
    if state is LicenseState.SUPERSEDED:
        return f"superseded by {status.superseded_by} since {since}"
    if state is LicenseState.EXPIRED:
        return f"expired since {since}"
    return "valid"


def revoke_license(
    license: License,
    *,
    owner_key: OwnerKey,
    reason: str,
    effective_at: datetime | None = None,
    now: datetime | None = None,
) -> Revocation:
    """Sign a revocation of ``license`` with its owner's key.

    Args:
        license: the license to withdraw.
        owner_key: the key that signed the license.
        reason: why, in the owner's words (kept in the document and shown by ``verify``).
        effective_at: when consent ends (timezone-aware); defaults to the issue time. It may
            lie in the future (notice periods), never before the issue time.
        now: the issue time (timezone-aware); defaults to the current time.

    Returns:
        The signed revocation.

    Raises:
        ConsentError: the key is not the license owner's, or a rule is broken.
    """
    grant = license.grant
    if owner_key.public_key != grant.owner.public_key:
        raise ConsentError(
            f"cannot revoke {grant.license_id}: the key is not the license owner's "
            f"({grant.owner.public_key})"
        )
    # Microseconds kept (unlike a grant's issue time): the next stamp after a revocation
    # must be refused, and one made a moment before it must not look as if made after.
    issued = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        body = RevocationBody(
            schema=REVOCATION_SCHEMA,
            license_id=grant.license_id,
            face_id=grant.face_id,
            owner_public_key=grant.owner.public_key,
            reason=reason.strip(),
            effective_at=effective_at if effective_at is not None else issued,
            issued_at=issued,
        )
    except ValidationError as exc:
        raise ConsentError(f"cannot revoke {grant.license_id}: {_one_line(exc)}") from None
    value = base64.b64encode(owner_key.sign(body.signed_bytes())).decode("ascii")
    return Revocation(revocation=body, signature=OwnerSignature(value=value))


@dataclass(frozen=True)
class StatusList:
    """Revocations and supersessions in one file, for verifying without a workspace."""

    revocations: tuple[Revocation, ...] = ()
    supersessions: tuple[Supersession, ...] = ()
    description: str = "file"

    def events_for(self, grant: Grant) -> LicenseEvents:
        lic = grant.license_id
        return LicenseEvents(
            revocations=tuple(r for r in self.revocations if r.license_id == lic),
            supersessions=tuple(s for s in self.supersessions if s.grant.supersedes == lic),
        )

    def to_json(self) -> bytes:
        body = {
            "schema": STATUS_LIST_SCHEMA,
            "revocations": [r.model_dump(mode="json", by_alias=True) for r in self.revocations],
            "supersessions": [s.to_document() for s in self.supersessions],
        }
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def load(cls, path: Path) -> StatusList:
        """Read a status list, or a single revocation document, from ``path``.

        Every document's own signature is checked here; whether it was signed by the right
        owner is decided per license by :func:`license_status`.

        Raises:
            InputError: unreadable, empty, not a status list or revocation, or a signature
                does not verify (for a verifier it is a bad input file, not a refused use).
        """
        try:
            return cls._load(path)
        except ConsentError as exc:
            message = str(exc)
            raise InputError(
                message if message.startswith(str(path)) else f"{path}: {message}"
            ) from exc

    @classmethod
    def _load(cls, path: Path) -> StatusList:
        source = str(path)
        try:
            document = json.loads(read_input(path).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConsentError(f"{source}: not a status list: invalid JSON ({exc})") from None
        if isinstance(document, dict) and "revocation" in document:
            revocation = Revocation.from_document(document, source=source)
            revocation.verify()
            return cls(revocations=(revocation,))
        if not isinstance(document, dict) or document.get("schema") != STATUS_LIST_SCHEMA:
            raise ConsentError(
                f"{source}: not a status list (schema {STATUS_LIST_SCHEMA}) or a revocation"
            )
        revocations = tuple(
            Revocation.from_document(item, source=source)
            for item in document.get("revocations", [])
        )
        for revocation in revocations:
            revocation.verify()
        supersessions = tuple(
            _supersession(item, source) for item in document.get("supersessions", [])
        )
        return cls(revocations=revocations, supersessions=supersessions)


def _supersession(item: Any, source: str) -> Supersession:
    try:
        found = Supersession(
            grant=Grant.model_validate(item["grant"]),
            signature=OwnerSignature.model_validate(item["signature"]),
        )
    except (ValidationError, KeyError, TypeError) as exc:
        raise ConsentError(f"{source}: not a supersession entry ({exc})") from None
    found.grant.verify(found.signature)
    return found


def _iso(moment: datetime) -> str:
    # Whole seconds for people; the documents keep the exact time.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
