"""The manifest repository contract, run against every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import secrets
import threading
from datetime import UTC, datetime, timedelta

import pytest

from provenance.errors import RepositoryError
from provenance.repository import ManifestRecord, open_repository
from provenance.watermark import ContentId

# A serial space small enough that concurrent minters draw the same ID often, so the tests
# exercise the collision path that 48 random bits almost never reach.
_NARROW_SERIALS = 1024


def _record(
    content_id: ContentId, face: str = "face-1", created_at: datetime | None = None
) -> ManifestRecord:
    return ManifestRecord(
        content_id=content_id,
        manifest_store=b"store-" + content_id.to_bytes(),
        mime="image/png",
        face_id=face,
        license_id="lic_x",
        watermark_alg="alg",
        asset_sha256="00" * 32,
        created_at=created_at or datetime.now(UTC),
    )


def test_reserve_complete_get(repository_url: str) -> None:
    with open_repository(repository_url) as repo:
        cid = repo.reserve(0x1234)
        assert cid.issuer == 0x1234
        assert repo.get(cid) is None  # reserved is not yet resolvable
        assert repo.count() == 0
        record = _record(cid)
        repo.complete(record)
        assert repo.get(cid) == record
        assert repo.count() == 1
        assert [r.content_id for r in repo.by_face("face-1")] == [cid]
        assert repo.by_face("face-2") == []


def test_records_survive_reopening(repository_url: str) -> None:
    with open_repository(repository_url) as repo:
        cid = repo.reserve(9)
        record = _record(cid)
        repo.complete(record)
    with open_repository(repository_url) as repo:
        assert repo.get(cid) == record


def test_by_face_is_oldest_first(repository_url: str) -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with open_repository(repository_url) as repo:
        ids = [repo.reserve(3) for _ in range(3)]
        for offset, cid in zip((2, 0, 1), ids, strict=True):
            repo.complete(_record(cid, face="face-o", created_at=start + timedelta(hours=offset)))
        stored = repo.by_face("face-o")
    assert [r.content_id for r in stored] == [ids[1], ids[2], ids[0]]
    assert stored[0].created_at == start


def test_complete_requires_reservation(repository_url: str) -> None:
    with open_repository(repository_url) as repo:
        with pytest.raises(RepositoryError, match="not reserved"):
            repo.complete(_record(ContentId.mint(1)))
        cid = repo.reserve(1)
        repo.complete(_record(cid))
        with pytest.raises(RepositoryError, match="not reserved"):
            repo.complete(_record(cid))


def test_release_frees_only_reservations(repository_url: str) -> None:
    with open_repository(repository_url) as repo:
        done, dropped = repo.reserve(1), repo.reserve(1)
        repo.complete(_record(done))
        repo.release(done)
        repo.release(dropped)
        assert repo.get(done) is not None
        with pytest.raises(RepositoryError):
            repo.complete(_record(dropped))


def _narrow_mint(counter: list[int] | None = None) -> None:
    def mint(cls: type[ContentId], issuer: int) -> ContentId:
        if counter is not None:
            counter.append(1)
        return cls(issuer << 48 | secrets.randbelow(_NARROW_SERIALS))

    ContentId.mint = classmethod(mint)  # type: ignore[method-assign,assignment]


def _mint_and_store(url: str, n: int) -> list[str]:
    with open_repository(url) as repo:
        ids = []
        for _ in range(n):
            cid = repo.reserve(7)
            repo.complete(_record(cid, face="face-concurrent"))
            ids.append(cid.hex)
        return ids


def _process_writer(url: str, n: int) -> list[str]:
    _narrow_mint()  # a spawned process: the patch dies with it
    return _mint_and_store(url, n)


def _check_all_stored(url: str, minted: list[str]) -> None:
    assert len(minted) == len(set(minted)), "the same content ID was handed out twice"
    with open_repository(url) as repo:
        assert repo.count() == len(minted)
        assert {r.content_id.hex for r in repo.by_face("face-concurrent")} == set(minted)


@pytest.mark.slow
def test_concurrent_processes_never_share_an_id(repository_url: str) -> None:
    open_repository(repository_url).close()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        batches = pool.starmap(_process_writer, [(repository_url, 40)] * 4)
    _check_all_stored(repository_url, [cid for batch in batches for cid in batch])


def test_concurrent_threads_never_share_an_id(
    repository_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_repository(repository_url).close()
    draws: list[int] = []
    monkeypatch.setattr(ContentId, "mint", ContentId.mint)  # restored after the test
    _narrow_mint(draws)
    batches: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            batches.append(_mint_and_store(repository_url, 25))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    minted = [cid for batch in batches for cid in batch]
    assert len(minted) == 200
    assert len(draws) > len(minted), "no collision was drawn; the test proved nothing"
    _check_all_stored(repository_url, minted)
