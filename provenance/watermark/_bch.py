"""A shortened, systematic binary BCH code over GF(2^8), written for the payload codec.

Internal: the payload layout in ``spec/payload.md`` fixes the parameters; nothing else should
depend on this module. Written here rather than taken from ``bchlib`` (GPLv2) or ``galois``
(pulls numba, slow import).

Bit arrays are numpy ``uint8`` vectors of 0/1, most significant (highest power of x) first.
A codeword is the message bits followed by the parity bits.
"""

from __future__ import annotations

from functools import reduce

import numpy as np
from numpy.typing import NDArray

__all__ = ["BchCode"]

_Bits = NDArray[np.uint8]


class _GF256:
    """Log/antilog tables of GF(2^8) for one primitive polynomial."""

    order = 255

    def __init__(self, primitive_poly: int) -> None:
        exp = [0] * (2 * self.order)
        log = [0] * 256
        x = 1
        for i in range(self.order):
            exp[i] = x
            log[x] = i
            x <<= 1
            if x & 0x100:
                x ^= primitive_poly
        # Doubled so a product of two logs indexes without a modulo.
        exp[self.order :] = exp[: self.order]
        self.exp = exp
        self.log = log
        self.exp_np = np.array(exp[: self.order], dtype=np.int64)

    def mul(self, a: int, b: int) -> int:
        if a == 0 or b == 0:
            return 0
        return self.exp[self.log[a] + self.log[b]]

    def div(self, a: int, b: int) -> int:
        if a == 0:
            return 0
        return self.exp[(self.log[a] - self.log[b]) % self.order]


def _gf2_mul(a: int, b: int) -> int:
    """Carry-less product of two GF(2)[x] polynomials held as ints."""
    out = 0
    while b:
        if b & 1:
            out ^= a
        a <<= 1
        b >>= 1
    return out


def _gf2_mod(a: int, g: int) -> int:
    """Remainder of GF(2)[x] polynomials held as ints."""
    dg = g.bit_length() - 1
    while a.bit_length() - 1 >= dg:
        a ^= g << (a.bit_length() - 1 - dg)
    return a


def _bits_to_int(bits: _Bits) -> int:
    return int.from_bytes(np.packbits(bits).tobytes(), "big") >> (-len(bits) % 8)


def _int_to_bits(value: int, length: int) -> _Bits:
    raw = (value << (-length % 8)).to_bytes((length + 7) // 8, "big")
    return np.unpackbits(np.frombuffer(raw, dtype=np.uint8))[:length]


class BchCode:
    """Binary narrow-sense BCH code of length 255, shortened to ``k`` message bits.

    Args:
        primitive_poly: the field's primitive polynomial, e.g. ``0x11D``.
        t: designed number of correctable bit errors.
        k: message bits carried (the code is shortened to ``k + parity_bits``).
    """

    def __init__(self, *, primitive_poly: int, t: int, k: int) -> None:
        self.field = _GF256(primitive_poly)
        self.t = t
        self.k = k
        self.generator = self._generator_polynomial()
        self.parity_bits = self.generator.bit_length() - 1
        self.n = k + self.parity_bits
        if self.n > self.field.order:
            raise ValueError(f"k={k} does not fit a length-255 code with t={t}")

    def _generator_polynomial(self) -> int:
        """LCM of the minimal polynomials of alpha^1 .. alpha^2t."""
        gf = self.field
        cosets: set[frozenset[int]] = set()
        for i in range(1, 2 * self.t + 1):
            cosets.add(frozenset((i << s) % gf.order for s in range(8)))
        minimal_polys = []
        for coset in cosets:
            # Product of (x + alpha^j) over the coset; coefficients land in GF(2).
            poly = [1]
            for j in coset:
                root = gf.exp[j]
                shifted = [0, *poly]
                scaled = [gf.mul(c, root) for c in poly] + [0]
                poly = [a ^ b for a, b in zip(shifted, scaled, strict=True)]
            minimal_polys.append(sum(c << i for i, c in enumerate(poly)))
        # Distinct cosets give coprime minimal polynomials, so the LCM is their product.
        return reduce(_gf2_mul, minimal_polys, 1)

    def encode(self, message: _Bits) -> _Bits:
        """Systematic codeword: the ``k`` message bits, then the parity bits."""
        shifted = _bits_to_int(message) << self.parity_bits
        return _int_to_bits(shifted | _gf2_mod(shifted, self.generator), self.n)

    def _syndromes(self, word: _Bits) -> list[int]:
        powers = (self.n - 1) - np.flatnonzero(word)
        if powers.size == 0:
            return [0] * (2 * self.t)
        j = np.arange(1, 2 * self.t + 1, dtype=np.int64)[:, None]
        terms = self.field.exp_np[(j * powers[None, :]) % self.field.order]
        return [int(s) for s in np.bitwise_xor.reduce(terms, axis=1)]

    def _error_locator(self, syndromes: list[int]) -> list[int]:
        """Berlekamp-Massey: the shortest LFSR (error locator) generating the syndromes."""
        gf = self.field
        locator, previous = [1], [1]
        length, gap, last_discrepancy = 0, 1, 1
        for step, syndrome in enumerate(syndromes):
            discrepancy = syndrome
            for i in range(1, min(length, len(locator) - 1) + 1):
                discrepancy ^= gf.mul(locator[i], syndromes[step - i])
            if discrepancy == 0:
                gap += 1
                continue
            coef = gf.div(discrepancy, last_discrepancy)
            update = [0] * gap + [gf.mul(coef, c) for c in previous]
            new = [a ^ b for a, b in _zip_longest(locator, update)]
            if 2 * length <= step:
                previous, last_discrepancy = locator, discrepancy
                length, gap = step + 1 - length, 1
            else:
                gap += 1
            locator = new
        while len(locator) > 1 and locator[-1] == 0:
            locator.pop()
        # A locator whose degree differs from the LFSR length flags an uncorrectable word.
        return locator if len(locator) - 1 == length else []

    def _error_powers(self, locator: list[int]) -> NDArray[np.int64]:
        """Chien search over the shortened range: powers p with locator(alpha^-p) == 0."""
        gf = self.field
        powers = np.arange(self.n, dtype=np.int64)
        acc = np.zeros(self.n, dtype=np.int64)
        for degree, coef in enumerate(locator):
            if coef:
                acc ^= gf.exp_np[(gf.log[coef] - degree * powers) % gf.order]
        roots: NDArray[np.int64] = powers[acc == 0]
        return roots

    def decode(self, word: _Bits) -> tuple[_Bits, int] | None:
        """Correct up to ``t`` bit errors.

        Args:
            word: ``n`` received bits.

        Returns:
            The corrected codeword and the number of bits flipped, or None when the word is
            more than ``t`` errors from every codeword (as far as the decoder can tell).
        """
        syndromes = self._syndromes(word)
        if not any(syndromes):
            return word.copy(), 0
        locator = self._error_locator(syndromes)
        errors = len(locator) - 1
        if not locator or errors > self.t:
            return None
        powers = self._error_powers(locator)
        # Roots outside the shortened range, or repeated roots, mean an uncorrectable word.
        if len(powers) != errors:
            return None
        corrected = word.copy()
        corrected[(self.n - 1) - powers] ^= 1
        # Cheap guard that makes acceptance exact: the output must be a codeword.
        if any(self._syndromes(corrected)):
            return None
        return corrected, errors


def _zip_longest(a: list[int], b: list[int]) -> list[tuple[int, int]]:
    size = max(len(a), len(b))
    return list(zip(a + [0] * (size - len(a)), b + [0] * (size - len(b)), strict=True))
