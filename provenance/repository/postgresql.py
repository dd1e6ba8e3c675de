"""PostgreSQL backend of the manifest repository (the only module that imports psycopg).

For vendors that stamp on several machines, or serve resolution from a database they already
run. Every write is one autocommit statement; content IDs are reserved with
``INSERT ... ON CONFLICT DO NOTHING`` under the PRIMARY KEY, so any number of stamping
processes, on any number of hosts, are never handed the same ID. Migrations run on open in
one transaction under an advisory lock (``spec/repository.md``).

Example:
    >>> with PostgreSQLRepository("postgresql://stamper@db.internal/provenance") as repo:
    ...     cid = repo.reserve(issuer=0x3fa2)  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC
from types import TracebackType
from typing import Any

import psycopg

from ..errors import InputError, RepositoryError
from ..watermark import ContentId
from .base import ManifestRecord
from .migrations import POSTGRESQL, pending
from .url import RepositoryUrl

__all__ = ["PostgreSQLRepository"]

# pg_advisory_xact_lock key serialising migrations: ASCII "avatprov", within a signed bigint.
_MIGRATION_LOCK = 0x6176617470726F76
_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""
_MINT_ATTEMPTS = 16
_COLUMNS = (
    "content_id, manifest_store, mime, face_id, license_id, watermark_alg, asset_sha256, created_at"
)

_Connection = psycopg.Connection[tuple[Any, ...]]


class PostgreSQLRepository:
    """A manifest repository in a PostgreSQL database (tables in the first search_path schema)."""

    def __init__(self, url: RepositoryUrl | str, *, connect_timeout: int = 10) -> None:
        """Connect to ``url`` and bring its schema up to date.

        Raises:
            InputError: ``url`` is not a PostgreSQL URL.
            RepositoryError: the server is unreachable, refuses the login, or the schema is
                newer than this SDK.
        """
        self.url = url if isinstance(url, RepositoryUrl) else RepositoryUrl.parse(url)
        if self.url.backend != "postgresql":
            raise InputError(f"{self.url}: not a PostgreSQL repository URL")
        self._timeout = connect_timeout
        self._closed = False
        self._reconnecting = threading.Lock()
        self._db = self._connect()
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _connect(self) -> _Connection:
        try:
            return psycopg.connect(
                self.url.dsn,
                autocommit=True,
                connect_timeout=self._timeout,
                application_name="avatar-provenance",
            )
        except psycopg.Error as exc:
            # The cause is dropped on purpose: libpq's parse errors may quote the connection
            # string, password included, and a chained traceback would print it unscrubbed.
            raise RepositoryError(
                f"{self.url}: cannot open manifest repository ({self.url.scrub(str(exc))})"
            ) from None

    def _connection(self) -> _Connection:
        # A long-running service outlives server restarts: a connection the server dropped is
        # replaced on the next call (the call that saw it drop already failed with an error).
        if self._db.closed and not self._closed:
            with self._reconnecting:  # threads share this object; one of them reconnects
                if self._db.closed and not self._closed:
                    self._db = self._connect()
        return self._db

    def _migrate(self) -> None:
        if not pending(POSTGRESQL, self._applied_version(), where=str(self.url)):
            return  # the usual case needs no lock and no DDL, so read-only roles can open it
        db = self._connection()
        try:
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                db.execute(_VERSION_TABLE)
                for migration in pending(
                    POSTGRESQL, self._applied_version(), where=str(self.url)
                ):
                    for statement in migration.statements:
                        db.execute(statement)
                    db.execute(
                        "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
        except psycopg.Error as exc:
            raise self._error("migration", exc) from exc

    def _applied_version(self) -> int:
        rows = self._query(
            "SELECT to_regclass('schema_version') IS NOT NULL", (), action="schema check"
        )
        if not rows[0][0]:
            return 0
        (version,) = self._query("SELECT MAX(version) FROM schema_version", ())[0]
        return int(version or 0)

    def reserve(self, issuer: int) -> ContentId:
        """Mint and reserve a fresh content ID under ``issuer``."""
        for _ in range(_MINT_ATTEMPTS):
            candidate = ContentId.mint(issuer)
            # ON CONFLICT makes a concurrent insert of the same ID wait for the other to
            # commit and then return no row, instead of raising: the loop simply redraws.
            rows = self._query(
                "INSERT INTO manifests (content_id, state) VALUES (%s, 'reserved') "
                "ON CONFLICT (content_id) DO NOTHING RETURNING content_id",
                (candidate.hex,),
                action="write",
            )
            if rows:
                return candidate
        raise RepositoryError(f"{self.url}: could not mint a unique content ID")

    def complete(self, record: ManifestRecord) -> None:
        """Store the signed manifest under its reserved content ID."""
        rows = self._query(
            "UPDATE manifests SET state='complete', manifest_store=%s, mime=%s, face_id=%s, "
            "license_id=%s, watermark_alg=%s, asset_sha256=%s, created_at=%s "
            "WHERE content_id=%s AND state='reserved' RETURNING content_id",
            (
                record.manifest_store,
                record.mime,
                record.face_id,
                record.license_id,
                record.watermark_alg,
                record.asset_sha256,
                record.created_at.astimezone(UTC),
                record.content_id.hex,
            ),
            action="write",
        )
        if len(rows) != 1:
            raise RepositoryError(f"{self.url}: content ID {record.content_id} is not reserved")

    def release(self, content_id: ContentId) -> None:
        """Drop a reservation that never completed."""
        self._query(
            "DELETE FROM manifests WHERE content_id=%s AND state='reserved' RETURNING content_id",
            (content_id.hex,),
            action="write",
        )

    def get(self, content_id: ContentId) -> ManifestRecord | None:
        """The completed record for ``content_id``, or None."""
        rows = self._query(
            f"SELECT {_COLUMNS} FROM manifests WHERE content_id=%s AND state='complete'",
            (content_id.hex,),
        )
        return _record(rows[0]) if rows else None

    def by_face(self, face_id: str) -> Sequence[ManifestRecord]:
        """Completed records for ``face_id``, oldest first."""
        rows = self._query(
            f"SELECT {_COLUMNS} FROM manifests WHERE face_id=%s AND state='complete' "
            "ORDER BY created_at, content_id",
            (face_id,),
        )
        return [_record(row) for row in rows]

    def count(self) -> int:
        """Number of completed records."""
        (count,) = self._query("SELECT COUNT(*) FROM manifests WHERE state='complete'", ())[0]
        return int(count)

    def _query(
        self, sql: str, args: tuple[object, ...], *, action: str = "read"
    ) -> list[tuple[Any, ...]]:
        try:
            cursor = self._connection().execute(sql, args)
            return cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            raise self._error(action, exc) from exc

    def _error(self, action: str, exc: psycopg.Error) -> RepositoryError:
        detail = self.url.scrub(str(exc))
        return RepositoryError(f"{self.url}: repository {action} failed ({detail})")

    def close(self) -> None:
        """Close the connection."""
        self._closed = True
        self._db.close()

    def __enter__(self) -> PostgreSQLRepository:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _record(row: tuple[Any, ...]) -> ManifestRecord:
    content_id, store, mime, face_id, license_id, alg, sha, created = row
    return ManifestRecord(
        content_id=ContentId.from_hex(content_id),
        manifest_store=bytes(store),
        mime=mime,
        face_id=face_id,
        license_id=license_id,
        watermark_alg=alg,
        asset_sha256=sha,
        created_at=created.astimezone(UTC),
    )
