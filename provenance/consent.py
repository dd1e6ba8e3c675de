"""Consent licenses: what a face owner allows a licensee to do with their likeness.

A :class:`License` has two parts (``spec/consent.md``):

* the :class:`Grant`, public: who, what purposes, where, when, for whom. The owner signs its
  canonical JSON, and a copy travels inside every stamped file's manifest;
* the :class:`Terms`, private: the written description of intended uses, representation and
  royalties. The grant commits to them through ``terms_sha256`` only.

:func:`grant_license` creates a signed license and enforces the validity rules (term limits,
specific intended uses, known purposes and territories). :func:`ensure_permitted` is the gate
every render passes: it verifies the owner's signature and refuses a use outside the scope.

Example::

    from datetime import UTC, date, datetime
    from provenance.consent import Purpose, Use, ensure_permitted, grant_license
    from provenance.owner import OwnerKey

    license = grant_license(
        owner_key=OwnerKey.generate(), owner_name="Alice Example", face_id="face_alice",
        licensee="Acme Avatars Ltd", allow=["education", "marketing"], deny=["politics"],
        territories=["EU", "US"], not_after=date(2027, 12, 31),
        intended_uses="Presenter of Acme's product tutorials and onboarding videos.",
    )
    ensure_permitted(license, Use(Purpose.EDUCATION, "DE", datetime.now(UTC)))
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from provenance import _territories
from provenance._internal.canonical import canonical_bytes, sha256_hex
from provenance._internal.files import write_atomic
from provenance.errors import ConsentError, InputError, ScopeViolationError
from provenance.owner import OwnerKey, parse_public_key, verify_owner_signature

__all__ = [
    "LICENSE_SCHEMA",
    "Grant",
    "License",
    "Owner",
    "OwnerSignature",
    "Purpose",
    "Representation",
    "Royalties",
    "Scope",
    "Terms",
    "Use",
    "ensure_permitted",
    "export_json_schema",
    "grant_license",
    "parse_purposes",
    "parse_territories",
    "scope_violations",
]

LICENSE_SCHEMA: Final = "avatar-provenance/license/v1"

# NO FAKES Act (H.R. 2794 / S. 1367): a license during life may not exceed 10 years, and 5 for
# a minor. See spec/consent.md, "Validity".
MAX_TERM_YEARS = 10
MAX_TERM_YEARS_MINOR = 5
MIN_INTENDED_USES_CHARS = 30
# Letters, outside purpose names and filler, that make a description "reasonably specific".
# Counted in letters rather than words so scripts written without spaces work too.
MIN_DESCRIPTIVE_LETTERS = 15


class Purpose(StrEnum):
    """What a rendered video is for. Definitions: ``spec/consent.md``, "Purposes"."""

    EDUCATION = "education"
    TRAINING = "training"
    MARKETING = "marketing"
    ADVERTISING = "advertising"
    ENTERTAINMENT = "entertainment"
    NEWS = "news"
    POLITICS = "politics"
    RELIGION = "religion"
    GAMBLING = "gambling"
    ADULT = "adult"
    FINANCIAL_ADVICE = "financial-advice"
    MEDICAL_ADVICE = "medical-advice"
    LEGAL_ADVICE = "legal-advice"
    ENDORSEMENT = "endorsement"
    CUSTOMER_SERVICE = "customer-service"
    INTERNAL_COMMUNICATION = "internal-communication"
    ACCESSIBILITY = "accessibility"
    ART = "art"
    SATIRE = "satire"
    AGE_RESTRICTED_GOODS = "age-restricted-goods"
    AI_TRAINING = "ai-training"
    RESEARCH = "research"
    CHARITY = "charity"


class Representation(StrEnum):
    """Who advised the owner when signing (NY GOL §5-302, CA Labor Code §927)."""

    COUNSEL = "counsel"
    UNION = "union"
    NONE = "none"


_FROZEN = ConfigDict(frozen=True, extra="forbid")
_AMOUNT = r"^(0|[1-9][0-9]*)(\.[0-9]{1,6})?$"
_LICENSE_ID = r"^lic_[0-9a-z]{26,32}$"


class Royalties(BaseModel):
    """What the licensee pays the owner; amounts are decimal strings such as ``"0.50"``."""

    model_config = _FROZEN

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    per_use: str | None = Field(default=None, pattern=_AMOUNT)
    per_minute: str | None = Field(default=None, pattern=_AMOUNT)
    per_new_licensee: str | None = Field(default=None, pattern=_AMOUNT)

    @classmethod
    def parse(
        cls,
        *,
        currency: str,
        per_use: str | None = None,
        per_minute: str | None = None,
        per_new_licensee: str | None = None,
    ) -> Royalties:
        """Build royalty terms from user input.

        Raises:
            ConsentError: a malformed currency code or amount, in one line.
        """
        try:
            return cls(
                currency=currency.strip().upper(),
                per_use=per_use,
                per_minute=per_minute,
                per_new_licensee=per_new_licensee,
            )
        except ValidationError as exc:
            raise ConsentError(f"royalties: {_one_line(exc)}") from None


def _coerce_purpose(value: Purpose | str) -> Purpose:
    try:
        return Purpose(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        known = ", ".join(p.value for p in Purpose)
        raise ConsentError(f"unknown purpose {value!r} (known: {known})") from None


def _normalise_territory(value: str) -> str:
    code = value.strip().upper()
    if not _territories.is_known(code):
        raise ConsentError(
            f"unknown territory {value!r} (use an ISO 3166-1 alpha-2 code such as US, or EU)"
        )
    return code


def _unique(items: Iterable[Any]) -> tuple[Any, ...]:
    # dict keeps first-seen order, so the signed order is the order the owner wrote.
    return tuple(dict.fromkeys(items))


class Scope(BaseModel):
    """The uses a license permits: purposes, territories and the validity window."""

    model_config = _FROZEN

    allow: tuple[Purpose, ...]
    deny: tuple[Purpose, ...]
    territories: tuple[str, ...]
    not_before: date
    not_after: date

    @field_validator("allow", "deny", mode="before")
    @classmethod
    def _known_purposes(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return _unique(
                _coerce_purpose(item) if isinstance(item, str) else item for item in value
            )
        return value

    @field_validator("territories", mode="before")
    @classmethod
    def _known_territories(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return _unique(
                _normalise_territory(item) if isinstance(item, str) else item for item in value
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scope:
        if not self.allow:
            raise ValueError("allow must name at least one purpose")
        overlap = [p.value for p in self.allow if p in self.deny]
        if overlap:
            raise ValueError(f"purposes both allowed and denied: {', '.join(overlap)}")
        if not self.territories:
            raise ValueError("territories must name at least one territory")
        if self.not_before > self.not_after:
            raise ValueError(f"not_before {self.not_before} is after not_after {self.not_after}")
        return self


class Owner(BaseModel):
    """The face owner: display name, signing key, and whether they are a minor."""

    model_config = _FROZEN

    name: str = Field(min_length=1)
    public_key: str
    minor: bool = False

    @field_validator("public_key")
    @classmethod
    def _ed25519(cls, value: str) -> str:
        parse_public_key(value)
        return value


_FILLER = frozenset(
    "a an and any as at by etc for from in include including of on only or other purpose "
    "purposes the to use uses using via with".split()
)
_PURPOSE_WORDS = frozenset(word for p in Purpose for word in p.value.split("-"))


def _check_specific(text: str) -> None:
    """Reject descriptions that are too short or only list purpose names ("NO FAKES" §2c)."""
    stripped = text.strip()
    if len(stripped) < MIN_INTENDED_USES_CHARS:
        raise ValueError(
            f"intended_uses is too short to be a reasonably specific description "
            f"({len(stripped)} < {MIN_INTENDED_USES_CHARS} characters)"
        )
    # Letters of any script, so descriptions need not be in English.
    words = set(re.findall(r"[^\W\d_]+", stripped.lower()))
    descriptive = words - _FILLER - _PURPOSE_WORDS
    if sum(len(word) for word in descriptive) < MIN_DESCRIPTIVE_LETTERS:
        raise ValueError(
            "intended_uses must describe the uses (what content, where, for whom), "
            "not only list purposes"
        )


class Terms(BaseModel):
    """The private part of a license; the grant commits to it by hash only."""

    model_config = _FROZEN

    intended_uses: str
    representation: Representation
    royalties: Royalties | None = None

    @field_validator("intended_uses")
    @classmethod
    def _specific(cls, value: str) -> str:
        _check_specific(value)
        return value


def _json(model: BaseModel) -> dict[str, Any]:
    # One JSON form everywhere: aliases ("schema"), ISO dates, nulls kept (spec/consent.md).
    return model.model_dump(mode="json", by_alias=True)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year + years, day=28)


class OwnerSignature(BaseModel):
    """The owner's Ed25519 signature over :meth:`Grant.signed_bytes`, standard base64."""

    model_config = _FROZEN

    alg: Literal["Ed25519"] = "Ed25519"
    value: str

    def raw(self) -> bytes:
        """The signature bytes.

        Returns:
            The decoded signature.

        Raises:
            ConsentError: ``value`` is not valid base64.
        """
        try:
            return base64.b64decode(self.value, validate=True)
        except binascii.Error as exc:
            raise ConsentError("owner signature is not valid base64") from exc


class Grant(BaseModel):
    """The public, owner-signed part of a license; it travels in every stamped manifest."""

    model_config = _FROZEN

    # Required rather than defaulted: a file must say which schema its signed bytes follow.
    schema_: Literal["avatar-provenance/license/v1"] = Field(alias="schema")
    license_id: str = Field(pattern=_LICENSE_ID)
    face_id: str = Field(min_length=1)
    owner: Owner
    licensee: str = Field(min_length=1)
    scope: Scope
    issued_at: datetime
    terms_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    # Added after v1 shipped: left out of the JSON form when absent, so every license signed
    # before it existed keeps its signed bytes (spec/consent.md, "Supersession").
    supersedes: str | None = Field(
        default=None, pattern=_LICENSE_ID, exclude_if=lambda value: value is None
    )

    @field_validator("issued_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("issued_at must carry a time zone (UTC, written with Z)")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _not_self(self) -> Grant:
        if self.supersedes == self.license_id:
            raise ValueError("a license cannot supersede itself")
        return self

    @model_validator(mode="after")
    def _term_limit(self) -> Grant:
        years = MAX_TERM_YEARS_MINOR if self.owner.minor else MAX_TERM_YEARS
        # not_after is inclusive, so the anniversary itself would be one day too long.
        last = _add_years(self.scope.not_before, years) - timedelta(days=1)
        if self.scope.not_after > last:
            who = " for a minor" if self.owner.minor else ""
            raise ValueError(
                f"term {self.scope.not_before}..{self.scope.not_after} exceeds {years} years{who}"
                f" (latest allowed not_after: {last})"
            )
        return self

    def signed_bytes(self) -> bytes:
        """The exact bytes the owner signs: canonical JSON of the grant.

        Returns:
            RFC 8785 canonical UTF-8 JSON of the grant's JSON form.
        """
        return canonical_bytes(_json(self))

    def verify(self, signature: OwnerSignature) -> None:
        """Check the owner's signature over :meth:`signed_bytes` with ``owner.public_key``.

        This proves the holder of ``owner.public_key`` signed this grant; whether that key
        belongs to the person behind ``face_id`` is the verifier's trust decision.

        Args:
            signature: the signature from the license or manifest.

        Raises:
            ConsentError: the signature is malformed or does not verify.
        """
        try:
            verify_owner_signature(self.owner.public_key, self.signed_bytes(), signature.raw())
        except ConsentError as exc:
            raise ConsentError(
                f"license {self.license_id}: owner signature does not verify"
            ) from exc


def _one_line(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"


class License(BaseModel):
    """The file a face owner hands the vendor: grant, private terms and owner signature."""

    model_config = _FROZEN

    grant: Grant
    terms: Terms
    signature: OwnerSignature

    @property
    def license_id(self) -> str:
        """The grant's ``license_id``."""
        return self.grant.license_id

    @property
    def face_id(self) -> str:
        """The grant's ``face_id``."""
        return self.grant.face_id

    def sha256(self) -> str:
        """The license hash: hex SHA-256 of the canonical JSON of the whole license.

        Returns:
            64 lower-case hex digits.
        """
        return sha256_hex(canonical_bytes(_json(self)))

    def verify(self) -> None:
        """Check the owner's signature and that the terms are the ones the grant commits to.

        Raises:
            ConsentError: the signature does not verify, or ``terms_sha256`` does not match.
        """
        self.grant.verify(self.signature)
        if sha256_hex(canonical_bytes(_json(self.terms))) != self.grant.terms_sha256:
            raise ConsentError(
                f"license {self.license_id}: terms do not match terms_sha256 in the signed grant"
            )

    def to_json(self) -> bytes:
        """Pretty JSON for files (the canonical form is only for hashing and signing).

        Returns:
            Indented UTF-8 JSON ending in a newline.
        """
        text = json.dumps(_json(self), indent=2, ensure_ascii=False)
        return (text + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes, *, source: str) -> License:
        """Parse a license. The signature is not checked here; call :meth:`verify`.

        Args:
            data: the file contents.
            source: where ``data`` came from, for the message (a path or ``"<stdin>"``).

        Returns:
            The license.

        Raises:
            ConsentError: ``{source}: not a license: <reason>``, one line.
        """
        try:
            # Decode ourselves: json.loads would also accept UTF-16/32, which the spec excludes.
            document = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise ConsentError(f"{source}: not a license: not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise ConsentError(
                f"{source}: not a license: invalid JSON ({exc.msg} at line {exc.lineno})"
            ) from None
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            # from None: a pydantic traceback helps nobody holding a bad file.
            raise ConsentError(f"{source}: not a license: {_one_line(exc)}") from None

    @classmethod
    def load(cls, path: Path) -> License:
        """Read and parse a license file (no signature check; call :meth:`verify`).

        Args:
            path: the license JSON file.

        Returns:
            The license.

        Raises:
            InputError: the file is missing or unreadable.
            ConsentError: the file is not a license.
        """
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read license: {exc.strerror}") from exc
        return cls.from_json(data, source=str(path))

    def save(self, path: Path, *, force: bool = False) -> None:
        """Write :meth:`to_json` to ``path`` (mode 0600: the terms are private).

        Args:
            path: destination.
            force: replace an existing file.

        Raises:
            OutputExistsError: ``path`` exists and ``force`` is false.
        """
        write_atomic(path, self.to_json(), force=force, mode=0o600)


def _new_license_id() -> str:
    # 128 random bits in lower-case base32 is exactly 26 characters once the padding is cut.
    return "lic_" + base64.b32encode(uuid.uuid4().bytes).decode("ascii").rstrip("=").lower()


def grant_license(
    *,
    owner_key: OwnerKey,
    owner_name: str,
    face_id: str,
    licensee: str,
    allow: Iterable[Purpose | str],
    deny: Iterable[Purpose | str],
    territories: Iterable[str],
    not_after: date,
    intended_uses: str,
    representation: Representation | str = "none",
    not_before: date | None = None,
    minor: bool = False,
    royalties: Royalties | None = None,
    license_id: str | None = None,
    supersedes: str | None = None,
    now: datetime | None = None,
) -> License:
    """Create and sign a license, enforcing the validity rules of ``spec/consent.md``.

    Args:
        owner_key: the face owner's key; it signs the grant.
        owner_name: the owner's name as it should appear to verifiers.
        face_id: the identifier of the licensed face.
        licensee: who may use the face.
        allow: permitted purposes (at least one).
        deny: purposes explicitly refused; must not overlap ``allow``.
        territories: ISO 3166-1 alpha-2 codes or ``EU``, any case.
        not_after: last day of validity (inclusive, UTC).
        intended_uses: a reasonably specific description of the intended uses.
        representation: ``counsel``, ``union`` or ``none``.
        not_before: first day of validity; defaults to the UTC date of ``now``.
        minor: the owner is a minor (5-year term limit).
        royalties: payment terms, kept private.
        license_id: a fixed id (``lic_`` + 26 characters); generated when omitted.
        supersedes: the ID of the license this one replaces (same face, same owner key).
        now: issue time (timezone-aware); defaults to the current time.

    Returns:
        The signed license.

    Raises:
        ConsentError: a rule is broken; the message names it.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ConsentError("cannot grant license: now must be timezone-aware")
    # Whole seconds: the timestamp is signed, and sub-second digits only add ways to differ.
    issued_at = now.astimezone(UTC).replace(microsecond=0)
    try:
        terms = Terms(
            intended_uses=intended_uses,
            representation=Representation(representation),
            royalties=royalties,
        )
        scope = Scope(
            allow=tuple(_coerce_purpose(p) for p in allow),
            deny=tuple(_coerce_purpose(p) for p in deny),
            territories=tuple(_normalise_territory(t) for t in territories),
            not_before=issued_at.date() if not_before is None else not_before,
            not_after=not_after,
        )
        grant = Grant(
            schema=LICENSE_SCHEMA,
            license_id=_new_license_id() if license_id is None else license_id,
            face_id=face_id,
            owner=Owner(name=owner_name, public_key=owner_key.public_key, minor=minor),
            licensee=licensee,
            scope=scope,
            issued_at=issued_at,
            terms_sha256=sha256_hex(canonical_bytes(_json(terms))),
            supersedes=supersedes,
        )
    except ValidationError as exc:
        raise ConsentError(f"cannot grant license: {_one_line(exc)}") from None
    except ConsentError as exc:
        raise ConsentError(f"cannot grant license: {exc}") from None
    except ValueError:
        known = ", ".join(r.value for r in Representation)
        raise ConsentError(
            f"cannot grant license: unknown representation {representation!r} (known: {known})"
        ) from None
    value = base64.b64encode(owner_key.sign(grant.signed_bytes())).decode("ascii")
    return License(grant=grant, terms=terms, signature=OwnerSignature(value=value))


@dataclass(frozen=True)
class Use:
    """One intended use of a face, checked against a grant's scope.

    Attributes:
        purpose: what the rendered media is for.
        territory: where it is published (alpha-2 or ``EU``; any case).
        at: when; compared by UTC date. A naive datetime is taken as UTC.
        licensee: who is using the face; ``None`` skips the licensee check.
    """

    purpose: Purpose
    territory: str
    at: datetime
    licensee: str | None = None

    def __post_init__(self) -> None:
        """Normalise purpose, territory and time so callers may pass plain values.

        An unknown territory is kept (upper-cased) rather than refused: verifiers build uses
        from untrusted manifests, and such a use must come out as a ``territory`` violation,
        not as an exception.

        Raises:
            ConsentError: unknown purpose.
        """
        # Frozen dataclass: normalise through object.__setattr__, once, at construction.
        object.__setattr__(self, "purpose", _coerce_purpose(self.purpose))
        object.__setattr__(self, "territory", self.territory.strip().upper())
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            object.__setattr__(self, "at", self.at.replace(tzinfo=UTC))


def scope_violations(grant: Grant, use: Use) -> list[ScopeViolationError]:
    """Every way ``use`` falls outside ``grant.scope`` (the signature is not checked).

    Args:
        grant: the grant to check against.
        use: the intended use.

    Returns:
        One error per violated clause (``purpose``, ``territory``, ``date``, ``licensee``, in
        that order); empty when the use is permitted.
    """
    scope, lic = grant.scope, grant.license_id
    found: list[ScopeViolationError] = []
    # Deny is checked first so it wins even over an allow (spec/consent.md, "Purposes").
    if use.purpose in scope.deny:
        found.append(
            ScopeViolationError("purpose", f"license {lic}: purpose {use.purpose} is denied")
        )
    elif use.purpose not in scope.allow:
        allowed = ", ".join(scope.allow)
        found.append(
            ScopeViolationError(
                "purpose",
                f"license {lic}: purpose {use.purpose} is not allowed (allowed: {allowed})",
            )
        )
    covered = _territories.expand(scope.territories)
    needed = _territories.expand((use.territory,))
    if not needed <= covered:
        listed = ", ".join(scope.territories)
        found.append(
            ScopeViolationError(
                "territory",
                f"license {lic}: territory {use.territory} is not covered (covered: {listed})",
            )
        )
    day = use.at.astimezone(UTC).date()
    if not scope.not_before <= day <= scope.not_after:
        found.append(
            ScopeViolationError(
                "date",
                f"license {lic}: {day} is outside {scope.not_before}..{scope.not_after}",
            )
        )
    if use.licensee is not None and use.licensee != grant.licensee:
        found.append(
            ScopeViolationError(
                "licensee",
                f"license {lic}: granted to {grant.licensee!r}, not {use.licensee!r}",
            )
        )
    return found


def ensure_permitted(license: License, use: Use) -> None:
    """Refuse ``use`` unless the license verifies and its scope covers the use.

    Args:
        license: the license to check.
        use: the intended use.

    Raises:
        ConsentError: the license does not verify.
        ScopeViolationError: the first violated clause (see :func:`scope_violations`).
    """
    license.verify()
    violations = scope_violations(license.grant, use)
    if violations:
        raise violations[0]


def parse_purposes(text: str) -> tuple[Purpose, ...]:
    """Parse a comma-separated purpose list such as ``"education,marketing"``.

    Args:
        text: purposes separated by commas; blanks around items are ignored.

    Returns:
        The purposes in order, without duplicates.

    Raises:
        ConsentError: an item is not a known purpose.
    """
    return _unique(_coerce_purpose(item) for item in text.split(",") if item.strip())


def parse_territories(text: str) -> tuple[str, ...]:
    """Parse a comma-separated territory list such as ``"EU,us"``.

    Args:
        text: codes separated by commas, any case.

    Returns:
        Upper-case codes in order, without duplicates.

    Raises:
        ConsentError: an item is not an ISO 3166-1 alpha-2 code or ``EU``.
    """
    return _unique(_normalise_territory(item) for item in text.split(",") if item.strip())


def export_json_schema() -> dict[str, Any]:
    """The JSON Schema of a license file, as committed in ``spec/schemas/license.schema.json``.

    Returns:
        A JSON Schema (draft 2020-12) document.
    """
    schema = License.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
