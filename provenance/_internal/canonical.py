"""Canonical JSON: the byte form that signatures and hashes are computed over.

The profile is RFC 8785 (JCS) restricted to what our documents contain: objects, arrays,
strings, integers, booleans and null; no floats (amounts are decimal strings). For that subset
``json.dumps`` with sorted keys, no whitespace and raw UTF-8 yields exactly the JCS bytes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical_bytes", "sha256_hex"]


def _reject_floats(value: Any) -> None:
    if isinstance(value, float):
        raise ValueError("canonical JSON does not carry floats; use a decimal string")
    if isinstance(value, dict):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_floats(item)


def canonical_bytes(value: Any) -> bytes:
    """Serialise ``value`` (JSON-compatible, float-free) to canonical UTF-8 bytes."""
    _reject_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
