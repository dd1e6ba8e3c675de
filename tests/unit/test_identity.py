"""Signing identities, the certificate authority and the C2PA certificate profile check."""

from __future__ import annotations

import datetime as dt
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.errors import InputError, KeyMaterialError, OutputExistsError, SigningError
from provenance.identity import (
    C2PA_CLAIM_SIGNING_EKU,
    DOCUMENT_SIGNING_EKU,
    CallbackSigner,
    CertificateAuthority,
    SigningAlgorithm,
    SigningIdentity,
    check_certificate_profile,
)

PASSPHRASE = b"correct horse battery staple"


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.generate(common_name="Test Root", organization="Test Vendor")


@pytest.fixture(scope="module")
def es256(ca: CertificateAuthority) -> SigningIdentity:
    return ca.issue_signer(common_name="Test Signer", organization="Test Vendor")


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def bad_end_entity(
    ca: CertificateAuthority,
    *,
    ca_true: bool = False,
    ekus: list[x509.ObjectIdentifier] | None = None,
    key_cert_sign: bool = False,
    aki: bool = True,
    expired: bool = False,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None,
) -> tuple[bytes, bytes]:
    """An EE issued by ``ca`` with one profile rule broken; returns (key PEM, cert PEM)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=60 if expired else 0, minutes=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bad Signer")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca_true, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=key_cert_sign,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    if aki:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
            critical=False,
        )
    cert = builder.sign(ca.private_key, hashes.SHA384())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


EMAIL = [ExtendedKeyUsageOID.EMAIL_PROTECTION]
# Each case breaks one rule c2pa-rs enforces (notes/c2pa.md §2.1).
BAD_END_ENTITIES: dict[str, tuple[dict[str, Any], str]] = {
    "ca-true": ({"ca_true": True, "ekus": EMAIL}, "CA:TRUE"),
    "no-eku": ({}, "no extended key usage"),
    "any-eku": ({"ekus": [ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]}, "anyExtendedKeyUsage"),
    "server-auth-only": ({"ekus": [ExtendedKeyUsageOID.SERVER_AUTH]}, "has none of"),
    "key-cert-sign": ({"ekus": EMAIL, "key_cert_sign": True}, "keyCertSign"),
    "no-aki": ({"ekus": EMAIL, "aki": False}, "no authority key identifier"),
    "expired": ({"ekus": EMAIL, "expired": True}, "expired"),
}


@pytest.mark.parametrize(
    ("algorithm", "key_type"),
    [
        (SigningAlgorithm.ES256, ec.EllipticCurvePublicKey),
        (SigningAlgorithm.ES384, ec.EllipticCurvePublicKey),
        (SigningAlgorithm.PS256, rsa.RSAPublicKey),
        (SigningAlgorithm.ED25519, ed25519.Ed25519PublicKey),
    ],
)
def test_issued_signer_follows_recommended_profile(
    ca: CertificateAuthority, algorithm: SigningAlgorithm, key_type: type
) -> None:
    identity = ca.issue_signer(common_name="S", organization="O", algorithm=algorithm)
    cert = identity.certificate
    assert identity.algorithm is algorithm
    assert isinstance(cert.public_key(), key_type)
    assert check_certificate_profile(identity.certificate_chain_pem) == []
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    ekus = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert {
        DOCUMENT_SIGNING_EKU,
        C2PA_CLAIM_SIGNING_EKU,
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
    } == ekus
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=366)
    # The chain holds the EE only: the root belongs in the verifier's trust anchors.
    assert len(x509.load_pem_x509_certificates(identity.certificate_chain_pem)) == 1


def test_ps256_uses_rsa_3072_and_pss(ca: CertificateAuthority) -> None:
    identity = ca.issue_signer(common_name="S", organization="O", algorithm=SigningAlgorithm.PS256)
    public = identity.certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == 3072
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    public.verify(identity.sign(b"claim"), b"claim", pss, hashes.SHA256())


def test_es256_signature_verifies(es256: SigningIdentity) -> None:
    public = es256.certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(es256.sign(b"claim"), b"claim", ec.ECDSA(hashes.SHA256()))


def test_ca_profile(ca: CertificateAuthority) -> None:
    cert = ca.certificate
    assert isinstance(ca.private_key.curve, ec.SECP384R1)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_identity_properties(es256: SigningIdentity) -> None:
    assert es256.subject == "O=Test Vendor,CN=Test Signer"
    assert len(es256.fingerprint) == 64
    assert es256.not_after > dt.datetime.now(dt.UTC)


def test_save_writes_private_key_0600(tmp_path: Path, es256: SigningIdentity) -> None:
    key_path, chain_path = tmp_path / "signer.key", tmp_path / "signer.pem"
    es256.save(key_path=key_path, chain_path=chain_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = SigningIdentity.from_files(key=key_path, chain=chain_path)
    assert loaded.fingerprint == es256.fingerprint


def test_encrypted_key_round_trip(tmp_path: Path, es256: SigningIdentity) -> None:
    key_path, chain_path = tmp_path / "signer.key", tmp_path / "signer.pem"
    es256.save(key_path=key_path, chain_path=chain_path, passphrase=PASSPHRASE)
    assert key_path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    loaded = SigningIdentity.from_files(key=key_path, chain=chain_path, passphrase=PASSPHRASE)
    assert loaded.fingerprint == es256.fingerprint
    assert loaded.algorithm is SigningAlgorithm.ES256


def test_wrong_or_missing_passphrase(tmp_path: Path, es256: SigningIdentity) -> None:
    key_path, chain_path = tmp_path / "signer.key", tmp_path / "signer.pem"
    es256.save(key_path=key_path, chain_path=chain_path, passphrase=PASSPHRASE)
    with pytest.raises(KeyMaterialError, match=re.escape(f"{key_path}: wrong passphrase")):
        SigningIdentity.from_files(key=key_path, chain=chain_path, passphrase=b"nope")
    with pytest.raises(KeyMaterialError, match="passphrase is needed"):
        SigningIdentity.from_files(key=key_path, chain=chain_path)


def test_existing_file_without_force(tmp_path: Path, es256: SigningIdentity) -> None:
    key_path, chain_path = tmp_path / "signer.key", tmp_path / "signer.pem"
    chain_path.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError, match="already exists"):
        es256.save(key_path=key_path, chain_path=chain_path)
    # Refused before anything was written: no orphan key next to the old chain.
    assert not key_path.exists()
    assert chain_path.read_bytes() == b"keep me"
    es256.save(key_path=key_path, chain_path=chain_path, force=True)
    assert SigningIdentity.from_files(key=key_path, chain=chain_path).subject == es256.subject


def test_key_chain_mismatch(es256: SigningIdentity) -> None:
    stranger = _key_pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(KeyMaterialError, match="does not match"):
        SigningIdentity.from_pem(key=stranger, chain=es256.certificate_chain_pem)


def test_not_pem(tmp_path: Path, es256: SigningIdentity) -> None:
    key_path = tmp_path / "junk.key"
    key_path.write_bytes(b"not a key")
    chain_path = tmp_path / "chain.pem"
    chain_path.write_bytes(es256.certificate_chain_pem)
    with pytest.raises(KeyMaterialError, match=re.escape(f"{key_path}: not a PEM private key")):
        SigningIdentity.from_files(key=key_path, chain=chain_path)
    with pytest.raises(KeyMaterialError, match="chain: not a PEM certificate chain"):
        SigningIdentity.from_pem(key=_key_pem(ec.generate_private_key(ec.SECP256R1())), chain=b"x")
    with pytest.raises(InputError, match="cannot read"):
        SigningIdentity.from_files(key=tmp_path / "missing.key", chain=chain_path)


@pytest.mark.parametrize("case", sorted(BAD_END_ENTITIES))
def test_bad_end_entity_is_reported_and_refused(ca: CertificateAuthority, case: str) -> None:
    options, problem = BAD_END_ENTITIES[case]
    key, cert = bad_end_entity(ca, **options)
    problems = check_certificate_profile(cert)
    assert any(problem in p for p in problems), problems
    with pytest.raises(KeyMaterialError, match=problem):
        SigningIdentity.from_pem(key=key, chain=cert)


def test_small_rsa_key_is_refused(ca: CertificateAuthority) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    key, cert = bad_end_entity(ca, ekus=EMAIL, key=small)
    assert any("1024 bits" in p for p in check_certificate_profile(cert))
    with pytest.raises(KeyMaterialError, match="1024 bits"):
        SigningIdentity.from_pem(key=key, chain=cert)


def test_profile_reports_missing_aki_and_unparseable_chain(ca: CertificateAuthority) -> None:
    assert check_certificate_profile(b"junk") == ["not a PEM certificate chain"]
    # The root is self-signed, so it needs no AKI, but as an EE it is a CA without EKU.
    problems = check_certificate_profile(ca.certificate_pem)
    assert any("CA:TRUE" in p for p in problems)


def test_issue_signer_refuses_long_validity(ca: CertificateAuthority) -> None:
    with pytest.raises(KeyMaterialError, match="valid_days"):
        ca.issue_signer(common_name="S", organization="O", valid_days=400)


def test_ca_save_and_load(tmp_path: Path, ca: CertificateAuthority) -> None:
    cert_path, key_path = tmp_path / "root.pem", tmp_path / "root.key"
    ca.save(cert_path=cert_path, key_path=key_path, passphrase=PASSPHRASE)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    loaded = CertificateAuthority.load(
        cert_path=cert_path, key_path=key_path, passphrase=PASSPHRASE
    )
    assert loaded.certificate == ca.certificate
    with pytest.raises(OutputExistsError):
        ca.save(cert_path=cert_path, key_path=key_path)
    with pytest.raises(KeyMaterialError, match="wrong passphrase"):
        CertificateAuthority.load(cert_path=cert_path, key_path=key_path, passphrase=b"bad")


def test_callback_signer_checks_algorithm_and_wraps_errors(es256: SigningIdentity) -> None:
    with pytest.raises(KeyMaterialError, match="not ps256"):
        CallbackSigner(
            algorithm=SigningAlgorithm.PS256,
            certificate_chain_pem=es256.certificate_chain_pem,
            callback=es256.sign,
        )

    def broken(data: bytes) -> bytes:
        raise ConnectionError("KMS unreachable")

    signer = CallbackSigner(
        algorithm=SigningAlgorithm.ES256,
        certificate_chain_pem=es256.certificate_chain_pem,
        callback=broken,
    )
    with pytest.raises(SigningError, match="KMS unreachable"):
        signer.sign(b"x")
