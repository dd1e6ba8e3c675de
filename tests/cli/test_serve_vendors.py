"""Two vendors, one platform: stripped re-encoded clips verify through the vendors' services.

Each vendor workspace runs ``provenance serve`` in its own process on loopback; the platform
verifies with no repository of its own, only an issuer registry naming both services and the
vendors' root CAs. Re-encoding and stripping use the real ffmpeg command line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from provenance.cli.main import cli
from provenance.resolution import REGISTRY_SCHEMA
from provenance.workspace import Workspace

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg (make setup)")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def make_vendor(root: Path, vendor: str, face_id: str, clip: Path) -> dict[str, Any]:
    """Init a workspace, grant a license, stamp ``clip``; the stamp's facts and label."""
    assert invoke("init", str(root), "--vendor", vendor).exit_code == 0
    until = (date.today() + timedelta(days=365)).isoformat()
    license_file = root / "license.json"
    granted = invoke("-w", str(root), "license", "grant", "--face-id", face_id,
                     "--allow", "education", "--territory", "EU,US", "--until", until,
                     "-o", str(license_file))  # fmt: skip
    assert granted.exit_code == 0, granted.output
    out = root / "signed.mp4"
    stamped = invoke("-w", str(root), "stamp", str(clip), "-o", str(out), "--license",
                     str(license_file), "--purpose", "education", "--preset", "veryfast",
                     "--json")  # fmt: skip
    assert stamped.exit_code == 0, stamped.output
    original = invoke("-w", str(root), "verify", str(out), "--json")
    assert original.exit_code == 0, original.output
    return {
        "workspace": Workspace.open(root),
        "signed": out,
        "stamp": json.loads(stamped.stdout),
        "label": json.loads(original.stdout)["manifest"]["label"],
    }


def strip_reencode(src: Path, dst: Path) -> Path:
    """What an upload pipeline does: re-encode, drop every bit of metadata."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-c:v", "libx264",
                    "-preset", "veryfast", "-crf", "23", "-map_metadata", "-1", str(dst)],
                   check=True)  # fmt: skip
    assert b"c2pa" not in dst.read_bytes()
    return dst


def write_registry(path: Path, *vendors: tuple[Workspace, str]) -> Path:
    issuers = [{"issuer": ws.settings.issuer, "vendor": ws.settings.vendor, "service": url}
               for ws, url in vendors]  # fmt: skip
    path.write_text(json.dumps({"schema": REGISTRY_SCHEMA, "issuers": issuers}))
    return path


@pytest.fixture(scope="module")
def vendors(
    tmp_path_factory: pytest.TempPathFactory, avatar_clip: Callable[..., Path]
) -> list[dict[str, Any]]:
    base = tmp_path_factory.mktemp("vendors")
    made = []
    for index, (vendor, face) in enumerate([("Acme Avatars", "face-acme-1"),
                                            ("Birch Digital Humans", "face-birch-7")]):  # fmt: skip
        clip = avatar_clip(base / f"src{index}.mp4", seconds=1.0, size=(480, 270), fps=25,
                           audio=False, seed=index)  # fmt: skip
        facts = make_vendor(base / f"vendor{index}", vendor, face, clip)
        facts["face"] = face
        facts["stripped"] = strip_reencode(facts["signed"], base / f"upload{index}.mp4")
        made.append(facts)
    assert made[0]["workspace"].settings.issuer != made[1]["workspace"].settings.issuer
    return made


def test_each_vendors_stripped_clip_verifies_through_its_own_service(
    vendors: list[dict[str, Any]], serve_process: Callable[..., Any], tmp_path: Path
) -> None:
    services = [serve_process("-w", str(v["workspace"].root), "serve") for v in vendors]
    registry = write_registry(
        tmp_path / "issuers.json",
        *((v["workspace"], s.url) for v, s in zip(vendors, services, strict=True)),
    )
    trust = [arg for v in vendors for arg in ("--trust", str(v["workspace"].root_ca_cert))]
    for vendor, service in zip(vendors, services, strict=True):
        result = invoke("verify", str(vendor["stripped"]), "--registry", str(registry),
                        *trust, "--json")  # fmt: skip
        report = json.loads(result.stdout)
        assert result.exit_code == 0, report["problems"]
        assert report["verdict"] == "verified"
        manifest = report["manifest"]
        assert manifest["recovered_via_watermark"] is True
        assert manifest["resolved_from"] == service.url
        assert manifest["validation_state"] == "Trusted"
        assert manifest["signer"] == f"{vendor['workspace'].settings.vendor} C2PA Signer"
        assert manifest["label"] == vendor["label"]
        assert report["watermark"]["payload"] == vendor["stamp"]["content_id"]
        assert report["likeness"]["face_id"] == vendor["face"]
        assert report["likeness"]["in_scope"] is True


def test_the_platforms_upload_verifier_resolves_both_vendors(
    vendors: list[dict[str, Any]], serve_process: Callable[..., Any], tmp_path: Path
) -> None:
    services = [serve_process("-w", str(v["workspace"].root), "serve") for v in vendors]
    registry = write_registry(
        tmp_path / "issuers.json",
        *((v["workspace"], s.url) for v, s in zip(vendors, services, strict=True)),
    )
    trust = [arg for v in vendors for arg in ("--trust", str(v["workspace"].root_ca_cert))]
    platform = serve_process("serve", "--verifier", "--registry", str(registry), *trust,
                             "--cache-dir", str(tmp_path / "cache"))  # fmt: skip
    assert httpx.get(platform.url + "/healthz").json() == {"status": "ok", "verifier": True}
    assert httpx.get(platform.url + "/manifests/0000000000000001").status_code == 404  # no API
    for vendor, service in zip(vendors, services, strict=True):
        answer = httpx.post(f"{platform.url}/verify", params={"filename": "clip.mp4"},
                            content=vendor["stripped"].read_bytes(), timeout=120)  # fmt: skip
        report = answer.json()
        assert answer.status_code == 200 and report["verdict"] == "verified", report
        assert report["manifest"]["resolved_from"] == service.url
        assert report["manifest"]["label"] == vendor["label"]
        assert report["likeness"]["face_id"] == vendor["face"]
    assert len(list((tmp_path / "cache").rglob("*.c2pa"))) == 2


def test_a_vendor_trusted_only_for_the_other_vendors_ca_fails_trust(
    vendors: list[dict[str, Any]], serve_process: Callable[..., Any], tmp_path: Path
) -> None:
    acme, birch = vendors
    service = serve_process("-w", str(birch["workspace"].root), "serve")
    registry = write_registry(tmp_path / "issuers.json", (birch["workspace"], service.url))
    result = invoke("verify", str(birch["stripped"]), "--registry", str(registry),
                    "--trust", str(acme["workspace"].root_ca_cert), "--json")  # fmt: skip
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["manifest"]["resolved_from"] == service.url
    assert any(c["name"] == "manifest.trust" and c["status"] == "fail" for c in report["checks"])


def test_an_unreachable_service_gives_could_not_resolve_not_a_crash(
    vendors: list[dict[str, Any]], serve_process: Callable[..., Any], tmp_path: Path
) -> None:
    acme = vendors[0]
    service = serve_process("-w", str(acme["workspace"].root), "serve")
    url = service.url
    service.stop()  # the port is now closed: connection refused
    registry = write_registry(tmp_path / "issuers.json", (acme["workspace"], url))
    result = invoke("verify", str(acme["stripped"]), "--registry", str(registry),
                    "--trust", str(acme["workspace"].root_ca_cert), "--json")  # fmt: skip
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "failed"
    assert report["synthetic"] is True  # the watermark alone says so
    content_id = acme["stamp"]["content_id"]
    assert report["problems"][0].startswith(f"could not resolve watermark {content_id}")
    assert "unreachable" in report["manifest"]["resolution_error"]
    human = invoke("verify", str(acme["stripped"]), "--registry", str(registry))
    assert human.exit_code == 1
    assert "could not resolve" in human.stdout


def test_an_issuer_missing_from_the_registry_is_named(
    vendors: list[dict[str, Any]], tmp_path: Path
) -> None:
    acme, birch = vendors
    registry = write_registry(tmp_path / "issuers.json", (birch["workspace"], "http://127.0.0.1:9"))
    result = invoke("verify", str(acme["stripped"]), "--registry", str(registry), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    issuer = acme["workspace"].settings.issuer
    assert f"issuer {issuer}" in report["manifest"]["resolution_error"]


def test_a_bad_registry_file_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "issuers.json"
    bad.write_text('{"schema": "something else"}')
    frame = tmp_path / "f.png"
    frame.write_bytes(b"\x89PNG")
    result = invoke("verify", str(frame), "--registry", str(bad))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert str(bad) in result.stderr and "not an issuer registry" in result.stderr
