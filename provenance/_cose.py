"""COSE_Sign1 (RFC 9052) with Ed25519, as C2PA live video uses it (C2PA 2.3 section 19.4).

Everything in this module is internal and unstable. A live stream signs each segment with
a per-stream Ed25519 *session key*; its public half travels as a COSE_Key in the stream's
C2PA manifest, which the vendor's certificate signs. Each segment carries a tagged
COSE_Sign1 (tag 18) over its segment-info map in an ``emsg`` box (``spec/live.md``).

The protected header holds only ``alg`` (EdDSA, -8); the key ID goes in the unprotected
header, as c2pa-rs and the SVTA validator do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import _cbor
from .errors import ManifestError

__all__ = [
    "ALG_EDDSA",
    "cose_key",
    "key_from_cose",
    "kid_of",
    "sign1",
    "verify1",
]

ALG_EDDSA = -8
_HEADER_ALG = 1
_HEADER_KID = 4
# COSE_Key labels and values (RFC 9052 section 7, RFC 9053 section 7.2).
_KTY, _KID, _ALG, _CRV, _X = 1, 2, 3, -1, -2
_KTY_OKP, _CRV_ED25519 = 1, 6
_PROTECTED = _cbor.dumps({_HEADER_ALG: ALG_EDDSA})


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    # Sig_structure for COSE_Sign1 with no external AAD (RFC 9052 section 4.4).
    return _cbor.dumps(["Signature1", protected, b"", payload])


def sign1(payload: bytes, key: Ed25519PrivateKey, *, kid: bytes) -> bytes:
    """A tagged COSE_Sign1 carrying ``payload``, signed by ``key``."""
    signature = key.sign(_to_be_signed(_PROTECTED, payload))
    return _cbor.dumps(
        _cbor.Tagged(_cbor.COSE_SIGN1_TAG, [_PROTECTED, {_HEADER_KID: kid}, payload, signature])
    )


def _parts(data: bytes) -> tuple[bytes, Mapping[Any, Any], bytes | None, bytes]:
    item = _cbor.loads(data, what="COSE_Sign1")
    if isinstance(item, _cbor.Tagged):
        if item.tag != _cbor.COSE_SIGN1_TAG:
            raise ManifestError(f"COSE_Sign1: unexpected CBOR tag {item.tag}")
        item = item.value
    # cbor2 decodes the contents of a tag as immutable: a tuple and a frozendict.
    if not (isinstance(item, list | tuple) and len(item) == 4):
        raise ManifestError("COSE_Sign1: not a four-element array")
    protected, unprotected, payload, signature = item
    if not isinstance(protected, bytes) or not isinstance(unprotected, Mapping):
        raise ManifestError("COSE_Sign1: malformed headers")
    if not isinstance(signature, bytes) or not (payload is None or isinstance(payload, bytes)):
        raise ManifestError("COSE_Sign1: malformed payload or signature")
    header = _cbor.loads(protected, what="COSE_Sign1 protected header") if protected else {}
    if not isinstance(header, Mapping) or header.get(_HEADER_ALG) != ALG_EDDSA:
        raise ManifestError("COSE_Sign1: algorithm is not EdDSA")
    return protected, unprotected, payload, signature


def kid_of(data: bytes) -> bytes | None:
    """The key ID in a COSE_Sign1's unprotected header, if any.

    Raises:
        ManifestError: not a well-formed EdDSA COSE_Sign1.
    """
    kid = _parts(data)[1].get(_HEADER_KID)
    return kid if isinstance(kid, bytes) else None


def verify1(data: bytes, key: Ed25519PublicKey) -> bytes:
    """Check an attached COSE_Sign1 against ``key``; returns its payload.

    Raises:
        ManifestError: malformed, detached, or the signature does not verify.
    """
    protected, _, payload, signature = _parts(data)
    if payload is None:
        raise ManifestError("COSE_Sign1: payload is detached")
    _check(key, signature, _to_be_signed(protected, payload))
    return payload


def _check(key: Ed25519PublicKey, signature: bytes, signed: bytes) -> None:
    try:
        key.verify(signature, signed)
    except InvalidSignature as exc:
        raise ManifestError("COSE_Sign1: signature does not verify") from exc


def cose_key(key: Ed25519PublicKey, *, kid: bytes) -> bytes:
    """The CBOR COSE_Key (OKP, Ed25519) of ``key``."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _cbor.dumps({_KTY: _KTY_OKP, _KID: kid, _ALG: ALG_EDDSA, _CRV: _CRV_ED25519, _X: raw})


def key_from_cose(data: bytes) -> tuple[Ed25519PublicKey, bytes]:
    """The Ed25519 public key and key ID of a CBOR COSE_Key.

    Raises:
        ManifestError: not an Ed25519 OKP key with a key ID.
    """
    item = _cbor.loads(data, what="COSE_Key")
    if not isinstance(item, dict) or item.get(_KTY) != _KTY_OKP or item.get(_CRV) != _CRV_ED25519:
        raise ManifestError("COSE_Key: not an Ed25519 key")
    raw, kid = item.get(_X), item.get(_KID)
    if not isinstance(raw, bytes) or len(raw) != 32 or not isinstance(kid, bytes) or not kid:
        raise ManifestError("COSE_Key: malformed Ed25519 key or key ID")
    return Ed25519PublicKey.from_public_bytes(raw), kid
