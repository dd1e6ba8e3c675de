"""The ledger's chain and checkpoints: appends link up, and tampering of every kind shows."""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from provenance.errors import LedgerError
from provenance.ledger import MediaKind, Usage, UsageLedger
from provenance.ledger.entry import GENESIS
from provenance.owner import OwnerKey


def usage(n: int, *, face: str = "face-a", kind: MediaKind = MediaKind.STILL) -> Usage:
    return Usage(
        face_id=face, license_id="lic_" + "a" * 26, license_sha256="0" * 64, licensee="Acme",
        purpose="education", territory="EU", content_id=f"{n:016x}", kind=kind,
        frames=1 if kind is MediaKind.STILL else 30,
        duration_ms=None if kind is MediaKind.STILL else 1000,
    )  # fmt: skip


@pytest.fixture
def key() -> OwnerKey:
    return OwnerKey.generate()


@pytest.fixture
def ledger(tmp_path: Path, key: OwnerKey) -> UsageLedger:
    with UsageLedger(tmp_path / "ledger.sqlite", key=key) as opened:
        for n in range(1, 6):
            opened.append(usage(n))
        opened.append(usage(99, face="face-b"))
    return UsageLedger(tmp_path / "ledger.sqlite", public_key=key.public_key)


def tamper(ledger: UsageLedger, *statements: str) -> None:
    """What someone with write access to the file could do: drop the guards, rewrite."""
    db = sqlite3.connect(ledger.path)
    for trigger in ("entries_no_update", "entries_no_delete", "checkpoints_no_delete"):
        db.execute(f"DROP TRIGGER {trigger}")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def messages(ledger: UsageLedger) -> list[str]:
    result = ledger.verify()
    assert not result.intact
    return [p.message for p in result.problems]


def test_entries_chain_per_face_with_a_checkpoint_per_append(ledger: UsageLedger) -> None:
    chain = ledger.entries("face-a")
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(chain))
    assert ledger.entries("face-b")[0].prev_hash == GENESIS
    checkpoint = ledger.latest_checkpoint("face-a")
    assert checkpoint is not None and checkpoint.size == 5
    assert checkpoint.head == chain[-1].entry_hash
    result = ledger.verify()
    assert result.intact and result.entries == 6 and result.checkpoints == 6 and result.faces == 2


def test_the_database_refuses_updates_and_deletes(ledger: UsageLedger) -> None:
    db = sqlite3.connect(ledger.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE entries SET purpose='politics' WHERE seq=2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM entries WHERE seq=2")


def test_an_edited_entry_is_caught(ledger: UsageLedger) -> None:
    tamper(ledger, "UPDATE entries SET purpose='politics' WHERE face_id='face-a' AND seq=3")
    assert messages(ledger) == ["entry 3 was edited (hash differs)"]


def test_an_edited_entry_with_recomputed_hashes_is_caught_by_the_checkpoints(
    ledger: UsageLedger,
) -> None:
    # The forger rewrites entry 3 and recomputes its hash, but cannot re-sign checkpoints.
    from provenance.ledger import LedgerEntry

    entry = ledger.entries("face-a")[2]
    forged = replace(entry.usage, purpose="politics")
    digest = LedgerEntry.compute_hash(entry.seq, entry.recorded_at, forged, entry.prev_hash)
    tamper(
        ledger,
        f"UPDATE entries SET purpose='politics', entry_hash='{digest}' "
        "WHERE face_id='face-a' AND seq=3",
    )
    found = messages(ledger)
    assert "entry 4 does not link to entry 3 (chain broken)" in found
    assert "entry 3 differs from its signed checkpoint (rewritten)" in found


def test_a_deleted_entry_is_caught(ledger: UsageLedger) -> None:
    tamper(ledger, "DELETE FROM entries WHERE face_id='face-a' AND seq=2")
    assert messages(ledger) == ["entry 2 was deleted"]


def test_reordered_entries_are_caught(ledger: UsageLedger) -> None:
    tamper(
        ledger,
        "UPDATE entries SET seq=-1 WHERE face_id='face-a' AND seq=2",
        "UPDATE entries SET seq=2 WHERE face_id='face-a' AND seq=3",
        "UPDATE entries SET seq=3 WHERE face_id='face-a' AND seq=-1",
    )
    found = messages(ledger)
    assert "entry 2 was edited (hash differs)" in found
    assert "entry 3 was edited (hash differs)" in found


def test_a_removed_tail_is_caught_by_its_checkpoint(ledger: UsageLedger) -> None:
    tamper(ledger, "DELETE FROM entries WHERE face_id='face-a' AND seq >= 4")
    assert messages(ledger) == [
        "entries 4..5 were removed (a signed checkpoint covers 5 entries, the chain has 3)"
    ]


def test_a_tail_removed_with_its_checkpoints_is_caught_by_a_pinned_checkpoint(
    ledger: UsageLedger,
) -> None:
    pinned = ledger.latest_checkpoint("face-a")
    assert pinned is not None
    tamper(
        ledger,
        "DELETE FROM entries WHERE face_id='face-a' AND seq >= 4",
        "DELETE FROM checkpoints WHERE face_id='face-a' AND size >= 4",
    )
    assert ledger.verify().intact  # nothing inside the file is left to tell
    result = ledger.verify(pinned=[pinned])
    assert [p.message for p in result.problems] == [
        "entries 4..5 were removed (a signed checkpoint covers 5 entries, the chain has 3)"
    ]


def test_a_checkpoint_signed_by_another_key_is_caught(ledger: UsageLedger, tmp_path: Path) -> None:
    other = UsageLedger(ledger.path, key=OwnerKey.generate())
    other.append(usage(7))
    assert "checkpoint at 6 is not signed by the ledger key" in messages(ledger)


def test_streams_get_one_entry_when_they_end(tmp_path: Path, key: OwnerKey) -> None:
    with UsageLedger(tmp_path / "l.sqlite", key=key) as ledger:
        template = usage(1, kind=MediaKind.STREAM)
        with ledger.start_stream(template) as tally:
            for _ in range(50):
                tally.add(1, duration_ms=40)
        [entry] = ledger.entries("face-a")
    assert entry.usage.kind is MediaKind.STREAM
    assert (entry.usage.frames, entry.usage.duration_ms) == (50, 2000)


def test_appending_needs_the_ledger_key(ledger: UsageLedger) -> None:
    with pytest.raises(LedgerError, match="read-only"):
        ledger.append(usage(8))
