"""SQLite backend specifics: bad files, and repositories made before versioned migrations."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from provenance.errors import InputError, RepositoryError
from provenance.repository import SQLiteRepository, open_repository
from provenance.repository.migrations import SQLITE, latest
from provenance.watermark import ContentId

# The schema exactly as the SDK created it before migrations were versioned (user_version 1).
_UNVERSIONED_SCHEMA = """
CREATE TABLE manifests (
    content_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('reserved', 'complete')),
    reserved_at TEXT NOT NULL, manifest_store BLOB, mime TEXT, face_id TEXT,
    license_id TEXT, watermark_alg TEXT, asset_sha256 TEXT, created_at TEXT);
CREATE INDEX manifests_face ON manifests (face_id, created_at);
PRAGMA user_version=1;
"""


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RepositoryError, match=str(path)):
        SQLiteRepository(path).count()


def test_missing_file_is_an_error_when_not_creating(tmp_path: Path) -> None:
    path = tmp_path / "typo.sqlite"
    with pytest.raises(InputError, match="no such repository file"):
        open_repository(path, create=False)
    assert not path.exists()


def test_unversioned_repository_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with sqlite3.connect(path) as old:
        old.executescript(_UNVERSIONED_SCHEMA)
        old.execute(
            "INSERT INTO manifests VALUES ('00070000000000aa', 'complete', ?, ?, 'image/png', "
            "'face-old', 'lic_old', 'alg', ?, ?)",
            (created.isoformat(), b"old-store", "11" * 32, created.isoformat()),
        )
    old.close()
    with open_repository(path) as repo:
        record = repo.get(ContentId.from_hex("00070000000000aa"))
        assert record is not None and record.manifest_store == b"old-store"
        assert record.created_at == created
        assert repo.reserve(7).issuer == 7
    with sqlite3.connect(path) as db:
        versions = db.execute("SELECT version, name FROM schema_version").fetchall()
        (user_version,) = db.execute("PRAGMA user_version").fetchone()
    db.close()
    assert versions == [(m.version, m.name) for m in SQLITE]
    assert user_version == latest(SQLITE)


def test_newer_user_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={latest(SQLITE) + 1}")
    db.close()
    with pytest.raises(RepositoryError, match="newer than this SDK"):
        open_repository(path)
