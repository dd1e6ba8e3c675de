"""The one adapter to cbor2: deterministic CBOR for the live-stream signatures.

Everything in this module is internal and unstable. COSE (RFC 9052) is CBOR, and a
signature is only reproducible over a canonical encoding, so encoding always uses cbor2's
deterministic form (RFC 8949 section 4.2: shortest lengths, sorted map keys). Decoding
errors become :class:`~provenance.errors.ManifestError` with the cause kept.

cbor2 rather than a hand-written encoder: it is the maintained CBOR library for Python
(tags, indefinite lengths and malformed input are handled and fuzzed), and the decoder
faces bytes an attacker controls.
"""

from __future__ import annotations

from typing import Any

import cbor2

from .errors import ManifestError

__all__ = ["COSE_SIGN1_TAG", "Tagged", "dumps", "loads"]

COSE_SIGN1_TAG = 18
Tagged = cbor2.CBORTag


def dumps(value: Any) -> bytes:
    """Deterministic CBOR of ``value`` (dicts, lists, str, bytes, int, bool, None, tags)."""
    return cbor2.dumps(value, canonical=True)


def loads(data: bytes, *, what: str) -> Any:
    """Decode one CBOR item; ``what`` names it in the error.

    Raises:
        ManifestError: ``data`` is not one well-formed CBOR item.
    """
    try:
        return cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, EOFError, RecursionError) as exc:
        raise ManifestError(f"{what}: malformed CBOR ({exc})") from exc
