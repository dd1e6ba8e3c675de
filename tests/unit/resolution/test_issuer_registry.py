"""Issuer registry file, allow-list normalisation and the byBinding value codec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.errors import InputError
from provenance.resolution import (
    REGISTRY_SCHEMA,
    IssuerRegistry,
    decode_binding_value,
    encode_binding_value,
    normalize_service_url,
)
from provenance.watermark import ContentId


def write(tmp_path: Path, body: object) -> Path:
    path = tmp_path / "issuers.json"
    path.write_text(json.dumps(body))
    return path


def test_registry_maps_issuers_to_services_and_allows_only_those(tmp_path: Path) -> None:
    path = write(tmp_path, {
        "schema": REGISTRY_SCHEMA,
        "issuers": [{"issuer": 7, "vendor": "Acme", "service": "HTTPS://Resolve.Acme.example/v1/"}],
        "allowed_services": ["https://mirror.acme.example"],
    })  # fmt: skip
    registry = IssuerRegistry.load(path)
    entry = registry.lookup(7)
    assert entry is not None
    assert entry.service == "https://resolve.acme.example/v1"
    assert registry.lookup(8) is None
    assert registry.allows("https://resolve.acme.example/v1")
    assert registry.allows("https://mirror.acme.example/")
    assert not registry.allows("https://resolve.acme.example/v2")
    assert not registry.allows("https://evil.example/v1")
    assert not registry.allows("not a url")
    assert IssuerRegistry.from_dict(registry.to_dict()).to_dict() == registry.to_dict()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"schema": "x"}, "not an issuer registry"),
        ({"schema": REGISTRY_SCHEMA, "issuers": {}}, "must be lists"),
        ({"schema": REGISTRY_SCHEMA, "issuers": [{"issuer": 70000, "vendor": "a",
                                                  "service": "http://a"}]}, "16-bit"),
        ({"schema": REGISTRY_SCHEMA, "issuers": [{"issuer": 1, "vendor": "",
                                                  "service": "http://a"}]}, "vendor"),
        ({"schema": REGISTRY_SCHEMA, "issuers": [{"issuer": 1, "vendor": "a",
                                                  "service": "ftp://a"}]}, "not an http(s) URL"),
        ({"schema": REGISTRY_SCHEMA, "issuers": [{"issuer": 1, "vendor": "a",
                                                  "service": "http://a?x=1"}]}, "plain base URL"),
        ({"schema": REGISTRY_SCHEMA, "issuers": [
            {"issuer": 1, "vendor": "a", "service": "http://a"},
            {"issuer": 1, "vendor": "b", "service": "http://b"}]}, "listed twice"),
    ],
)  # fmt: skip
def test_bad_registries_name_the_file_and_the_problem(
    tmp_path: Path, body: object, message: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(InputError) as caught:
        IssuerRegistry.load(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_missing_and_non_json_registries(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such issuer registry"):
        IssuerRegistry.load(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(InputError, match="not JSON"):
        IssuerRegistry.load(bad)


def test_service_urls_normalise() -> None:
    assert normalize_service_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert normalize_service_url("http://[::1]:80/api/") == "http://[::1]:80/api"
    with pytest.raises(InputError, match="invalid port"):
        normalize_service_url("http://a:99999")


def test_binding_value_round_trips_and_rejects_other_lengths() -> None:
    content_id = ContentId.from_hex("0001a1b2c3d4e5f6")
    value = encode_binding_value(content_id)
    assert value == "AAGhssPU5fY="
    assert decode_binding_value(value) == content_id
    assert decode_binding_value("AAGhssPU5fY") == content_id  # unpadded
    with pytest.raises(InputError, match="8 bytes"):
        decode_binding_value("AAGh")
    with pytest.raises(InputError, match="not base64"):
        decode_binding_value("***")
