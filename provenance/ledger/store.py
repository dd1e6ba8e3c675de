"""The usage ledger in SQLite (``ledger.sqlite`` in the workspace; ``spec/ledger.md``).

One hash chain per face, so a face owner can be handed and check their own chain without
seeing anyone else's uses. Every append reads the face's chain head and inserts the next
entry in one immediate transaction (safe with several stamping processes), then the ledger
key signs a checkpoint over the new head. Triggers refuse UPDATE and DELETE, so the ledger
is append-only through SQLite; someone who drops them to rewrite history is caught by
:meth:`UsageLedger.verify`.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from .._internal.sqlite import Database, Store
from ..errors import ConsentError, LedgerError
from ..owner import OwnerKey, verify_owner_signature
from .entry import GENESIS, Checkpoint, LedgerEntry, MediaKind, Usage, iso

__all__ = ["LedgerProblem", "LedgerVerification", "StreamTally", "UsageLedger"]

_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    face_id        TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    recorded_at    TEXT NOT NULL,
    license_id     TEXT NOT NULL,
    license_sha256 TEXT NOT NULL,
    licensee       TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    territory      TEXT NOT NULL,
    content_id     TEXT NOT NULL,
    kind           TEXT NOT NULL,
    frames         INTEGER NOT NULL,
    duration_ms    INTEGER,
    prev_hash      TEXT NOT NULL,
    entry_hash     TEXT NOT NULL,
    UNIQUE (face_id, seq)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    face_id    TEXT NOT NULL,
    size       INTEGER NOT NULL,
    head       TEXT NOT NULL,
    signed_at  TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'the usage ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'the usage ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'the usage ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'the usage ledger is append-only'); END;
"""
_ENTRY_COLUMNS = (
    "seq, recorded_at, face_id, license_id, license_sha256, licensee, purpose, territory, "
    "content_id, kind, frames, duration_ms, prev_hash, entry_hash"
)
_CHECKPOINT_COLUMNS = "face_id, size, head, signed_at, public_key, signature"


@dataclass(frozen=True)
class LedgerProblem:
    """One way the stored ledger differs from what was appended and signed."""

    face_id: str
    seq: int | None
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"face_id": self.face_id, "seq": self.seq, "message": self.message}


@dataclass(frozen=True)
class LedgerVerification:
    """The result of :meth:`UsageLedger.verify`: intact only when no problem was found."""

    faces: int
    entries: int
    checkpoints: int
    problems: list[LedgerProblem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "intact": self.intact,
            "faces": self.faces,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "problems": [p.to_dict() for p in self.problems],
        }


class UsageLedger(Store):
    """An append-only, hash-chained, checkpointed record of every stamp."""

    def __init__(
        self, path: Path, *, key: OwnerKey | None = None, public_key: str | None = None
    ) -> None:
        """Open (creating if needed) the ledger at ``path``.

        Args:
            path: the SQLite file.
            key: the ledger key that signs checkpoints; needed to append.
            public_key: the key checkpoints must verify against (default: ``key``'s).

        Raises:
            LedgerError: not a usable SQLite file.
        """
        self.path = path
        self._key = key
        self.public_key = public_key or (key.public_key if key is not None else None)
        self._db = Database(
            path, schema=_SCHEMA, version=_VERSION, what="usage ledger", error=LedgerError
        )

    def append(self, usage: Usage) -> LedgerEntry:
        """Append one use to its face's chain and sign a checkpoint over the new head.

        Raises:
            LedgerError: no ledger key, or the write failed (nothing is appended).
        """
        if self._key is None:
            raise LedgerError(f"{self.path}: the ledger is open read-only (no ledger key)")
        key = self._key
        with self._db.write() as db:
            head = db.execute(
                "SELECT seq, entry_hash FROM entries WHERE face_id=? ORDER BY seq DESC LIMIT 1",
                (usage.face_id,),
            ).fetchone()
            seq, prev = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS)
            now = datetime.now(UTC)
            entry = LedgerEntry(
                seq, now, usage, prev, LedgerEntry.compute_hash(seq, now, usage, prev)
            )
            _insert_entry(db, entry)
            _insert_checkpoint(db, _sign_checkpoint(key, usage.face_id, seq, entry.entry_hash))
        return entry

    def start_stream(self, usage: Usage) -> StreamTally:
        """A tally for one live stream; its entry is appended when the stream ends.

        Args:
            usage: the stream's use (``kind`` stream; its frame and duration counts are
                replaced by what the tally counts).
        """
        return StreamTally(self, usage)

    def entries(self, face_id: str) -> list[LedgerEntry]:
        """One face's entries in chain order."""
        rows = self._db.query(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE face_id=? ORDER BY seq", (face_id,)
        )
        return [_entry(row) for row in rows]

    def latest_checkpoint(self, face_id: str) -> Checkpoint | None:
        """The newest checkpoint of one face's chain, or None."""
        rows = self._db.query(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE face_id=? "
            "ORDER BY size DESC, id DESC LIMIT 1",
            (face_id,),
        )
        return _checkpoint(rows[0]) if rows else None

    def faces(self) -> list[str]:
        """Every face with entries or checkpoints."""
        rows = self._db.query(
            "SELECT face_id FROM entries UNION SELECT face_id FROM checkpoints ORDER BY 1"
        )
        return [str(row[0]) for row in rows]

    def verify(
        self, *, face_id: str | None = None, pinned: Sequence[Checkpoint] = ()
    ) -> LedgerVerification:
        """Recompute every chain and check every checkpoint (``spec/ledger.md`` §4).

        Args:
            face_id: check one face's chain only.
            pinned: checkpoints held outside this database (e.g. by a face owner); they
                catch a tail removed together with its checkpoints.

        Raises:
            LedgerError: no public key to check checkpoints against, or the file is unreadable.
        """
        if self.public_key is None:
            raise LedgerError(f"{self.path}: no ledger public key to check checkpoints with")
        faces = [face_id] if face_id is not None else self.faces()
        problems: list[LedgerProblem] = []
        entries = checkpoints = 0
        for face in faces:
            chain = self._entry_rows(face)
            stored = self._checkpoints(face)
            own_pins = [p for p in pinned if p.face_id == face]
            entries += len(chain)
            checkpoints += len(stored)
            hashes = _check_chain(face, chain, problems)
            _check_checkpoints(face, [*stored, *own_pins], hashes, self.public_key, problems)
        unique = list(dict.fromkeys(problems))
        return LedgerVerification(len(faces), entries, checkpoints, unique)

    def _entry_rows(self, face_id: str) -> list[tuple[object, ...]]:
        return self._db.query(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE face_id=? ORDER BY seq, id", (face_id,)
        )

    def _checkpoints(self, face_id: str) -> list[Checkpoint]:
        rows = self._db.query(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE face_id=? ORDER BY id",
            (face_id,),
        )
        return [_checkpoint(row) for row in rows]


class StreamTally:
    """Counts a live stream's stamped frames; :meth:`close` appends its one ledger entry.

    A live stamper calls :meth:`add` per frame (or per segment) and :meth:`close` when the
    stream ends. One entry per stream keeps "per use" royalties meaning one stream.
    """

    def __init__(self, ledger: UsageLedger, usage: Usage) -> None:
        self._ledger = ledger
        self._usage = usage
        self.frames = 0
        self.duration_ms = 0
        self.entry: LedgerEntry | None = None

    def add(self, frames: int = 1, *, duration_ms: int) -> None:
        """Count ``frames`` more frames lasting ``duration_ms`` in all."""
        self.frames += frames
        self.duration_ms += duration_ms

    def close(self) -> LedgerEntry:
        """Append the stream's entry (once; later calls return it again)."""
        if self.entry is None:
            usage = replace(
                self._usage,
                kind=MediaKind.STREAM,
                frames=self.frames,
                duration_ms=self.duration_ms,
            )
            self.entry = self._ledger.append(usage)
        return self.entry

    def __enter__(self) -> StreamTally:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A stream that broke off was still shown up to that point: it is still a use.
        if self.frames:
            self.close()


def _sign_checkpoint(key: OwnerKey, face_id: str, size: int, head: str) -> Checkpoint:
    unsigned = Checkpoint(face_id, size, head, datetime.now(UTC), key.public_key, "")
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode("ascii")
    return Checkpoint(face_id, size, head, unsigned.signed_at, key.public_key, signature)


def _insert_entry(db: sqlite3.Connection, entry: LedgerEntry) -> None:
    usage = entry.usage
    db.execute(
        f"INSERT INTO entries ({_ENTRY_COLUMNS}) VALUES ({', '.join('?' * 14)})",
        (
            entry.seq,
            iso(entry.recorded_at),
            usage.face_id,
            usage.license_id,
            usage.license_sha256,
            usage.licensee,
            usage.purpose,
            usage.territory,
            usage.content_id,
            usage.kind.value,
            usage.frames,
            usage.duration_ms,
            entry.prev_hash,
            entry.entry_hash,
        ),
    )


def _insert_checkpoint(db: sqlite3.Connection, checkpoint: Checkpoint) -> None:
    db.execute(
        f"INSERT INTO checkpoints ({_CHECKPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        (
            checkpoint.face_id,
            checkpoint.size,
            checkpoint.head,
            iso(checkpoint.signed_at),
            checkpoint.public_key,
            checkpoint.signature,
        ),
    )


def _entry(row: tuple[object, ...]) -> LedgerEntry:
    (seq, recorded, face, lic, lic_sha, licensee, purpose, territory, content, kind, frames,
     duration, prev, digest) = row  # fmt: skip
    usage = Usage(
        face_id=str(face),
        license_id=str(lic),
        license_sha256=str(lic_sha),
        licensee=str(licensee),
        purpose=str(purpose),
        territory=str(territory),
        content_id=str(content),
        kind=MediaKind(str(kind)),
        frames=int(str(frames)),
        duration_ms=None if duration is None else int(str(duration)),
    )
    return LedgerEntry(int(str(seq)), _parse_time(recorded), usage, str(prev), str(digest))


def _checkpoint(row: tuple[object, ...]) -> Checkpoint:
    face, size, head, signed_at, key, signature = row
    return Checkpoint(
        str(face), int(str(size)), str(head), _parse_time(signed_at), str(key), str(signature)
    )


def _parse_time(value: object) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _check_chain(
    face_id: str, rows: list[tuple[object, ...]], problems: list[LedgerProblem]
) -> dict[int, str]:
    """Walk one chain in stored order; returns the stored hash of each position."""
    hashes: dict[int, str] = {}
    prev, last = GENESIS, 0
    for row in rows:
        try:
            entry = _entry(row)
        except (ValueError, TypeError) as exc:
            problems.append(LedgerProblem(face_id, last + 1, f"entry unreadable ({exc})"))
            last += 1
            continue
        seq = entry.seq
        gap = seq != last + 1
        if seq > last + 1:
            missing = f"{last + 1}" if seq == last + 2 else f"{last + 1}..{seq - 1}"
            problems.append(LedgerProblem(face_id, last + 1, f"entry {missing} was deleted"))
        elif gap:
            problems.append(LedgerProblem(face_id, seq, f"entry {seq} is out of order"))
        digest = LedgerEntry.compute_hash(seq, entry.recorded_at, entry.usage, entry.prev_hash)
        if digest != entry.entry_hash:
            problems.append(LedgerProblem(face_id, seq, f"entry {seq} was edited (hash differs)"))
        elif entry.prev_hash != prev and not gap:
            problems.append(
                LedgerProblem(
                    face_id, seq, f"entry {seq} does not link to entry {seq - 1} (chain broken)"
                )
            )
        prev, last = entry.entry_hash, max(last, seq)
        hashes[seq] = entry.entry_hash
    return hashes


def _check_checkpoints(
    face: str,
    checkpoints: list[Checkpoint],
    hashes: dict[int, str],
    public_key: str,
    problems: list[LedgerProblem],
) -> None:
    signed: list[Checkpoint] = []
    for checkpoint in checkpoints:
        if checkpoint.public_key == public_key and _signature_ok(checkpoint, public_key):
            signed.append(checkpoint)
        else:
            problems.append(
                LedgerProblem(
                    face, None, f"checkpoint at {checkpoint.size} is not signed by the ledger key"
                )
            )
    length = max(hashes, default=0)
    covered = max((c.size for c in signed), default=0)
    if covered > length:
        problems.append(
            LedgerProblem(
                face,
                length + 1,
                f"entries {length + 1}..{covered} were removed (a signed checkpoint covers "
                f"{covered} entries, the chain has {length})",
            )
        )
    for checkpoint in signed:
        size = checkpoint.size
        if size in hashes and hashes[size] != checkpoint.head:
            problems.append(
                LedgerProblem(
                    face, size, f"entry {size} differs from its signed checkpoint (rewritten)"
                )
            )


def _signature_ok(checkpoint: Checkpoint, public_key: str) -> bool:
    try:
        raw = base64.b64decode(checkpoint.signature, validate=True)
        verify_owner_signature(public_key, checkpoint.signed_bytes(), raw)
    except (binascii.Error, ConsentError):
        return False
    return True
