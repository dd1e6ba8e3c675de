"""Royalties due from the ledger's uses under each license's terms (``spec/ledger.md`` §5).

Each entry is charged under the license it was stamped with: ``per_use`` once per entry,
``per_minute`` pro rata to the millisecond of a clip's or stream's duration (a still has
none), and ``per_new_licensee`` on the first entry of each licensee in the face's whole
ledger. Amounts are exact decimals, each entry's charge rounded half-up to 6 places (the
precision amounts are written in), so totals equal the sum of the rows a CSV shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..consent import License, Royalties
from .entry import LedgerEntry

__all__ = ["Charge", "RoyaltyStatement", "compute_royalties", "money"]

_PLACES = Decimal("0.000001")
_MS_PER_MINUTE = Decimal(60_000)


@dataclass(frozen=True)
class Charge:
    """What one entry owes; ``currency`` is None when its license or terms are unknown."""

    entry: LedgerEntry
    currency: str | None
    per_use: Decimal
    per_minute: Decimal
    new_licensee: Decimal

    @property
    def amount(self) -> Decimal:
        return self.per_use + self.per_minute + self.new_licensee


@dataclass(frozen=True)
class RoyaltyStatement:
    """Every entry's charge, totals per currency, and licenses that could not be priced."""

    charges: list[Charge]
    totals: dict[str, Decimal]
    unpriced: list[str]


def compute_royalties(
    entries: Iterable[LedgerEntry],
    licenses: Mapping[str, License],
    *,
    include: Iterable[LedgerEntry] | None = None,
) -> RoyaltyStatement:
    """Price ``entries`` (one face's chain, in order) under their licenses' royalty terms.

    Args:
        entries: the face's whole chain: "new licensee" is judged against all of it.
        licenses: licenses by ID; an entry whose license is missing or has no royalty terms
            is listed as unpriced rather than guessed at.
        include: only charge these entries (a period); default: all.

    Returns:
        The statement.
    """
    chain = list(entries)
    wanted = None if include is None else {(e.usage.face_id, e.seq) for e in include}
    seen_licensees: set[str] = set()
    charges: list[Charge] = []
    unpriced: list[str] = []
    for entry in chain:
        usage = entry.usage
        first = usage.licensee not in seen_licensees
        seen_licensees.add(usage.licensee)
        if wanted is not None and (usage.face_id, entry.seq) not in wanted:
            continue
        license = licenses.get(usage.license_id)
        terms = license.terms.royalties if license is not None else None
        if terms is None:
            if usage.license_id not in unpriced:
                unpriced.append(usage.license_id)
            charges.append(Charge(entry, None, Decimal(0), Decimal(0), Decimal(0)))
            continue
        charges.append(_charge(entry, terms, first))
    totals: dict[str, Decimal] = {}
    for charge in charges:
        if charge.currency is not None:
            totals[charge.currency] = totals.get(charge.currency, Decimal(0)) + charge.amount
    return RoyaltyStatement(charges, totals, unpriced)


def _charge(entry: LedgerEntry, terms: Royalties, first_of_licensee: bool) -> Charge:
    minutes = Decimal(entry.usage.duration_ms or 0) / _MS_PER_MINUTE
    per_minute = _round(_amount(terms.per_minute) * minutes)
    new = _amount(terms.per_new_licensee) if first_of_licensee else Decimal(0)
    return Charge(entry, terms.currency, _amount(terms.per_use), per_minute, new)


def _amount(text: str | None) -> Decimal:
    return Decimal(text) if text else Decimal(0)


def _round(value: Decimal) -> Decimal:
    return value.quantize(_PLACES, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """An amount as written in reports: at least two decimals, at most six, no exponent."""
    text = format(_round(value), "f").rstrip("0")
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"
