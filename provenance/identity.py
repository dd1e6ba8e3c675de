"""Vendor signing identities: an X.509 certificate chain plus a way to sign with its key.

A C2PA manifest is signed by an end-entity (EE) certificate whose chain a verifier
anchors in a root it trusts. This module issues such chains (:class:`CertificateAuthority`),
loads existing ones (:meth:`SigningIdentity.from_pem`, :meth:`SigningIdentity.from_files`),
checks them against the profile c2pa-rs enforces (:func:`check_certificate_profile`), and
exposes the one :class:`Signer` protocol the C2PA adapter needs. A key held in a KMS or HSM
plugs in through :class:`CallbackSigner`, so no private key ever has to enter this process.

Example::

    from pathlib import Path
    from provenance.identity import CertificateAuthority, SigningAlgorithm

    ca = CertificateAuthority.generate(common_name="Example Root", organization="Example")
    identity = ca.issue_signer(common_name="Example Avatars", organization="Example",
                               algorithm=SigningAlgorithm.ES256)
    identity.save(key_path=Path("signer.key"), chain_path=Path("signer.pem"))
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeAlias, TypeVar, runtime_checkable

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import (
    ExtendedKeyUsageOID,
    NameOID,
    ObjectIdentifier,
    SignatureAlgorithmOID,
)

from provenance._internal.files import write_atomic
from provenance.errors import InputError, KeyMaterialError, OutputExistsError, SigningError

__all__ = [
    "C2PA_CLAIM_SIGNING_EKU",
    "DOCUMENT_SIGNING_EKU",
    "EMAIL_PROTECTION_EKU",
    "CallbackSigner",
    "CertificateAuthority",
    "Signer",
    "SigningAlgorithm",
    "SigningIdentity",
    "check_certificate_profile",
]

_logger = logging.getLogger(__name__)

# The three EKUs of the recommended leaf profile (notes/c2pa.md §2.2). Issuing all three keeps
# a certificate acceptable both to verifiers using c2pa-rs' default EKU list (emailProtection)
# and to those with an explicit trust_config (documentSigning, c2pa-kp-claimSigning).
EMAIL_PROTECTION_EKU = ExtendedKeyUsageOID.EMAIL_PROTECTION
DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
C2PA_CLAIM_SIGNING_EKU = ObjectIdentifier("1.3.6.1.4.1.62558.2.1")
_C2PA_EKUS = frozenset({EMAIL_PROTECTION_EKU, DOCUMENT_SIGNING_EKU, C2PA_CLAIM_SIGNING_EKU})
# c2pa-rs rejects these two when combined with any other EKU (certificate_profile.rs).
_EXCLUSIVE_EKUS = frozenset({ExtendedKeyUsageOID.OCSP_SIGNING, ExtendedKeyUsageOID.TIME_STAMPING})

_ALLOWED_SIGNATURE_OIDS = frozenset(
    {
        SignatureAlgorithmOID.RSA_WITH_SHA256,
        SignatureAlgorithmOID.RSA_WITH_SHA384,
        SignatureAlgorithmOID.RSA_WITH_SHA512,
        SignatureAlgorithmOID.RSASSA_PSS,
        SignatureAlgorithmOID.ECDSA_WITH_SHA256,
        SignatureAlgorithmOID.ECDSA_WITH_SHA384,
        SignatureAlgorithmOID.ECDSA_WITH_SHA512,
        SignatureAlgorithmOID.ED25519,
    }
)
_ALLOWED_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
_MIN_RSA_BITS = 2048
_MAX_EE_VALIDITY_DAYS = 366
# Backdate notBefore a little so a verifier whose clock lags ours still accepts a fresh cert.
_CLOCK_SKEW = dt.timedelta(minutes=5)

_ExtT = TypeVar("_ExtT", bound=x509.ExtensionType)

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class SigningAlgorithm(StrEnum):
    """COSE signing algorithms this SDK issues and signs with (a subset of c2pa's)."""

    ES256 = "es256"
    ES384 = "es384"
    PS256 = "ps256"
    ED25519 = "ed25519"


@runtime_checkable
class Signer(Protocol):
    """What the C2PA adapter needs to sign a claim: an algorithm, a chain and a signature."""

    @property
    def algorithm(self) -> SigningAlgorithm:
        """The COSE algorithm of :meth:`sign`."""
        ...

    @property
    def certificate_chain_pem(self) -> bytes:
        """PEM certificates: end-entity first, then intermediates, without the root."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Sign the COSE to-be-signed bytes and return the signature c2pa accepts."""
        ...


# --------------------------------------------------------------------------- profile checks


def check_certificate_profile(chain_pem: bytes) -> list[str]:
    """Check a signing chain against the certificate rules c2pa-rs enforces.

    The rules mirror ``notes/c2pa.md`` §2.1 (c2pa-rs ``certificate_profile.rs``): a chain that
    passes here signs without "the certificate is invalid" and verifies once its root is a
    trust anchor.

    Args:
        chain_pem: PEM certificates, end-entity first, then intermediates (a trailing root is
            tolerated).

    Returns:
        One human-readable line per problem; an empty list when the chain is acceptable.
    """
    try:
        certs = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        return ["not a PEM certificate chain"]
    now = dt.datetime.now(dt.UTC)
    problems = [f"end-entity: {p}" for p in _end_entity_problems(certs[0])]
    for index, cert in enumerate(certs):
        label = "end-entity" if index == 0 else f"chain[{index}]"
        problems += [f"{label}: {p}" for p in _common_problems(cert, now)]
        if index > 0:
            problems += [f"{label}: {p}" for p in _ca_problems(cert)]
            if not _issued_by(certs[index - 1], cert):
                problems.append(f"chain[{index - 1}]: not issued by chain[{index}]")
    return problems


def _common_problems(cert: x509.Certificate, now: dt.datetime) -> list[str]:
    problems: list[str] = []
    if cert.version is not x509.Version.v3:
        problems.append("not an X.509 v3 certificate")
    if cert.signature_algorithm_oid not in _ALLOWED_SIGNATURE_OIDS:
        problems.append(
            f"unsupported signature algorithm {cert.signature_algorithm_oid.dotted_string}"
        )
    problems += _key_problems(cert)
    if now > cert.not_valid_after_utc:
        problems.append(f"expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    if now < cert.not_valid_before_utc:
        problems.append(f"not valid before {cert.not_valid_before_utc:%Y-%m-%d}")
    for ext in cert.extensions:
        # cryptography parses every extension c2pa-rs knows; anything left unparsed and
        # critical is one a verifier must reject.
        if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
            problems.append(f"unknown critical extension {ext.oid.dotted_string}")
    if not _is_self_signed(cert) and _extension(cert, x509.AuthorityKeyIdentifier) is None:
        problems.append("no authority key identifier")
    return problems


def _key_problems(cert: x509.Certificate) -> list[str]:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return ["unreadable public key"]
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            return [f"RSA key of {key.key_size} bits (at least {_MIN_RSA_BITS} needed)"]
        return []
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, _ALLOWED_CURVES):
            return [f"unsupported elliptic curve {key.curve.name}"]
        return []
    if isinstance(key, ed25519.Ed25519PublicKey):
        return []
    return [f"unsupported key type {type(key).__name__}"]


def _end_entity_problems(cert: x509.Certificate) -> list[str]:
    problems: list[str] = []
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        problems.append("is a CA certificate (basicConstraints CA:TRUE)")
    usage = _extension(cert, x509.KeyUsage)
    if usage is not None:
        if usage.key_cert_sign:
            problems.append("key usage keyCertSign on a non-CA certificate")
        if not usage.digital_signature:
            problems.append("key usage lacks digitalSignature")
    ekus = _extension(cert, x509.ExtendedKeyUsage)
    if ekus is None:
        problems.append("no extended key usage (needs emailProtection or documentSigning)")
        return problems
    oids = set(ekus)
    if ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in oids:
        problems.append("extended key usage anyExtendedKeyUsage is not allowed")
    if not oids & _C2PA_EKUS:
        problems.append(
            "extended key usage has none of emailProtection, documentSigning, c2pa-kp-claimSigning"
        )
    if oids & _EXCLUSIVE_EKUS and len(oids) > 1:
        problems.append("ocspSigning/timeStamping combined with other extended key usages")
    return problems


def _ca_problems(cert: x509.Certificate) -> list[str]:
    problems: list[str] = []
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        problems.append("issuer certificate is not a CA (basicConstraints CA:TRUE missing)")
    usage = _extension(cert, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        problems.append("issuer certificate lacks key usage keyCertSign")
    if _extension(cert, x509.SubjectKeyIdentifier) is None:
        problems.append("CA certificate without subject key identifier")
    return problems


def _extension(cert: x509.Certificate, kind: type[_ExtT]) -> _ExtT | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject and _issued_by(cert, cert)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


# --------------------------------------------------------------------------- loading helpers


def _load_private_key(data: bytes, passphrase: bytes | None, source: str) -> PrivateKey:
    encrypted = b"ENCRYPTED" in data
    if encrypted and passphrase is None:
        raise KeyMaterialError(f"{source}: the private key is encrypted; a passphrase is needed")
    try:
        # A passphrase given for an unencrypted key is ignored rather than rejected: the
        # caller may set PROVENANCE_KEY_PASSPHRASE globally for keys of both kinds.
        key = serialization.load_pem_private_key(data, password=passphrase if encrypted else None)
    except ValueError as exc:
        if encrypted:
            raise KeyMaterialError(f"{source}: wrong passphrase for the private key") from exc
        raise KeyMaterialError(f"{source}: not a PEM private key") from exc
    except (TypeError, UnsupportedAlgorithm) as exc:
        raise KeyMaterialError(f"{source}: not a PEM private key") from exc
    if not isinstance(
        key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise KeyMaterialError(f"{source}: unsupported key type {type(key).__name__}")
    return key


def _load_chain(data: bytes, source: str) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise KeyMaterialError(f"{source}: not a PEM certificate chain") from exc
    # The interface promises "EE then intermediates": a root appended by the user is harmless
    # to c2pa but belongs with the verifier's anchors, so it is dropped here.
    if len(certs) > 1 and _is_self_signed(certs[-1]):
        certs = certs[:-1]
    return certs


def _algorithm_for_key(key: PrivateKey | CertificatePublicKeyTypes) -> SigningAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return SigningAlgorithm.ES256
        if isinstance(key.curve, ec.SECP384R1):
            return SigningAlgorithm.ES384
        raise KeyMaterialError(f"unsupported elliptic curve {key.curve.name} (use P-256 or P-384)")
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            raise KeyMaterialError(
                f"RSA key of {key.key_size} bits (at least {_MIN_RSA_BITS} needed)"
            )
        return SigningAlgorithm.PS256
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return SigningAlgorithm.ED25519
    raise KeyMaterialError(f"unsupported key type {type(key).__name__}")


def _spki(key: PrivateKey | CertificatePublicKeyTypes) -> bytes:
    public = key.public_key() if isinstance(key, PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _chain_pem(certs: Sequence[x509.Certificate]) -> bytes:
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


def _key_pem(key: PrivateKey, passphrase: bytes | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _refuse_existing(paths: Sequence[Path], force: bool) -> None:
    # Checked for every file before writing any, so a refusal never leaves a key whose
    # certificate chain was not written (or the reverse).
    if force:
        return
    for path in paths:
        if path.exists():
            raise OutputExistsError(f"{path}: already exists (use --force to replace it)")


# --------------------------------------------------------------------------- signers


class SigningIdentity:
    """A local private key with its certificate chain; implements :class:`Signer`.

    Build one with :meth:`from_pem`, :meth:`from_files` or
    :meth:`CertificateAuthority.issue_signer`; the constructor trusts its arguments.
    """

    def __init__(self, *, private_key: PrivateKey, chain: Sequence[x509.Certificate]) -> None:
        """Wrap an already validated key and chain (EE first, no root).

        Raises:
            KeyMaterialError: the key type is not one of the supported algorithms.
        """
        self._key = private_key
        self._chain = tuple(chain)
        self._algorithm = _algorithm_for_key(private_key)

    @classmethod
    def from_pem(
        cls, *, key: bytes, chain: bytes, passphrase: bytes | None = None
    ) -> SigningIdentity:
        """Load a PEM private key and its PEM certificate chain.

        Args:
            key: PKCS#8 or traditional PEM private key, encrypted or not.
            chain: PEM certificates, end-entity first, then intermediates.
            passphrase: the key's passphrase, when it is encrypted.

        Returns:
            The identity, with its algorithm inferred from the key.

        Raises:
            KeyMaterialError: unreadable key or chain, wrong or missing passphrase,
                unsupported key, key not matching the end-entity certificate, or a chain
                that fails :func:`check_certificate_profile`.
        """
        return cls._load(key, chain, passphrase, key_source="key", chain_source="chain")

    @classmethod
    def from_files(
        cls, *, key: Path, chain: Path, passphrase: bytes | None = None
    ) -> SigningIdentity:
        """Load an identity from a PEM key file and a PEM chain file.

        Args:
            key: path of the private key.
            chain: path of the certificate chain (end-entity first).
            passphrase: the key's passphrase, when it is encrypted.

        Returns:
            The identity.

        Raises:
            InputError: a file cannot be read.
            KeyMaterialError: as :meth:`from_pem`, with the file named in the message.
        """
        return cls._load(
            _read(key), _read(chain), passphrase, key_source=str(key), chain_source=str(chain)
        )

    @classmethod
    def _load(
        cls,
        key: bytes,
        chain: bytes,
        passphrase: bytes | None,
        *,
        key_source: str,
        chain_source: str,
    ) -> SigningIdentity:
        private_key = _load_private_key(key, passphrase, key_source)
        certs = _load_chain(chain, chain_source)
        if _spki(private_key) != _spki(certs[0].public_key()):
            raise KeyMaterialError(
                f"{key_source}: the private key does not match the certificate in {chain_source}"
            )
        problems = check_certificate_profile(_chain_pem(certs))
        if problems:
            raise KeyMaterialError(f"{chain_source}: {'; '.join(problems)}")
        try:
            return cls(private_key=private_key, chain=certs)
        except KeyMaterialError as exc:
            raise KeyMaterialError(f"{key_source}: {exc}") from exc

    def save(
        self,
        *,
        key_path: Path,
        chain_path: Path,
        passphrase: bytes | None = None,
        force: bool = False,
    ) -> None:
        """Write the private key (PKCS#8 PEM, mode 0600) and the certificate chain (PEM).

        Args:
            key_path: destination of the private key.
            chain_path: destination of the chain.
            passphrase: encrypt the key with it (the best algorithm cryptography offers).
            force: replace existing files.

        Raises:
            OutputExistsError: a destination exists and ``force`` is false.
        """
        _refuse_existing((key_path, chain_path), force)
        write_atomic(key_path, _key_pem(self._key, passphrase), force=force, mode=0o600)
        write_atomic(chain_path, self.certificate_chain_pem, force=force)

    @property
    def algorithm(self) -> SigningAlgorithm:
        """The COSE algorithm, inferred from the key."""
        return self._algorithm

    @property
    def certificate_chain_pem(self) -> bytes:
        """PEM chain: end-entity first, then intermediates."""
        return _chain_pem(self._chain)

    @property
    def certificate(self) -> x509.Certificate:
        """The end-entity certificate."""
        return self._chain[0]

    @property
    def subject(self) -> str:
        """RFC 4514 subject of the end-entity certificate."""
        return self._chain[0].subject.rfc4514_string()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the end-entity certificate's DER, lowercase hex."""
        return self._chain[0].fingerprint(hashes.SHA256()).hex()

    @property
    def not_after(self) -> dt.datetime:
        """End of the end-entity certificate's validity (UTC-aware)."""
        return self._chain[0].not_valid_after_utc

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` as c2pa's callback signer expects.

        ECDSA signatures are DER (c2pa converts them), PS256 is RSA-PSS with MGF1-SHA256 and a
        32-byte salt (what COSE PS256 specifies), Ed25519 is plain.

        Raises:
            SigningError: the key refused to sign.
        """
        key = self._key
        try:
            if isinstance(key, ec.EllipticCurvePrivateKey):
                digest: hashes.HashAlgorithm = (
                    hashes.SHA384()
                    if self._algorithm is SigningAlgorithm.ES384
                    else hashes.SHA256()
                )
                return key.sign(data, ec.ECDSA(digest))
            if isinstance(key, rsa.RSAPrivateKey):
                pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
                return key.sign(data, pss, hashes.SHA256())
            return key.sign(data)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SigningError(f"{self.subject}: signing failed: {exc}") from exc

    def __repr__(self) -> str:
        return f"SigningIdentity(subject={self.subject!r}, algorithm={self._algorithm.value!r})"


class CallbackSigner:
    """A :class:`Signer` whose private key lives elsewhere (KMS, HSM, remote service).

    ``callback`` receives the bytes to sign and returns the signature in the form c2pa
    accepts for ``algorithm`` (see :meth:`SigningIdentity.sign`).
    """

    def __init__(
        self,
        *,
        algorithm: SigningAlgorithm,
        certificate_chain_pem: bytes,
        callback: Callable[[bytes], bytes],
    ) -> None:
        """Check the chain and keep the callback.

        Raises:
            KeyMaterialError: the chain is unreadable, fails the certificate profile, or its
                end-entity key does not fit ``algorithm``.
        """
        certs = _load_chain(certificate_chain_pem, "certificate chain")
        problems = check_certificate_profile(_chain_pem(certs))
        if problems:
            raise KeyMaterialError(f"certificate chain: {'; '.join(problems)}")
        cert_algorithm = _algorithm_for_key(certs[0].public_key())
        if cert_algorithm is not SigningAlgorithm(algorithm):
            raise KeyMaterialError(
                f"certificate chain: the end-entity key is for {cert_algorithm.value}, "
                f"not {SigningAlgorithm(algorithm).value}"
            )
        self._algorithm = SigningAlgorithm(algorithm)
        self._chain_pem = _chain_pem(certs)
        self._callback = callback

    @property
    def algorithm(self) -> SigningAlgorithm:
        """The COSE algorithm the callback signs with."""
        return self._algorithm

    @property
    def certificate_chain_pem(self) -> bytes:
        """PEM chain: end-entity first, then intermediates."""
        return self._chain_pem

    def sign(self, data: bytes) -> bytes:
        """Call the callback.

        Raises:
            SigningError: the callback raised or returned no signature.
        """
        try:
            signature = self._callback(data)
        except Exception as exc:
            # A KMS client can raise anything (network, auth); one error class for callers.
            raise SigningError(f"signing callback failed: {exc}") from exc
        if not signature:
            raise SigningError("signing callback returned an empty signature")
        return signature


# --------------------------------------------------------------------------- authority


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def _new_key(algorithm: SigningAlgorithm) -> PrivateKey:
    if algorithm is SigningAlgorithm.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm is SigningAlgorithm.ES384:
        return ec.generate_private_key(ec.SECP384R1())
    if algorithm is SigningAlgorithm.PS256:
        # 3072 bits: NIST's recommendation past 2030; 2048 is only c2pa's floor.
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return ed25519.Ed25519PrivateKey.generate()


@dataclass(frozen=True)
class CertificateAuthority:
    """A root CA (P-384) that issues end-entity signing certificates.

    Chains are root → EE with no intermediate: c2pa 0.38.1 reads such a signature Trusted
    with the root as the only anchor (measured), and the root never leaves the vendor.
    """

    certificate: x509.Certificate
    # Kept out of repr so logging an authority never hints at its key object.
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    @classmethod
    def generate(
        cls, *, common_name: str, organization: str, valid_days: int = 3650
    ) -> CertificateAuthority:
        """Create a self-signed root CA.

        Args:
            common_name: CN of the root.
            organization: O of the root.
            valid_days: validity from now.

        Returns:
            The authority.

        Raises:
            KeyMaterialError: ``valid_days`` is not positive.
        """
        if valid_days <= 0:
            raise KeyMaterialError(f"valid_days must be positive, not {valid_days}")
        key = ec.generate_private_key(ec.SECP384R1())
        name = _name(common_name, organization)
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + dt.timedelta(days=valid_days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(signing=False), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA384())
        )
        return cls(certificate=cert, private_key=key)

    def issue_signer(
        self,
        *,
        common_name: str,
        organization: str,
        algorithm: SigningAlgorithm = SigningAlgorithm.ES256,
        valid_days: int = 365,
    ) -> SigningIdentity:
        """Issue a new key and an end-entity certificate in the recommended C2PA profile.

        Args:
            common_name: CN of the signer (shown by verifiers as the signer's name).
            organization: O of the signer (shown by c2pa as the issuer of the signature).
            algorithm: key type to generate.
            valid_days: validity from now, at most 366 days (C2PA leaf profile).

        Returns:
            The signing identity; its chain holds only the EE certificate.

        Raises:
            KeyMaterialError: ``valid_days`` is out of range, or exceeds the CA's own validity.
        """
        if not 0 < valid_days <= _MAX_EE_VALIDITY_DAYS:
            raise KeyMaterialError(
                f"valid_days must be 1..{_MAX_EE_VALIDITY_DAYS}, not {valid_days}"
            )
        now = dt.datetime.now(dt.UTC)
        not_after = now + dt.timedelta(days=valid_days)
        if not_after > self.certificate.not_valid_after_utc:
            raise KeyMaterialError(
                "the signer would outlive its CA certificate; renew the CA first"
            )
        key = _new_key(SigningAlgorithm(algorithm))
        ca_public = self.private_key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(signing=True), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [EMAIL_PROTECTION_EKU, DOCUMENT_SIGNING_EKU, C2PA_CLAIM_SIGNING_EKU]
                ),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
            )
            .sign(self.private_key, hashes.SHA384())
        )
        _logger.info("issued %s signer %s", algorithm, cert.subject.rfc4514_string())
        return SigningIdentity(private_key=key, chain=[cert])

    @property
    def certificate_pem(self) -> bytes:
        """The root certificate in PEM: what verifiers install as a trust anchor."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def save(
        self,
        *,
        cert_path: Path,
        key_path: Path,
        passphrase: bytes | None = None,
        force: bool = False,
    ) -> None:
        """Write the root certificate (PEM) and its private key (PKCS#8 PEM, mode 0600).

        Args:
            cert_path: destination of the certificate.
            key_path: destination of the private key.
            passphrase: encrypt the key with it.
            force: replace existing files.

        Raises:
            OutputExistsError: a destination exists and ``force`` is false.
        """
        _refuse_existing((key_path, cert_path), force)
        write_atomic(key_path, _key_pem(self.private_key, passphrase), force=force, mode=0o600)
        write_atomic(cert_path, self.certificate_pem, force=force)

    @classmethod
    def load(
        cls, *, cert_path: Path, key_path: Path, passphrase: bytes | None = None
    ) -> CertificateAuthority:
        """Load an authority written by :meth:`save`.

        Args:
            cert_path: the root certificate.
            key_path: its private key.
            passphrase: the key's passphrase, when it is encrypted.

        Returns:
            The authority.

        Raises:
            InputError: a file cannot be read.
            KeyMaterialError: unreadable or mismatched key and certificate, or not a P-384 CA.
        """
        key = _load_private_key(_read(key_path), passphrase, str(key_path))
        certs = _load_chain(_read(cert_path), str(cert_path))
        cert = certs[0]
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
            key.curve, ec.SECP384R1
        ):
            raise KeyMaterialError(f"{key_path}: a CA key must be EC P-384")
        if _spki(key) != _spki(cert.public_key()):
            raise KeyMaterialError(f"{key_path}: the private key does not match {cert_path}")
        constraints = _extension(cert, x509.BasicConstraints)
        if constraints is None or not constraints.ca:
            raise KeyMaterialError(f"{cert_path}: not a CA certificate")
        return cls(certificate=cert, private_key=key)
