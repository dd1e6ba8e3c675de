"""Trust anchors: the root certificates whose signers a verifier reads as *Trusted*.

c2pa-rs ships no built-in anchors, so without a :class:`TrustAnchors` every intact manifest
reads *Valid* (``signingCredential.untrusted``), never *Trusted*. Anchors are built through
named constructors only; :meth:`TrustAnchors.none` is the explicit "trust nobody" value.

Example::

    from pathlib import Path
    from provenance.trust import TrustAnchors

    anchors = TrustAnchors.from_files(Path("keys/root-ca.pem"))
    print(anchors.fingerprints)
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from provenance.errors import InputError, KeyMaterialError

__all__ = ["TrustAnchors"]


class TrustAnchors:
    """An immutable set of PEM root certificates (duplicates removed, order kept)."""

    __slots__ = ("_certs",)

    def __init__(self, certificates: tuple[x509.Certificate, ...]) -> None:
        """Keep the given certificates; prefer the named constructors."""
        unique: dict[bytes, x509.Certificate] = {}
        for cert in certificates:
            unique.setdefault(cert.fingerprint(hashes.SHA256()), cert)
        self._certs = tuple(unique.values())

    @classmethod
    def from_pem(cls, pem: bytes, *, source: str = "<memory>") -> TrustAnchors:
        """Parse one or more PEM certificates.

        Args:
            pem: concatenated PEM certificates.
            source: where ``pem`` came from, for error messages.

        Returns:
            The anchors.

        Raises:
            KeyMaterialError: ``pem`` holds no readable certificate.
        """
        try:
            certs = x509.load_pem_x509_certificates(pem)
        except ValueError as exc:
            raise KeyMaterialError(f"{source}: no PEM certificate found") from exc
        return cls(tuple(certs))

    @classmethod
    def from_files(cls, *paths: Path) -> TrustAnchors:
        """Read PEM certificates from one or more files.

        Args:
            *paths: PEM files, each holding at least one certificate.

        Returns:
            The union of their anchors.

        Raises:
            InputError: no path given, or a file cannot be read.
            KeyMaterialError: a file holds no readable certificate.
        """
        if not paths:
            # An empty call would silently mean "trust nobody"; that has its own name.
            raise InputError("no trust anchor file given (use TrustAnchors.none() for none)")
        certs: list[x509.Certificate] = []
        for path in paths:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
            certs += cls.from_pem(data, source=str(path))._certs
        return cls(tuple(certs))

    @classmethod
    def none(cls) -> TrustAnchors:
        """No anchors: every signature reads *Valid* at best, never *Trusted*."""
        return cls(())

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        """The anchor certificates."""
        return self._certs

    @property
    def pem(self) -> bytes:
        """All anchors as concatenated PEM (empty when there are none)."""
        return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in self._certs)

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """SHA-256 of each anchor's DER, lowercase hex."""
        return tuple(cert.fingerprint(hashes.SHA256()).hex() for cert in self._certs)

    def __bool__(self) -> bool:
        return bool(self._certs)

    def __len__(self) -> int:
        return len(self._certs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TrustAnchors):
            return NotImplemented
        return set(self.fingerprints) == set(other.fingerprints)

    def __hash__(self) -> int:
        return hash(frozenset(self.fingerprints))

    def __repr__(self) -> str:
        short = ", ".join(fp[:16] for fp in self.fingerprints)
        return f"TrustAnchors([{short}])"
