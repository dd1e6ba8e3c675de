"""Royalties from a scripted set of uses, against a hand computation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from provenance.consent import License, Royalties, grant_license
from provenance.ledger import MediaKind, Usage, UsageLedger, compute_royalties, money, to_csv
from provenance.owner import OwnerKey

USES = "Presenter of Acme's product tutorials and employee onboarding videos."


def _license(key: OwnerKey, licensee: str, royalties: Royalties | None) -> License:
    return grant_license(
        owner_key=key, owner_name="Alice", face_id="face-r", licensee=licensee,
        allow=["education", "marketing"], deny=[], territories=["EU"],
        not_before=date(2026, 1, 1), not_after=date(2027, 12, 31), intended_uses=USES,
        royalties=royalties, now=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


def _use(license: License, kind: MediaKind, duration_ms: int | None, n: int) -> Usage:
    return Usage(
        face_id="face-r", license_id=license.license_id, license_sha256=license.sha256(),
        licensee=license.grant.licensee, purpose="education", territory="EU",
        content_id=f"{n:016x}", kind=kind, frames=1 if duration_ms is None else 25,
        duration_ms=duration_ms,
    )  # fmt: skip


def test_royalties_match_a_hand_computation(tmp_path: Path) -> None:
    key = OwnerKey.generate()
    acme = _license(key, "Acme", Royalties.parse(
        currency="EUR", per_use="0.50", per_minute="1.20", per_new_licensee="25"))  # fmt: skip
    beta = _license(key, "Beta", Royalties.parse(currency="EUR", per_use="0.10",
                                                 per_new_licensee="5"))  # fmt: skip
    free = _license(key, "Gamma", None)
    with UsageLedger(tmp_path / "ledger.sqlite", key=key) as ledger:
        scripted = [
            (acme, MediaKind.STILL, None),  # 0.50 + 25 (first Acme use)        = 25.50
            (acme, MediaKind.CLIP, 90_000),  # 0.50 + 1.20 * 1.5                 =  2.30
            (acme, MediaKind.CLIP, 10_000),  # 0.50 + 1.20 * 10/60 = 0.50 + 0.20 =  0.70
            (beta, MediaKind.CLIP, 30_000),  # 0.10 + 5 (first Beta use)          =  5.10
            (beta, MediaKind.STILL, None),  # 0.10                               =  0.10
            (acme, MediaKind.STREAM, 61_000),  # 0.50 + 1.20 * 61/60 = 0.50 + 1.22 = 1.72
            (free, MediaKind.STILL, None),  # no royalty terms: unpriced
        ]
        for n, (lic, kind, duration) in enumerate(scripted):
            ledger.append(_use(lic, kind, duration, n))
        chain = ledger.entries("face-r")
    licenses = {lic.license_id: lic for lic in (acme, beta, free)}
    statement = compute_royalties(chain, licenses)
    amounts = [money(c.amount) for c in statement.charges]
    assert amounts == ["25.50", "2.30", "0.70", "5.10", "0.10", "1.72", "0.00"]
    assert statement.totals == {"EUR": Decimal("35.42")}
    assert statement.unpriced == [free.license_id]
    # A period still knows who was new before it: Acme's first use is outside this one.
    later = compute_royalties(chain, licenses, include=chain[1:3])
    assert later.totals == {"EUR": Decimal("3.00")}
    rows = to_csv(statement).decode().splitlines()
    assert rows[0].split(",")[-2:] == ["amount", "entry_hash"]
    assert rows[1].split(",")[-2] == "25.50" and rows[7].split(",")[-2] == ""


def test_money_keeps_two_to_six_decimals() -> None:
    assert money(Decimal("3")) == "3.00"
    assert money(Decimal("0.1234567")) == "0.123457"
