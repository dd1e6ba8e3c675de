"""The usage ledger: every stamp of a licensed face, hash-chained and signed (``spec/ledger.md``).

Stampers opened from a workspace append an entry per still, clip and live stream;
``provenance ledger`` lists a face's uses with the royalties they owe, and
``provenance ledger verify`` proves nothing was edited, deleted, reordered or cut off.

Example::

    from provenance.ledger import compute_royalties
    ledger = workspace.ledger()
    entries = ledger.entries("face-0001")
    statement = compute_royalties(entries, {lic.license_id: lic})
    print(statement.totals)              # {'EUR': Decimal('2.500000')}
    assert ledger.verify().intact
"""

from .entry import Checkpoint, LedgerEntry, MediaKind, Usage
from .export import to_csv, to_json
from .royalties import Charge, RoyaltyStatement, compute_royalties, money
from .store import LedgerProblem, LedgerVerification, StreamTally, UsageLedger

__all__ = [
    "Charge",
    "Checkpoint",
    "LedgerEntry",
    "LedgerProblem",
    "LedgerVerification",
    "MediaKind",
    "RoyaltyStatement",
    "StreamTally",
    "Usage",
    "UsageLedger",
    "compute_royalties",
    "money",
    "to_csv",
    "to_json",
]
