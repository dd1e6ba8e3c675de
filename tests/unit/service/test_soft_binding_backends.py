"""The resolution API over each repository backend (SQLite and PostgreSQL), one connection per
server thread, on a real uvicorn server."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from provenance.repository import ManifestRecord, open_repository
from provenance.resolution import encode_binding_value
from provenance.service import (
    ServiceConfig,
    SoftBindingService,
    ThreadRepositories,
    build_app,
    start_in_thread,
)

LUMA = "org.avatar-provenance.luma-iss.1"


def test_resolution_api_serves_records_of_every_backend(repository_url: str) -> None:
    with open_repository(repository_url) as repository:
        content_id = repository.reserve(0x0102)
        repository.complete(ManifestRecord(
            content_id=content_id, manifest_store=b"store-bytes-" + content_id.to_bytes(),
            mime="image/jpeg", face_id="face-b", license_id="lic_b", watermark_alg=LUMA,
            asset_sha256="0" * 64, created_at=datetime.now(UTC),
        ))  # fmt: skip
    repositories = ThreadRepositories(lambda: open_repository(repository_url, create=False))
    config = ServiceConfig(soft_binding=SoftBindingService(repositories), workers=2,
                           on_shutdown=repositories.close)  # fmt: skip
    server = start_in_thread(build_app(config))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            value = encode_binding_value(content_id)
            found = client.get("/matches/byBinding", params={"alg": LUMA, "value": value})
            assert found.json()["matches"][0]["manifestId"] == content_id.hex
            store = client.get(f"/manifests/{content_id.hex}")
            assert store.content == b"store-bytes-" + content_id.to_bytes()
            assert client.get("/healthz").json()["manifests"] == 1
    finally:
        server.stop()
