"""SQLite backend of the manifest repository.

WAL mode plus a generous busy timeout lets several stamping processes write at once without
losing entries; every write is one short ``BEGIN IMMEDIATE`` transaction. Content IDs are
reserved by inserting a row under a PRIMARY KEY, so two processes can never be handed the
same ID even when the 48-bit random serials collide.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from ..errors import RepositoryError
from ..watermark import ContentId
from .base import ManifestRecord
from .migrations import SQLITE, latest, pending

__all__ = ["SQLiteRepository"]

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""
_MINT_ATTEMPTS = 16
_COLUMNS = (
    "content_id, manifest_store, mime, face_id, license_id, watermark_alg, asset_sha256, created_at"
)


class SQLiteRepository:
    """A manifest repository in one SQLite file."""

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the repository at ``path``.

        Raises:
            RepositoryError: the file is not a usable SQLite database.
        """
        self.path = path
        try:
            self._db = sqlite3.connect(path, timeout=60.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=60000")
            self._migrate()
        except sqlite3.Error as exc:
            raise RepositoryError(f"{path}: cannot open manifest repository ({exc})") from exc

    def _migrate(self) -> None:
        if not pending(SQLITE, self._applied_version(), where=str(self.path)):
            return
        # Migrations run under the write lock and re-read the version there, so two processes
        # opening a new repository at once apply each migration exactly once.
        with self._write() as db:
            db.execute(_VERSION_TABLE)
            for migration in pending(SQLITE, self._applied_version(), where=str(self.path)):
                for statement in migration.statements:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, _now()),
                )
            # Mirrored into user_version, which SDKs before versioned migrations check.
            db.execute(f"PRAGMA user_version={latest(SQLITE)}")

    def _applied_version(self) -> int:
        (user_version,) = self._db.execute("PRAGMA user_version").fetchone()
        if user_version > latest(SQLITE):
            return int(user_version)  # a newer SDK migrated it; pending() refuses that
        exists = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
        ).fetchone()
        if not exists:
            return 0  # new, or made before versioned migrations: migration 1 adopts it
        (version,) = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(version or 0)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise RepositoryError(f"{self.path}: repository write failed ({exc})") from exc

    def reserve(self, issuer: int) -> ContentId:
        """Mint and reserve a fresh content ID under ``issuer``."""
        for _ in range(_MINT_ATTEMPTS):
            candidate = ContentId.mint(issuer)
            try:
                with self._write() as db:
                    db.execute(
                        "INSERT INTO manifests (content_id, state, reserved_at) "
                        "VALUES (?, 'reserved', ?)",
                        (candidate.hex, _now()),
                    )
                return candidate
            except RepositoryError as exc:
                if not isinstance(exc.__cause__, sqlite3.IntegrityError):
                    raise
        raise RepositoryError(f"{self.path}: could not mint a unique content ID")

    def complete(self, record: ManifestRecord) -> None:
        """Store the signed manifest under its reserved content ID."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE manifests SET state='complete', manifest_store=?, mime=?, face_id=?, "
                "license_id=?, watermark_alg=?, asset_sha256=?, created_at=? "
                "WHERE content_id=? AND state='reserved'",
                (
                    record.manifest_store,
                    record.mime,
                    record.face_id,
                    record.license_id,
                    record.watermark_alg,
                    record.asset_sha256,
                    record.created_at.astimezone(UTC).isoformat(),
                    record.content_id.hex,
                ),
            )
            if cursor.rowcount != 1:
                raise RepositoryError(
                    f"{self.path}: content ID {record.content_id} is not reserved"
                )

    def release(self, content_id: ContentId) -> None:
        """Drop a reservation that never completed."""
        with self._write() as db:
            db.execute(
                "DELETE FROM manifests WHERE content_id=? AND state='reserved'",
                (content_id.hex,),
            )

    def get(self, content_id: ContentId) -> ManifestRecord | None:
        """The completed record for ``content_id``, or None."""
        row = self._query(
            f"SELECT {_COLUMNS} FROM manifests WHERE content_id=? AND state='complete'",
            (content_id.hex,),
        )
        return _record(row[0]) if row else None

    def by_face(self, face_id: str) -> Sequence[ManifestRecord]:
        """Completed records for ``face_id``, oldest first."""
        rows = self._query(
            f"SELECT {_COLUMNS} FROM manifests WHERE face_id=? AND state='complete' "
            "ORDER BY created_at, content_id",
            (face_id,),
        )
        return [_record(row) for row in rows]

    def count(self) -> int:
        """Number of completed records."""
        (count,) = self._query("SELECT COUNT(*) FROM manifests WHERE state='complete'", ())[0]
        assert isinstance(count, int)
        return count

    def _query(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        try:
            return list(self._db.execute(sql, args).fetchall())
        except sqlite3.Error as exc:
            raise RepositoryError(f"{self.path}: repository read failed ({exc})") from exc

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> SQLiteRepository:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _record(row: tuple[object, ...]) -> ManifestRecord:
    content_id, store, mime, face_id, license_id, alg, sha, created = row
    assert isinstance(store, bytes)
    return ManifestRecord(
        content_id=ContentId.from_hex(str(content_id)),
        manifest_store=store,
        mime=str(mime),
        face_id=str(face_id),
        license_id=str(license_id),
        watermark_alg=str(alg),
        asset_sha256=str(sha),
        created_at=datetime.fromisoformat(str(created)),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()
