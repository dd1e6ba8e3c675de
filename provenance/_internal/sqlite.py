"""One SQLite file with a versioned schema, opened the way every store of ours needs it.

WAL mode and a long busy timeout let several stamping processes write at once; every write
is one ``BEGIN IMMEDIATE`` transaction, so a read-then-insert (the ledger's chain head) is
never interleaved with another writer's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from ..errors import ProvenanceError

__all__ = ["Database", "Store"]


class Database:
    """A connection to one SQLite file whose schema is created or checked on open."""

    def __init__(
        self, path: Path, *, schema: str, version: int, what: str, error: type[ProvenanceError]
    ) -> None:
        """Open (creating if needed) the database at ``path``.

        Raises:
            error: the file is not a usable SQLite database, or its schema is newer.
        """
        self.path = path
        self._what = what
        self._error = error
        try:
            self._db = sqlite3.connect(path, timeout=60.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=60000")
            self._migrate(schema, version)
        except sqlite3.Error as exc:
            raise error(f"{path}: cannot open {what} ({exc})") from exc

    def _migrate(self, schema: str, version: int) -> None:
        (found,) = self._db.execute("PRAGMA user_version").fetchone()
        if found > version:
            raise self._error(
                f"{self.path}: {self._what} schema {found} is newer than this SDK understands"
            )
        if found == version:
            return
        # Every statement is idempotent (IF NOT EXISTS), so two first openers do not clash.
        self._db.executescript(schema)
        self._db.execute(f"PRAGMA user_version={version}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction; rolled back on any exception."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(f"{self.path}: {self._what} write failed ({exc})") from exc

    def query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Rows of one read."""
        try:
            return list(self._db.execute(sql, args).fetchall())
        except sqlite3.Error as exc:
            raise self._error(f"{self.path}: {self._what} read failed ({exc})") from exc

    def close(self) -> None:
        self._db.close()


class Store:
    """Base of a store kept in one :class:`Database`: closing, and use as a context manager."""

    _db: Database

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
