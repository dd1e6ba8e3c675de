"""The c2pa adapter, end to end with real c2pa, real keys and media made by Pillow."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from provenance import _c2pa
from provenance._c2pa import ManifestReading, SignedAsset, ValidationState
from provenance.errors import ManifestError, SigningError, UnsupportedMediaError
from provenance.identity import (
    CallbackSigner,
    CertificateAuthority,
    Signer,
    SigningAlgorithm,
    SigningIdentity,
    check_certificate_profile,
)
from provenance.trust import TrustAnchors

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
DEFINITION: dict[str, Any] = {
    "claim_generator_info": [{"name": "avatar-provenance-tests", "version": "0.1.0"}],
    "assertions": [
        {
            "label": "c2pa.actions.v2",
            "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": TRAINED}]},
        }
    ],
}
PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


def _image(mime: str, *, seed: int = 0) -> bytes:
    # Noise, so JPEG scan data is long enough to tamper with in the middle.
    pixels = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, PIL_FORMATS[mime])
    return buffer.getvalue()


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.generate(common_name="Test Root", organization="Test Vendor")


@pytest.fixture(scope="module")
def anchors(ca: CertificateAuthority) -> TrustAnchors:
    return TrustAnchors.from_pem(ca.certificate_pem)


@pytest.fixture(scope="module")
def es256(ca: CertificateAuthority) -> SigningIdentity:
    return ca.issue_signer(common_name="Test Signer", organization="Test Vendor")


@pytest.fixture(scope="module")
def signed_jpeg(es256: SigningIdentity) -> SignedAsset:
    return _c2pa.sign(DEFINITION, es256, mime="image/jpeg", asset=_image("image/jpeg"))


def _read(mime: str, asset: bytes, trust: TrustAnchors, **kwargs: Any) -> ManifestReading:
    reading = _c2pa.read(mime=mime, asset=asset, trust=trust, **kwargs)
    assert reading is not None
    return reading


def _assert_trusted_and_untrusted(
    signer: Signer, mime: str, anchors: TrustAnchors
) -> ManifestReading:
    signed = _c2pa.sign(DEFINITION, signer, mime=mime, asset=_image(mime))
    trusted = _read(mime, signed.asset, anchors)
    assert trusted.state is ValidationState.TRUSTED, trusted.failures
    assert trusted.failures == ()
    untrusted = _read(mime, signed.asset, TrustAnchors.none())
    assert untrusted.state is ValidationState.VALID
    assert untrusted.failure_codes == ("signingCredential.untrusted",)
    return trusted


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
def test_png_each_algorithm(
    ca: CertificateAuthority, anchors: TrustAnchors, algorithm: SigningAlgorithm
) -> None:
    identity = ca.issue_signer(
        common_name="Signer", organization="Test Vendor", algorithm=algorithm
    )
    reading = _assert_trusted_and_untrusted(identity, "image/png", anchors)
    assert reading.signer_common_name == "Signer"
    assert reading.signer_issuer == "Test Vendor"


@pytest.mark.parametrize("mime", ["image/jpeg", "image/webp"])
def test_other_image_formats(es256: SigningIdentity, anchors: TrustAnchors, mime: str) -> None:
    _assert_trusted_and_untrusted(es256, mime, anchors)


def test_reading_fields(signed_jpeg: SignedAsset, anchors: TrustAnchors) -> None:
    reading = _read("image/jpeg", signed_jpeg.asset, anchors)
    assert reading.label.startswith("urn:c2pa:")
    actions = reading.assertions["c2pa.actions.v2"]["actions"]
    assert actions[0]["action"] == "c2pa.created"
    assert actions[0]["digitalSourceType"] == TRAINED
    assert reading.claim_generator == "avatar-provenance-tests/0.1.0"
    assert "assertion.dataHash.match" in {entry.code for entry in reading.successes}
    assert reading.raw["active_manifest"] == reading.label
    # Thumbnails are off: frames are signed by the thousand.
    assert not any(label.startswith("c2pa.thumbnail") for label in reading.assertions)


def test_callback_signer_with_external_key(ca: CertificateAuthority, anchors: TrustAnchors) -> None:
    # Stand-in for a KMS: the key lives outside the SDK and only the callback sees it.
    template = ca.issue_signer(common_name="KMS Signer", organization="Test Vendor")
    kms_key = template._key
    assert isinstance(kms_key, ec.EllipticCurvePrivateKey)
    calls: list[int] = []

    def kms_sign(data: bytes) -> bytes:
        calls.append(len(data))
        return kms_key.sign(data, ec.ECDSA(hashes.SHA256()))

    signer = CallbackSigner(
        algorithm=SigningAlgorithm.ES256,
        certificate_chain_pem=template.certificate_chain_pem,
        callback=kms_sign,
    )
    _assert_trusted_and_untrusted(signer, "image/png", anchors)
    assert len(calls) == 1


def test_failing_callback_is_a_signing_error(es256: SigningIdentity) -> None:
    def unreachable(data: bytes) -> bytes:
        raise ConnectionError("KMS unreachable")

    signer = CallbackSigner(
        algorithm=SigningAlgorithm.ES256,
        certificate_chain_pem=es256.certificate_chain_pem,
        callback=unreachable,
    )
    with pytest.raises(SigningError, match="KMS unreachable"):
        _c2pa.sign(DEFINITION, signer, mime="image/png", asset=_image("image/png"))


def _flip_scan_byte(jpeg: bytes) -> bytes:
    start_of_scan = jpeg.rindex(b"\xff\xda")
    header_length = int.from_bytes(jpeg[start_of_scan + 2 : start_of_scan + 4], "big")
    index = (start_of_scan + 2 + header_length + len(jpeg)) // 2
    # Avoid marker bytes and stuffing so the file still parses as JPEG.
    while jpeg[index] in (0x00, 0xFE, 0xFF) or jpeg[index - 1] == 0xFF:
        index += 1
    data = bytearray(jpeg)
    data[index] ^= 0x01
    return bytes(data)


def test_flipped_scan_byte_is_invalid(signed_jpeg: SignedAsset, anchors: TrustAnchors) -> None:
    reading = _read("image/jpeg", _flip_scan_byte(signed_jpeg.asset), anchors)
    assert reading.state is ValidationState.INVALID
    assert "assertion.dataHash.mismatch" in reading.failure_codes


def test_reencoded_copy_against_detached_store(
    signed_jpeg: SignedAsset, anchors: TrustAnchors
) -> None:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(signed_jpeg.asset)).save(buffer, "JPEG", quality=80)
    reencoded = buffer.getvalue()
    # Re-encoding strips the embedded manifest.
    assert _c2pa.read(mime="image/jpeg", asset=reencoded, trust=anchors) is None
    reading = _read("image/jpeg", reencoded, anchors, manifest_store=signed_jpeg.manifest_store)
    assert reading.state is ValidationState.INVALID
    assert "assertion.dataHash.mismatch" in reading.failure_codes


def test_unsigned_png_reads_none(anchors: TrustAnchors) -> None:
    assert _c2pa.read(mime="image/png", asset=_image("image/png"), trust=anchors) is None


def test_corrupt_inputs_raise_manifest_error(
    signed_jpeg: SignedAsset, anchors: TrustAnchors
) -> None:
    with pytest.raises(ManifestError):
        _c2pa.read(mime="image/jpeg", asset=b"\xff\xd8 not really a jpeg", trust=anchors)
    with pytest.raises(ManifestError):
        _c2pa.read(
            mime="image/jpeg",
            asset=_image("image/jpeg"),
            trust=anchors,
            manifest_store=b"garbage",
        )


def test_unsupported_mime(es256: SigningIdentity, anchors: TrustAnchors) -> None:
    with pytest.raises(UnsupportedMediaError):
        _c2pa.sign(DEFINITION, es256, mime="text/plain", asset=b"hello")
    with pytest.raises(UnsupportedMediaError):
        _c2pa.read(mime="text/plain", asset=b"hello", trust=anchors)


def test_manifest_without_created_action_is_refused(es256: SigningIdentity) -> None:
    definition = {"claim_generator_info": DEFINITION["claim_generator_info"], "assertions": []}
    definition["assertions"] = [
        {"label": "c2pa.actions.v2", "data": {"actions": [{"action": "c2pa.edited"}]}}
    ]
    with pytest.raises(ManifestError, match="first action must be created or opened"):
        _c2pa.sign(definition, es256, mime="image/png", asset=_image("image/png"))


def test_tsa_url_must_be_http(es256: SigningIdentity) -> None:
    with pytest.raises(SigningError, match="must be http"):
        _c2pa.sign(DEFINITION, es256, mime="image/png", asset=b"", tsa_url="ftp://tsa.example")


class _UncheckedSigner:
    """A Signer that skips our profile check, to see what c2pa itself does with a chain."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, chain_pem: bytes) -> None:
        self._key, self._chain = key, chain_pem

    @property
    def algorithm(self) -> SigningAlgorithm:
        return SigningAlgorithm.ES256

    @property
    def certificate_chain_pem(self) -> bytes:
        return self._chain

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("ca_true", [True, False], ids=["ca-true", "no-eku"])
def test_c2pa_agrees_with_profile_check(ca: CertificateAuthority, ca_true: bool) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bad")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca_true, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
            critical=False,
        )
    )
    if ca_true:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
    chain = builder.sign(ca.private_key, hashes.SHA384()).public_bytes(serialization.Encoding.PEM)
    assert check_certificate_profile(chain)
    with pytest.raises(SigningError, match="certificate"):
        _c2pa.sign(
            DEFINITION, _UncheckedSigner(key, chain), mime="image/png", asset=_image("image/png")
        )
