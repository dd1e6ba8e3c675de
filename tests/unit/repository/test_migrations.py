"""Versioned migrations on both backends: recorded, applied once, newer schemas refused."""

from __future__ import annotations

import sqlite3
import threading

import psycopg
import pytest

from provenance.errors import RepositoryError
from provenance.repository import RepositoryUrl, open_repository
from provenance.repository.migrations import POSTGRESQL, SQLITE, Migration, latest, pending


def _migrations(url: str) -> tuple[Migration, ...]:
    return SQLITE if RepositoryUrl.parse(url).backend == "sqlite" else POSTGRESQL


def _sql(url: str, statement: str) -> list[tuple[object, ...]]:
    location = RepositoryUrl.parse(url)
    if location.backend == "sqlite":
        db = sqlite3.connect(location.path, isolation_level=None)
        try:
            return db.execute(statement).fetchall()
        finally:
            db.close()
    with psycopg.connect(location.dsn, autocommit=True) as pg:
        cursor = pg.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_lists_are_contiguous_and_parallel() -> None:
    for migrations in (SQLITE, POSTGRESQL):
        assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert [(m.version, m.name) for m in SQLITE] == [(m.version, m.name) for m in POSTGRESQL]


def test_pending_refuses_a_newer_schema() -> None:
    assert pending(SQLITE, 0, where="x") == list(SQLITE)
    assert pending(SQLITE, latest(SQLITE), where="x") == []
    with pytest.raises(RepositoryError, match=r"^x: .*newer than this SDK"):
        pending(SQLITE, latest(SQLITE) + 1, where="x")


def test_open_records_every_migration(repository_url: str) -> None:
    open_repository(repository_url).close()
    open_repository(repository_url).close()  # a second open applies nothing again
    rows = _sql(repository_url, "SELECT version, name FROM schema_version ORDER BY version")
    assert rows == [(m.version, m.name) for m in _migrations(repository_url)]


def test_newer_schema_is_refused(repository_url: str) -> None:
    open_repository(repository_url).close()
    future = latest(_migrations(repository_url)) + 1
    _sql(repository_url, f"INSERT INTO schema_version (version, name, applied_at) "
                         f"VALUES ({future}, 'future', '2030-01-01')")
    with pytest.raises(RepositoryError, match=f"schema version {future} is newer"):
        open_repository(repository_url)


def test_concurrent_first_opens_migrate_once(repository_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def first_open() -> None:
        try:
            start.wait()
            with open_repository(repository_url) as repo:
                repo.reserve(5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_open) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    rows = _sql(repository_url, "SELECT version FROM schema_version")
    assert sorted(rows) == [(m.version,) for m in _migrations(repository_url)]
    assert _sql(repository_url, "SELECT COUNT(*) FROM manifests") == [(6,)]
