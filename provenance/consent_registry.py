"""The vendor's record of licenses and their lifecycle (``consent.sqlite`` in the workspace).

Every license the vendor stamps under is registered here, with its private terms (the
ledger computes royalties from them). Revocations and superseding licenses are recorded on
import, after their owner signature is checked against the license they name: a revocation
not signed by that license's owner is refused. :class:`ConsentRegistry` is a
:class:`~provenance.lifecycle.LifecycleSource`, so the stamper refuses revoked and superseded
licenses and ``verify`` reports the status, from the same records.

    >>> registry = ConsentRegistry(workspace.consent_path)       # doctest: +SKIP
    >>> registry.record_revocation(revocation)                    # doctest: +SKIP
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ._internal.sqlite import Database, Store
from .consent import Grant, License
from .errors import ConsentError, RepositoryError
from .lifecycle import LicenseEvents, Revocation, StatusList, Supersession

__all__ = ["ConsentRegistry"]

_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS licenses (
    license_id       TEXT PRIMARY KEY,
    face_id          TEXT NOT NULL,
    owner_public_key TEXT NOT NULL,
    licensee         TEXT NOT NULL,
    supersedes       TEXT,
    document         BLOB NOT NULL,
    recorded_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS licenses_supersedes ON licenses (supersedes);
CREATE TABLE IF NOT EXISTS revocations (
    sha256       TEXT PRIMARY KEY,
    license_id   TEXT NOT NULL,
    effective_at TEXT NOT NULL,
    document     BLOB NOT NULL,
    recorded_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS revocations_license ON revocations (license_id);
"""


class ConsentRegistry(Store):
    """Licenses, revocations and supersessions known to one workspace."""

    description = "workspace"

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the registry at ``path``.

        Raises:
            RepositoryError: not a usable SQLite file.
        """
        self.path = path
        self._db = Database(
            path, schema=_SCHEMA, version=_VERSION, what="consent registry", error=RepositoryError
        )

    def register_license(self, license: License) -> None:
        """Record a license the vendor holds (idempotent).

        A license that names another in ``supersedes`` supersedes it from then on, provided
        both have the same face and owner key (checked here when the older one is known, and
        again whenever the status is computed).

        Raises:
            ConsentError: the license does not verify, or it names a known license of
                another face or owner.
        """
        license.verify()
        grant = license.grant
        if self._known(grant.license_id):
            return  # stamped under before: no write lock taken for every frame of a loop
        if grant.supersedes is not None:
            older = self.license(grant.supersedes)
            if older is not None and not Supersession(grant, license.signature).applies_to(
                older.grant
            ):
                raise ConsentError(
                    f"license {grant.license_id} names {grant.supersedes} in supersedes, but "
                    "that license is for another face or was signed by another owner key"
                )
        with self._db.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO licenses (license_id, face_id, owner_public_key, "
                "licensee, supersedes, document, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    grant.license_id,
                    grant.face_id,
                    grant.owner.public_key,
                    grant.licensee,
                    grant.supersedes,
                    license.to_json(),
                    _now(),
                ),
            )

    def record_revocation(self, revocation: Revocation, license: License | None = None) -> None:
        """Record a revocation after checking it against the license it names.

        Args:
            revocation: the owner's signed document.
            license: the license, when this registry has not seen it yet (it is then
                registered too).

        Raises:
            ConsentError: the license is unknown and not given, or the revocation is not
                signed by that license's owner for that license.
        """
        if license is not None:
            if license.license_id != revocation.license_id:
                raise ConsentError(
                    f"revocation names {revocation.license_id}, not {license.license_id}"
                )
            self.register_license(license)
        known = license or self.license(revocation.license_id)
        if known is None:
            raise ConsentError(
                f"revocation names {revocation.license_id}, which this workspace has never "
                "seen: give the license file too"
            )
        revocation.verify_for(known.grant)
        with self._db.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO revocations (sha256, license_id, effective_at, document, "
                "recorded_at) VALUES (?, ?, ?, ?, ?)",
                (
                    revocation.sha256(),
                    revocation.license_id,
                    revocation.effective_at.isoformat(),
                    revocation.to_json(),
                    _now(),
                ),
            )

    def _known(self, license_id: str) -> bool:
        return bool(self._db.query("SELECT 1 FROM licenses WHERE license_id=?", (license_id,)))

    def license(self, license_id: str) -> License | None:
        """The registered license with this ID, or None."""
        rows = self._db.query("SELECT document FROM licenses WHERE license_id=?", (license_id,))
        return _license(rows[0][0]) if rows else None

    def licenses_for_face(self, face_id: str) -> list[License]:
        """Every registered license of one face, in the order they were recorded."""
        rows = self._db.query(
            "SELECT document FROM licenses WHERE face_id=? ORDER BY recorded_at, license_id",
            (face_id,),
        )
        return [_license(row[0]) for row in rows]

    def events_for(self, grant: Grant) -> LicenseEvents:
        """Revocations and supersessions naming ``grant``'s license (unfiltered by key)."""
        lic = grant.license_id
        revocations = self._db.query(
            "SELECT document FROM revocations WHERE license_id=? ORDER BY effective_at", (lic,)
        )
        newer = self._db.query("SELECT document FROM licenses WHERE supersedes=?", (lic,))
        return LicenseEvents(
            revocations=tuple(_revocation(row[0]) for row in revocations),
            supersessions=tuple(_supersession(_license(row[0])) for row in newer),
        )

    def status_list(self) -> StatusList:
        """Everything a verifier without this workspace needs (no private terms)."""
        revocations = self._db.query("SELECT document FROM revocations ORDER BY effective_at")
        newer = self._db.query(
            "SELECT document FROM licenses WHERE supersedes IS NOT NULL ORDER BY recorded_at"
        )
        return StatusList(
            revocations=tuple(_revocation(row[0]) for row in revocations),
            supersessions=tuple(_supersession(_license(row[0])) for row in newer),
            description=self.description,
        )


def _license(document: object) -> License:
    assert isinstance(document, bytes)
    return License.from_json(document, source="consent registry")


def _revocation(document: object) -> Revocation:
    assert isinstance(document, bytes)
    return Revocation.from_document(json.loads(document), source="consent registry")


def _supersession(license: License) -> Supersession:
    return Supersession(grant=license.grant, signature=license.signature)


def _now() -> str:
    return datetime.now(UTC).isoformat()
