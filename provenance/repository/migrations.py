"""Versioned, forward-only schema migrations of the manifest repository, per backend.

Each backend applies, on open, every migration above the highest version recorded in its
``schema_version`` table, in one transaction under a lock, and records each one there.
Migrations are never edited once released: a change to the schema is a new migration with
the next version, written for both backends (``spec/repository.md``).

SQLite migration 1 is the schema the SDK created before versioned migrations existed, with
``IF NOT EXISTS`` everywhere, so applying it to such a repository only records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import RepositoryError

__all__ = ["POSTGRESQL", "SQLITE", "Migration", "latest", "pending"]


@dataclass(frozen=True)
class Migration:
    """One step of the schema: statements run in order, in one transaction."""

    version: int
    name: str
    statements: tuple[str, ...]


SQLITE: tuple[Migration, ...] = (
    Migration(
        1,
        "manifests",
        (
            """CREATE TABLE IF NOT EXISTS manifests (
                content_id     TEXT PRIMARY KEY,
                state          TEXT NOT NULL CHECK (state IN ('reserved', 'complete')),
                reserved_at    TEXT NOT NULL,
                manifest_store BLOB,
                mime           TEXT,
                face_id        TEXT,
                license_id     TEXT,
                watermark_alg  TEXT,
                asset_sha256   TEXT,
                created_at     TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS manifests_face ON manifests (face_id, created_at)",
        ),
    ),
)

POSTGRESQL: tuple[Migration, ...] = (
    Migration(
        1,
        "manifests",
        (
            """CREATE TABLE manifests (
                content_id     TEXT PRIMARY KEY CHECK (content_id ~ '^[0-9a-f]{16}$'),
                state          TEXT NOT NULL CHECK (state IN ('reserved', 'complete')),
                reserved_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
                manifest_store BYTEA,
                mime           TEXT,
                face_id        TEXT,
                license_id     TEXT,
                watermark_alg  TEXT,
                asset_sha256   TEXT,
                created_at     TIMESTAMPTZ
            )""",
            "CREATE INDEX manifests_face ON manifests (face_id, created_at)",
        ),
    ),
)


def latest(migrations: Sequence[Migration]) -> int:
    """The schema version a backend reaches once every migration is applied."""
    return migrations[-1].version


def pending(migrations: Sequence[Migration], applied: int, *, where: str) -> list[Migration]:
    """The migrations above ``applied``, in order.

    Raises:
        RepositoryError: the repository was migrated by a newer SDK than this one.
    """
    if applied > latest(migrations):
        raise RepositoryError(
            f"{where}: repository schema version {applied} is newer than this SDK "
            f"understands ({latest(migrations)}); upgrade avatar-provenance"
        )
    return [migration for migration in migrations if migration.version > applied]
