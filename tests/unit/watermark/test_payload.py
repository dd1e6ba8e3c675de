"""Payload codec: known answers, error correction limits and an empirical false-positive check."""

from __future__ import annotations

import binascii
import hashlib
import math

import numpy as np
import pytest
from numpy.typing import NDArray

from provenance.errors import InputError, ProvenanceError
from provenance.watermark import (
    PAYLOAD_BITS,
    ContentId,
    decode_payload,
    encode_payload,
    false_alarm_probability,
)

# Pinned once from this implementation and cross-checked structurally below (message bits,
# CRC, codeword roots): any change to the layout must change this vector and spec/payload.md.
KAT_ID = "0001a1b2c3d4e5f6"
KAT_BITS_HEX = "28d35cf91abeee5f1638d2815490e25ed99b1b9"  # 156 bits, MSB first
KEYSTREAM_LABEL = b"avatar-provenance/payload/v1"


def _bits_from_hex(text: str, length: int) -> NDArray[np.uint8]:
    value = int(text, 16) >> (len(text) * 4 - length)
    return np.array([(value >> (length - 1 - i)) & 1 for i in range(length)], dtype=np.uint8)


def _keystream() -> NDArray[np.uint8]:
    digest = hashlib.shake_128(KEYSTREAM_LABEL).digest(20)
    return np.unpackbits(np.frombuffer(digest, dtype=np.uint8))[:PAYLOAD_BITS]


def _gf_mul(a: int, b: int) -> int:
    """Reference GF(2^8) multiply (shift-and-add mod 0x11D), independent of the codec."""
    out = 0
    while b:
        if b & 1:
            out ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11D
        b >>= 1
    return out


def _evaluate(bits: NDArray[np.uint8], x: int) -> int:
    acc = 0
    for bit in bits:  # Horner, highest power first
        acc = _gf_mul(acc, x) ^ int(bit)
    return acc


def _flip(bits: NDArray[np.uint8], count: int, rng: np.random.Generator) -> NDArray[np.uint8]:
    out = bits.copy()
    out[rng.choice(PAYLOAD_BITS, size=count, replace=False)] ^= 1
    return out


def test_layout_constants() -> None:
    assert PAYLOAD_BITS == 156
    # CRC-16/CCITT-FALSE check value from the CRC catalogue.
    assert binascii.crc_hqx(b"123456789", 0xFFFF) == 0x29B1


def test_known_answer_vector() -> None:
    bits = encode_payload(ContentId.from_hex(KAT_ID))
    assert bits.dtype == np.uint8 and bits.shape == (PAYLOAD_BITS,)
    assert set(np.unique(bits)) <= {0, 1}
    np.testing.assert_array_equal(bits, _bits_from_hex(KAT_BITS_HEX, PAYLOAD_BITS))


def test_known_answer_structure() -> None:
    codeword = _bits_from_hex(KAT_BITS_HEX, PAYLOAD_BITS) ^ _keystream()
    data = bytes.fromhex(KAT_ID)
    message = data + binascii.crc_hqx(data, 0xFFFF).to_bytes(2, "big")
    np.testing.assert_array_equal(
        codeword[:80], np.unpackbits(np.frombuffer(message, dtype=np.uint8))
    )
    # A BCH codeword has alpha^1 .. alpha^20 as roots (alpha = x = 2 in this field).
    alpha_i = 1
    for _ in range(20):
        alpha_i = _gf_mul(alpha_i, 2)
        assert _evaluate(codeword, alpha_i) == 0


@pytest.mark.parametrize("errors", range(11))
def test_corrects_up_to_ten_flips(errors: int) -> None:
    rng = np.random.default_rng(errors)
    for _ in range(40):
        cid = ContentId(int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2)))
        decoded = decode_payload(_flip(encode_payload(cid), errors, rng))
        assert decoded is not None
        assert decoded.content_id == cid
        assert decoded.corrected_bits == errors
        assert decoded.false_alarm_probability == false_alarm_probability(errors)


@pytest.mark.parametrize("errors", [11, 12, 15, 20, 40, 78])
def test_more_than_ten_flips_never_yields_a_wrong_id(errors: int) -> None:
    rng = np.random.default_rng(100 + errors)
    for _ in range(300):
        cid = ContentId(int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2)))
        decoded = decode_payload(_flip(encode_payload(cid), errors, rng))
        assert decoded is None or decoded.content_id == cid


@pytest.mark.parametrize(
    "word",
    [
        np.zeros(PAYLOAD_BITS, dtype=np.uint8),
        np.ones(PAYLOAD_BITS, dtype=np.uint8),
        np.arange(PAYLOAD_BITS, dtype=np.uint8) % 2,
        1 - np.arange(PAYLOAD_BITS, dtype=np.uint8) % 2,
        # Un-whitens to the all-zero BCH codeword: only the CRC stands between it and a hit.
        _keystream(),
        1 - _keystream(),
    ],
    ids=["zeros", "ones", "0101", "1010", "keystream", "not-keystream"],
)
def test_structured_words_do_not_decode(word: NDArray[np.uint8]) -> None:
    assert decode_payload(word) is None


def test_random_words_do_not_decode() -> None:
    # 20,000 draws: with the designed 3.8e-13 per attempt, any hit means a broken CRC,
    # whitening or decoder acceptance check.
    rng = np.random.default_rng(2024)
    words = rng.integers(0, 2, size=(20_000, PAYLOAD_BITS), dtype=np.uint8)
    assert all(decode_payload(word) is None for word in words)


def test_low_weight_words_do_not_decode() -> None:
    # What imwatermark reads from unmarked flat content: mostly zeros with a few ones.
    rng = np.random.default_rng(7)
    zeros = np.zeros(PAYLOAD_BITS, dtype=np.uint8)
    for weight in (1, 2, 5, 10, 20):
        for _ in range(200):
            assert decode_payload(_flip(zeros, weight, rng)) is None
            assert decode_payload(1 - _flip(zeros, weight, rng)) is None


def test_false_alarm_probability_values() -> None:
    assert false_alarm_probability(0) == pytest.approx(2.0**-92)
    worst = false_alarm_probability(10)
    ball = sum(math.comb(156, i) for i in range(11))
    assert worst == pytest.approx(2.0**80 * ball / 2.0**156 * 2.0**-16)
    assert 3e-13 < worst < 5e-13
    values = [false_alarm_probability(e) for e in range(11)]
    assert values == sorted(values)
    with pytest.raises(InputError):
        false_alarm_probability(11)
    with pytest.raises(InputError):
        false_alarm_probability(-1)


def test_decode_accepts_bool_and_int_arrays() -> None:
    bits = encode_payload(ContentId.from_hex(KAT_ID))
    for form in (bits.astype(bool), bits.astype(np.int64), bits.tolist()):
        decoded = decode_payload(np.asarray(form))
        assert decoded is not None and decoded.content_id.hex == KAT_ID


@pytest.mark.parametrize("length", [0, 155, 157, 312])
def test_decode_rejects_wrong_length(length: int) -> None:
    with pytest.raises(InputError, match="156 payload bits"):
        decode_payload(np.zeros(length, dtype=np.uint8))


def test_content_id_fields() -> None:
    cid = ContentId.from_hex(KAT_ID)
    assert cid.issuer == 0x0001
    assert cid.serial == 0xA1B2C3D4E5F6
    assert cid.hex == KAT_ID == str(cid)
    assert cid.to_bytes() == bytes.fromhex(KAT_ID)
    assert ContentId.from_bytes(cid.to_bytes()) == cid
    assert ContentId.from_hex(KAT_ID.upper()) == cid
    assert ContentId(1) < ContentId(2)
    assert str(ContentId(0)) == "0" * 16


def test_mint() -> None:
    minted = {ContentId.mint(issuer=0xBEEF) for _ in range(50)}
    assert len(minted) == 50
    assert all(cid.issuer == 0xBEEF and 0 <= cid.serial < 2**48 for cid in minted)
    assert ContentId.mint(issuer=0).issuer == 0
    assert ContentId.mint(issuer=0xFFFF).issuer == 0xFFFF


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0001a1b2c3d4e5f",
        "0001a1b2c3d4e5f6a",
        "0x01a1b2c3d4e5f6",
        "0001a1b2c3d4e5fg",
        " 001a1b2c3d4e5f6",
        "0001a1b2c3d4e5f6\n",
        "0001-1b2c3d4e5f6",
    ],
)
def test_from_hex_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="16 hex digits"):
        ContentId.from_hex(text)
    with pytest.raises(InputError):
        ContentId.from_hex(text)


@pytest.mark.parametrize("data", [b"", b"\x00" * 7, b"\x00" * 9])
def test_from_bytes_rejects(data: bytes) -> None:
    with pytest.raises(InputError, match="8 bytes"):
        ContentId.from_bytes(data)


@pytest.mark.parametrize("value", [-1, 2**64])
def test_value_out_of_range(value: int) -> None:
    with pytest.raises(InputError):
        ContentId(value)


@pytest.mark.parametrize("issuer", [-1, 2**16])
def test_mint_rejects_bad_issuer(issuer: int) -> None:
    with pytest.raises(ProvenanceError, match="16-bit"):
        ContentId.mint(issuer=issuer)
