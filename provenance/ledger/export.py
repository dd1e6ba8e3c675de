"""One face's uses and royalties as CSV or JSON (``spec/ledger.md`` §6)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any, Final

from .entry import Checkpoint, iso
from .royalties import Charge, RoyaltyStatement, money

__all__ = ["CSV_COLUMNS", "EXPORT_SCHEMA", "to_csv", "to_json"]

EXPORT_SCHEMA: Final = "avatar-provenance/ledger-export/v1"
CSV_COLUMNS: Final = (
    "seq", "recorded_at", "face_id", "license_id", "licensee", "purpose", "territory",
    "content_id", "kind", "frames", "duration_s", "currency", "per_use", "per_minute",
    "new_licensee", "amount", "entry_hash",
)  # fmt: skip


def _row(charge: Charge) -> dict[str, Any]:
    entry, usage = charge.entry, charge.entry.usage
    priced = charge.currency is not None
    duration = None if usage.duration_ms is None else f"{usage.duration_ms / 1000:.3f}"
    return {
        "seq": entry.seq,
        "recorded_at": iso(entry.recorded_at),
        "face_id": usage.face_id,
        "license_id": usage.license_id,
        "licensee": usage.licensee,
        "purpose": usage.purpose,
        "territory": usage.territory,
        "content_id": usage.content_id,
        "kind": usage.kind.value,
        "frames": usage.frames,
        "duration_s": duration,
        "currency": charge.currency,
        "per_use": money(charge.per_use) if priced else None,
        "per_minute": money(charge.per_minute) if priced else None,
        "new_licensee": money(charge.new_licensee) if priced else None,
        "amount": money(charge.amount) if priced else None,
        "entry_hash": entry.entry_hash,
    }


def to_csv(statement: RoyaltyStatement) -> bytes:
    """One row per use (header first); empty cells where a use could not be priced."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for charge in statement.charges:
        writer.writerow({k: "" if v is None else v for k, v in _row(charge).items()})
    return buffer.getvalue().encode()


def to_json(
    statement: RoyaltyStatement, *, face_id: str, checkpoint: Checkpoint | None
) -> bytes:
    """The uses, the royalty totals and the latest signed checkpoint of the face's chain."""
    body = {
        "schema": EXPORT_SCHEMA,
        "face_id": face_id,
        "generated_at": iso(datetime.now(UTC)),
        "uses": [_row(charge) for charge in statement.charges],
        "royalties": {
            "totals": {currency: money(total) for currency, total in statement.totals.items()},
            "unpriced_licenses": statement.unpriced,
        },
        "checkpoint": checkpoint.to_dict() if checkpoint is not None else None,
    }
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()
