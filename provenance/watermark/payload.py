"""The watermark payload: a 64-bit content id, protected by CRC-16 and BCH, then whitened.

The layout is normative and specified in ``spec/payload.md`` (layout ``ap1``, 156 bits).
Engines embed the bits returned by :func:`encode_payload` and hand whatever they read back
to :func:`decode_payload`, which either recovers the id or returns None.

Example:
    >>> cid = ContentId.from_hex("00010000000000ff")
    >>> decode_payload(encode_payload(cid)).content_id == cid
    True
"""

from __future__ import annotations

import binascii
import hashlib
import math
import re
import secrets
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import InputError
from ._bch import BchCode

__all__ = [
    "PAYLOAD_BITS",
    "PAYLOAD_LAYOUT",
    "ContentId",
    "DecodedPayload",
    "decode_payload",
    "encode_payload",
    "false_alarm_probability",
]

_ISSUER_BITS = 16
_SERIAL_BITS = 48
_ID_BYTES = 8
_HEX_RE = re.compile(r"[0-9a-fA-F]{16}")

# (2) CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR.
_CRC_INIT = 0xFFFF
_CRC_BITS = 16
_MESSAGE_BITS = _ID_BYTES * 8 + _CRC_BITS

# (3) BCH over GF(2^8) with x^8+x^4+x^3+x^2+1, t = 10, shortened to the 80 message bits.
_CODE = BchCode(primitive_poly=0x11D, t=10, k=_MESSAGE_BITS)

PAYLOAD_BITS: int = _CODE.n
"""Length of the embedded bit string: 80 message bits + 76 parity bits = 156."""

PAYLOAD_LAYOUT: str = "ap1"
"""Name of the layout :func:`encode_payload` writes (goes into soft-binding ``alg_params``)."""


def _keystream(label: bytes) -> NDArray[np.uint8]:
    digest = hashlib.shake_128(label).digest((PAYLOAD_BITS + 7) // 8)
    return np.unpackbits(np.frombuffer(digest, dtype=np.uint8))[:PAYLOAD_BITS]


# (4) Whitening keystreams by layout. Unmarked content reads back as near-constant words
# (imwatermark gives ~all zeros on flat chroma) and the all-zero word is a valid BCH
# codeword, so unwhitened layouts would "detect" on blank frames.
_KEYSTREAMS: dict[str, NDArray[np.uint8]] = {
    "ap1": _keystream(b"avatar-provenance/payload/v1"),
}


@dataclass(frozen=True, order=True)
class ContentId:
    """A 64-bit content identifier: issuer (top 16 bits) and serial (low 48 bits).

    Attributes:
        value: the identifier as an unsigned 64-bit integer.

    Raises:
        InputError: ``value`` is outside ``[0, 2**64)``.
    """

    value: int

    def __post_init__(self) -> None:
        if not 0 <= self.value < 1 << 64:
            raise InputError(f"content id {self.value!r} is not an unsigned 64-bit integer")

    @classmethod
    def mint(cls, issuer: int) -> ContentId:
        """A fresh id for ``issuer`` with a random 48-bit serial.

        Args:
            issuer: the 16-bit issuer number.

        Raises:
            InputError: ``issuer`` is outside ``[0, 65535]``.
        """
        if not 0 <= issuer < 1 << _ISSUER_BITS:
            raise InputError(f"issuer {issuer!r} is not a 16-bit unsigned integer")
        return cls(issuer << _SERIAL_BITS | secrets.randbits(_SERIAL_BITS))

    @classmethod
    def from_hex(cls, text: str) -> ContentId:
        """Parse the 16-hex-character form (either case, no prefix, no spaces).

        Raises:
            InputError: ``text`` is not exactly 16 hex digits (also a ``ValueError``).
        """
        if not isinstance(text, str) or not _HEX_RE.fullmatch(text):
            raise InputError(f"content id must be 16 hex digits, got {text!r}")
        return cls(int(text, 16))

    @classmethod
    def from_bytes(cls, data: bytes) -> ContentId:
        """Parse the 8-byte big-endian form.

        Raises:
            InputError: ``data`` is not exactly 8 bytes (also a ``ValueError``).
        """
        if not isinstance(data, bytes | bytearray | memoryview) or len(data) != _ID_BYTES:
            raise InputError(f"content id must be {_ID_BYTES} bytes, got {data!r}")
        return cls(int.from_bytes(data, "big"))

    @property
    def hex(self) -> str:
        """The 16 lower-case hex characters."""
        return f"{self.value:016x}"

    @property
    def issuer(self) -> int:
        """The 16-bit issuer number."""
        return self.value >> _SERIAL_BITS

    @property
    def serial(self) -> int:
        """The 48-bit serial."""
        return self.value & ((1 << _SERIAL_BITS) - 1)

    def to_bytes(self) -> bytes:
        """The 8-byte big-endian form."""
        return self.value.to_bytes(_ID_BYTES, "big")

    def __str__(self) -> str:
        return self.hex


@dataclass(frozen=True)
class DecodedPayload:
    """A payload that decoded and passed its CRC.

    Attributes:
        content_id: the recovered id.
        corrected_bits: bit errors the BCH code corrected (0..10).
        false_alarm_probability: probability that uniformly random bits decode to a valid
            payload with at most this many corrections (``spec/payload.md``, section 6).
    """

    content_id: ContentId
    corrected_bits: int
    false_alarm_probability: float


def _crc(data: bytes) -> int:
    return binascii.crc_hqx(data, _CRC_INIT)


def encode_payload(content_id: ContentId) -> NDArray[np.uint8]:
    """The bits to embed for ``content_id`` in layout ``ap1``.

    Args:
        content_id: the id to carry.

    Returns:
        A ``uint8`` vector of 0/1 of length :data:`PAYLOAD_BITS`, first bit first.
    """
    data = content_id.to_bytes()
    message = data + _crc(data).to_bytes(_CRC_BITS // 8, "big")
    bits = np.unpackbits(np.frombuffer(message, dtype=np.uint8))
    return _CODE.encode(bits) ^ _KEYSTREAMS[PAYLOAD_LAYOUT]


def decode_payload(bits: NDArray[np.generic]) -> DecodedPayload | None:
    """Recover a content id from read-back bits, trying every known layout.

    Args:
        bits: :data:`PAYLOAD_BITS` values; any non-zero value counts as a 1.

    Returns:
        The decoded payload, or None when no layout yields a correctable codeword with a
        matching CRC (more than 10 bit errors, or no watermark at all).

    Raises:
        InputError: ``bits`` is not a vector of :data:`PAYLOAD_BITS` values.
    """
    word = np.asarray(bits)
    if word.shape != (PAYLOAD_BITS,):
        raise InputError(f"expected {PAYLOAD_BITS} payload bits, got shape {word.shape}")
    word = (word != 0).astype(np.uint8)
    for keystream in _KEYSTREAMS.values():
        decoded = _CODE.decode(word ^ keystream)
        if decoded is None:
            continue
        codeword, corrected = decoded
        message = np.packbits(codeword[:_MESSAGE_BITS]).tobytes()
        data, check = message[:_ID_BYTES], message[_ID_BYTES:]
        if _crc(data) != int.from_bytes(check, "big"):
            continue
        return DecodedPayload(
            content_id=ContentId.from_bytes(data),
            corrected_bits=corrected,
            false_alarm_probability=false_alarm_probability(corrected),
        )
    return None


def false_alarm_probability(corrections: int) -> float:
    """Chance that random bits decode, with at most ``corrections`` fixes, and pass the CRC.

    Per layout tried: ``2**80 * V(156, e) / 2**156 * 2**-16`` where ``V(n, e)`` is the
    number of words within Hamming distance ``e`` of a point (``spec/payload.md``, 6).

    Args:
        corrections: the number of bit errors corrected, 0..10.

    Raises:
        InputError: ``corrections`` is negative or above the code's capability.
    """
    if not 0 <= corrections <= _CODE.t:
        raise InputError(f"corrections must be in 0..{_CODE.t}, got {corrections}")
    ball = sum(math.comb(PAYLOAD_BITS, i) for i in range(corrections + 1))
    # Exact integers first: the float only at the end, so tiny values keep their precision.
    valid_words = len(_KEYSTREAMS) << (_MESSAGE_BITS - _CRC_BITS)
    return valid_words * ball / (1 << PAYLOAD_BITS)
