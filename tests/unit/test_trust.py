"""Trust anchors."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes

from provenance.errors import InputError, KeyMaterialError
from provenance.identity import CertificateAuthority
from provenance.trust import TrustAnchors


@pytest.fixture(scope="module")
def roots() -> tuple[CertificateAuthority, CertificateAuthority]:
    return (
        CertificateAuthority.generate(common_name="Root A", organization="A"),
        CertificateAuthority.generate(common_name="Root B", organization="B"),
    )


def test_from_pem_single_and_bundle(roots: tuple[CertificateAuthority, ...]) -> None:
    a, b = roots
    one = TrustAnchors.from_pem(a.certificate_pem)
    assert one and len(one) == 1
    assert one.fingerprints == (a.certificate.fingerprint(hashes.SHA256()).hex(),)
    both = TrustAnchors.from_pem(a.certificate_pem + b.certificate_pem + a.certificate_pem)
    assert len(both) == 2  # duplicates collapse
    assert TrustAnchors.from_pem(both.pem) == both


def test_none_is_falsy() -> None:
    none = TrustAnchors.none()
    assert not none
    assert none.pem == b""
    assert none.fingerprints == ()


def test_from_pem_without_certificate_names_source() -> None:
    with pytest.raises(KeyMaterialError, match=r"anchors\.pem: no PEM certificate"):
        TrustAnchors.from_pem(b"nothing here", source="anchors.pem")


def test_from_files(tmp_path: Path, roots: tuple[CertificateAuthority, ...]) -> None:
    a, b = roots
    (tmp_path / "a.pem").write_bytes(a.certificate_pem)
    (tmp_path / "b.pem").write_bytes(b.certificate_pem)
    anchors = TrustAnchors.from_files(tmp_path / "a.pem", tmp_path / "b.pem")
    assert anchors == TrustAnchors.from_pem(a.certificate_pem + b.certificate_pem)
    (tmp_path / "empty.pem").write_bytes(b"")
    with pytest.raises(KeyMaterialError, match=r"empty\.pem"):
        TrustAnchors.from_files(tmp_path / "empty.pem")
    with pytest.raises(InputError, match="cannot read"):
        TrustAnchors.from_files(tmp_path / "missing.pem")
    with pytest.raises(InputError, match="none"):
        TrustAnchors.from_files()
