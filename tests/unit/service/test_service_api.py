"""The service on a real uvicorn server (in a thread): resolution API, health, metrics, uploads,
and the SDK verifier resolving through it."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image

from provenance import _c2pa
from provenance.consent import grant_license
from provenance.owner import OwnerKey
from provenance.resolution import (
    REGISTRY_SCHEMA,
    IssuerRegistry,
    RemoteResolver,
    encode_binding_value,
)
from provenance.service import (
    RunningServer,
    ServiceConfig,
    SoftBindingService,
    ThreadRepositories,
    UploadVerifier,
    build_app,
    start_in_thread,
)
from provenance.stamp import Stamper, stamp_file
from provenance.verify import Verifier
from provenance.watermark import ContentId
from provenance.workspace import Workspace

LUMA = "org.avatar-provenance.luma-iss.1"


@dataclass
class Stamped:
    workspace: Workspace
    content_id: ContentId
    signed: Path
    stripped: Path


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> Stamped:
    from provenance.media.synthetic import avatar_frame

    base = tmp_path_factory.mktemp("service")
    workspace = Workspace.create(base / "studio", vendor="Service Studio")
    license = grant_license(
        owner_key=OwnerKey.generate(), owner_name="Ada", face_id="face-svc",
        licensee=workspace.settings.vendor, allow=["education"], deny=["politics"],
        territories=["EU"], not_after=date.today() + timedelta(days=30),
        intended_uses="Lecture videos for an online physics course",
    )  # fmt: skip
    source = base / "frame.png"
    Image.fromarray(avatar_frame(360, 640, seed=3)).save(source)
    signed = base / "signed.jpg"
    stamper = Stamper.from_workspace(workspace)
    try:
        result = stamp_file(stamper, source, signed, license=license, purpose="education")
    finally:
        stamper.close()
    stripped = base / "stripped.jpg"
    Image.open(signed).save(stripped, quality=88)  # re-encoded: the manifest is gone
    return Stamped(workspace, result.content_id, signed, stripped)


@pytest.fixture(scope="module")
def server(stamped: Stamped) -> Iterator[RunningServer]:
    repositories = ThreadRepositories(stamped.workspace.repository)
    config = ServiceConfig(
        soft_binding=SoftBindingService(repositories),
        uploads=UploadVerifier(trust=stamped.workspace.trust_anchors(), resolver=None,
                               repositories=repositories),
        vendor="Service Studio", issuer=stamped.workspace.settings.issuer,
        workers=2, max_upload_bytes=2 * 1024 * 1024, on_shutdown=repositories.close,
    )  # fmt: skip
    running = start_in_thread(build_app(config))
    yield running
    running.stop()


@pytest.fixture
def get(server: RunningServer) -> Iterator[Callable[..., httpx.Response]]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client.get


def test_supported_algorithms_lists_our_watermarks(get: Callable[..., httpx.Response]) -> None:
    answer = get("/services/supportedAlgorithms")
    assert answer.status_code == 200
    body = answer.json()
    assert {"alg": LUMA} in body["watermarks"] and body["fingerprints"] == []


def test_by_binding_get_and_post_find_the_manifest(
    server: RunningServer, stamped: Stamped, get: Callable[..., httpx.Response]
) -> None:
    value = encode_binding_value(stamped.content_id)
    expected = {"matches": [{"manifestId": stamped.content_id.hex, "similarityScore": 100}]}
    answer = get("/matches/byBinding", params={"alg": LUMA, "value": value})
    assert answer.status_code == 200 and answer.json() == expected
    assert answer.headers["access-control-allow-origin"] == "*"
    posted = httpx.post(f"{server.url}/matches/byBinding", json={"alg": LUMA, "value": value})
    assert posted.json() == expected


def test_by_binding_misses_and_bad_queries(
    stamped: Stamped, get: Callable[..., httpx.Response]
) -> None:
    unknown = encode_binding_value(ContentId.from_hex("00ff000000000001"))
    assert get("/matches/byBinding", params={"alg": LUMA, "value": unknown}).json() == {
        "matches": []
    }
    value = encode_binding_value(stamped.content_id)
    other_alg = "org.avatar-provenance.imwatermark.dwtdctsvd.1"  # supported, but not this stamp's
    assert get("/matches/byBinding", params={"alg": other_alg, "value": value}).json() == {
        "matches": []
    }
    for params in ({"alg": "com.example.x", "value": value}, {"alg": LUMA, "value": "AAAA"},
                   {"alg": LUMA}, {"alg": LUMA, "value": value, "maxResults": "0"},
                   {"alg": LUMA, "value": value, "maxResults": "x"}):  # fmt: skip
        answer = get("/matches/byBinding", params=params)
        assert answer.status_code == 400, params
        assert answer.json()["error"]


def test_manifests_returns_a_store_c2pa_reads(
    stamped: Stamped, get: Callable[..., httpx.Response]
) -> None:
    answer = get(f"/manifests/{stamped.content_id.hex}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/c2pa"
    reading = _c2pa.read_store(answer.content, trust=stamped.workspace.trust_anchors())
    embedded = _c2pa.read(mime="image/jpeg", asset=stamped.signed.read_bytes(),
                          trust=stamped.workspace.trust_anchors())  # fmt: skip
    assert embedded is not None and reading.label == embedded.label
    assert get("/manifests/00ff000000000001").status_code == 404
    assert get("/manifests/not-an-id").status_code == 400


def test_healthz_and_metrics(stamped: Stamped, get: Callable[..., httpx.Response]) -> None:
    health = get("/healthz").json()
    assert health == {"status": "ok", "verifier": True, "vendor": "Service Studio",
                      "issuer": stamped.workspace.settings.issuer, "manifests": 1}  # fmt: skip
    get(f"/manifests/{stamped.content_id.hex}")
    text = get("/metrics").text
    assert "# TYPE provenance_http_requests_total counter" in text
    served = [line for line in text.splitlines()
              if line.startswith("provenance_manifests_served_total ")]  # fmt: skip
    assert served and int(served[0].split()[1]) >= 1
    assert 'provenance_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"}' in text


def test_upload_raw_and_multipart_return_the_verify_json(
    server: RunningServer, stamped: Stamped
) -> None:
    data = stamped.stripped.read_bytes()
    raw = httpx.post(f"{server.url}/verify", params={"filename": "dir/../up.jpg"}, content=data,
                     timeout=60)  # fmt: skip
    assert raw.status_code == 200
    report = raw.json()
    assert report["schema"] == "avatar-provenance/verify-report/v1"
    assert report["file"] == "up.jpg" and report["verdict"] == "verified"
    assert raw.headers["x-provenance-verdict"] == "verified"
    assert report["manifest"]["recovered_via_watermark"] is True
    assert report["manifest"]["resolved_from"] is None  # the local repository answered
    form = httpx.post(f"{server.url}/verify", params={"thumbnail": "1"},
                      files={"file": ("frame.jpg", data, "image/jpeg")}, timeout=60)  # fmt: skip
    body = form.json()
    assert body["report"]["verdict"] == "verified" and body["report"]["file"] == "frame.jpg"
    prefix = "data:image/jpeg;base64,"
    assert body["thumbnail"].startswith(prefix)
    thumb = Image.open(io.BytesIO(base64.b64decode(body["thumbnail"][len(prefix):])))
    assert max(thumb.size) == 320


def test_bad_uploads_are_refused_with_a_reason(server: RunningServer) -> None:
    text = httpx.post(f"{server.url}/verify", content=b"hello, not media", timeout=30)
    assert text.status_code == 415 and "upload" in text.json()["error"]
    empty = httpx.post(f"{server.url}/verify", content=b"", timeout=30)
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    big = httpx.post(f"{server.url}/verify", content=b"\0" * (3 * 1024 * 1024), timeout=30)
    assert big.status_code == 413
    nofile = httpx.post(f"{server.url}/verify", files={"other": ("a", b"b")}, timeout=30)
    assert nofile.status_code == 400


def test_the_sdk_verifier_resolves_a_stripped_file_through_the_service(
    server: RunningServer, stamped: Stamped, tmp_path: Path
) -> None:
    ws = stamped.workspace
    registry = IssuerRegistry.from_dict({"schema": REGISTRY_SCHEMA, "issuers": [
        {"issuer": ws.settings.issuer, "vendor": ws.settings.vendor, "service": server.url}]})
    with RemoteResolver(registry) as resolver:
        report = Verifier(trust=ws.trust_anchors(), resolver=resolver).verify_file(
            stamped.stripped
        )
    assert report.verdict.value == "verified", report.problems
    assert report.manifest.resolved_from == server.url
    assert report.likeness.face_id == "face-svc"
    detail = next(c.detail for c in report.checks if c.name == "manifest.resolved")
    assert detail.startswith(f"manifest recovered from Service Studio ({server.url})")
    assert json.loads(report.to_json())["manifest"]["resolution_error"] is None
