"""SQLite manifest repository: records, reservations, and several writers at once."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from provenance.errors import RepositoryError
from provenance.repository import ManifestRecord, SQLiteRepository
from provenance.watermark import ContentId


def _record(content_id: ContentId, face: str = "face-1") -> ManifestRecord:
    return ManifestRecord(
        content_id=content_id,
        manifest_store=b"store-" + content_id.to_bytes(),
        mime="image/png",
        face_id=face,
        license_id="lic_x",
        watermark_alg="alg",
        asset_sha256="00" * 32,
        created_at=datetime.now(UTC),
    )


def test_reserve_complete_get(tmp_path: Path) -> None:
    with SQLiteRepository(tmp_path / "r.sqlite") as repo:
        cid = repo.reserve(0x1234)
        assert cid.issuer == 0x1234
        assert repo.get(cid) is None  # reserved is not yet resolvable
        repo.complete(_record(cid))
        stored = repo.get(cid)
        assert stored is not None and stored.manifest_store == b"store-" + cid.to_bytes()
        assert repo.count() == 1
        assert [r.content_id for r in repo.by_face("face-1")] == [cid]
        assert repo.by_face("face-2") == []


def test_complete_requires_reservation(tmp_path: Path) -> None:
    with SQLiteRepository(tmp_path / "r.sqlite") as repo:
        with pytest.raises(RepositoryError, match="not reserved"):
            repo.complete(_record(ContentId.mint(1)))
        cid = repo.reserve(1)
        repo.complete(_record(cid))
        with pytest.raises(RepositoryError, match="not reserved"):
            repo.complete(_record(cid))


def test_release_frees_only_reservations(tmp_path: Path) -> None:
    with SQLiteRepository(tmp_path / "r.sqlite") as repo:
        done, dropped = repo.reserve(1), repo.reserve(1)
        repo.complete(_record(done))
        repo.release(done)
        repo.release(dropped)
        assert repo.get(done) is not None
        with pytest.raises(RepositoryError):
            repo.complete(_record(dropped))


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RepositoryError, match=str(path)):
        SQLiteRepository(path).count()


def _writer(path: str, n: int) -> list[str]:
    ids = []
    with SQLiteRepository(Path(path)) as repo:
        for _ in range(n):
            cid = repo.reserve(7)
            repo.complete(_record(cid, face="face-concurrent"))
            ids.append(cid.hex)
    return ids


def test_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    SQLiteRepository(path).close()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        batches = pool.starmap(_writer, [(str(path), 40)] * 4)
    minted = [cid for batch in batches for cid in batch]
    assert len(set(minted)) == 160
    with SQLiteRepository(path) as repo:
        assert repo.count() == 160
        assert {r.content_id.hex for r in repo.by_face("face-concurrent")} == set(minted)
