"""Territory codes a consent license may name: ISO 3166-1 alpha-2 plus the group ``EU``.

The list is embedded rather than read from ``pycountry`` or the system's ``iso-codes`` so the
set of valid licenses cannot change with the machine that checks them. Update it only with a
new license schema version (``spec/consent.md``, "Territories").
"""

from __future__ import annotations

__all__ = ["EU", "EU_MEMBERS", "ISO_3166_1_ALPHA_2", "expand", "is_known"]

# All 249 officially assigned ISO 3166-1 alpha-2 codes (ISO 3166 Maintenance Agency).
# User-assigned codes such as XK (Kosovo) are deliberately absent: they mean different things
# to different parties, which a signed license cannot afford.
# fmt: off
ISO_3166_1_ALPHA_2: frozenset[str] = frozenset({
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR",
    "BS", "BT", "BV", "BW", "BY", "BZ",
    "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV",
    "CW", "CX", "CY", "CZ",
    "DE", "DJ", "DK", "DM", "DO", "DZ",
    "EC", "EE", "EG", "EH", "ER", "ES", "ET",
    "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY",
    "HK", "HM", "HN", "HR", "HT", "HU",
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT",
    "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ",
    "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
    "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR",
    "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ",
    "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM",
    "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY",
    "QA",
    "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR",
    "SS", "ST", "SV", "SX", "SY", "SZ",
    "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ",
    "UA", "UG", "UM", "US", "UY", "UZ",
    "VA", "VC", "VE", "VG", "VI", "VN", "VU",
    "WF", "WS",
    "YE", "YT",
    "ZA", "ZM", "ZW",
})

EU = "EU"

# The 27 member states since 2020-02-01. ISO code GR for Greece (the EU itself writes EL).
EU_MEMBERS: frozenset[str] = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on


def is_known(code: str) -> bool:
    """Whether ``code`` (already upper-case) is an assigned alpha-2 code or the group ``EU``."""
    return code == EU or code in ISO_3166_1_ALPHA_2


def expand(codes: tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    """The set of countries ``codes`` covers, with ``EU`` replaced by its member states.

    Args:
        codes: upper-case codes, each satisfying :func:`is_known`.

    Returns:
        Country codes only; never contains ``EU``.
    """
    countries = {code for code in codes if code != EU}
    if EU in codes:
        countries |= EU_MEMBERS
    return frozenset(countries)
