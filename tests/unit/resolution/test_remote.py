"""The remote resolver against real HTTP peers: retries, backoff, cache, allow-list, limits.

The happy path against the real service is in tests/unit/service and tests/cli; here a
scripted stdlib HTTP server plays services that fail in the ways the client must survive.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from provenance.errors import ResolutionError
from provenance.resolution import (
    REGISTRY_SCHEMA,
    ClientPolicy,
    IssuerRegistry,
    ManifestCache,
    RemoteResolver,
    decode_binding_value,
)
from provenance.watermark import ContentId

ALG = "org.avatar-provenance.luma-iss.1"
CONTENT_ID = ContentId.from_hex("00070000000000aa")
STORE = b"\x00\x00\x00\x10jumbfstore-bytes"

Answer = tuple[int, str, bytes]


class Script:
    """Answers per path prefix, consumed in order; the last one repeats."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {}
        self.requests: list[str] = []

    def on(self, prefix: str, *answers: Answer) -> None:
        self.answers[prefix] = list(answers)

    def answer(self, path: str) -> Answer:
        self.requests.append(path)
        for prefix, queue in self.answers.items():
            if path.startswith(prefix):
                return queue.pop(0) if len(queue) > 1 else queue[0]
        return 404, "application/json", b"{}"


def matches(manifest_id: str = CONTENT_ID.hex, endpoint: str | None = None) -> Answer:
    match: dict[str, object] = {"manifestId": manifest_id, "similarityScore": 100}
    if endpoint:
        match["endpoint"] = endpoint
    return 200, "application/json", json.dumps({"matches": [match]}).encode()


@pytest.fixture
def peer() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, kind, body = script.answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script
    server.shutdown()
    server.server_close()


def resolver_for(
    url: str, sleeps: list[float], *, retries: int = 2, **kwargs: object
) -> RemoteResolver:
    registry = IssuerRegistry.from_dict({
        "schema": REGISTRY_SCHEMA,
        "issuers": [{"issuer": CONTENT_ID.issuer, "vendor": "Acme", "service": url}],
        **kwargs,
    })  # fmt: skip
    policy = ClientPolicy(timeout_s=2, connect_timeout_s=1, retries=retries, backoff_s=0.1,
                          max_manifest_bytes=1024)  # fmt: skip
    return RemoteResolver(registry, policy=policy, sleep=sleeps.append)


def test_resolves_through_bybinding_then_manifests(peer: tuple[str, Script]) -> None:
    url, script = peer
    script.on("/matches/byBinding", matches())
    script.on("/manifests/", (200, "application/c2pa", STORE))
    with resolver_for(url, []) as resolver:
        found = resolver.resolve(CONTENT_ID, alg=ALG)
    assert found is not None
    assert (found.manifest_store, found.origin, found.vendor) == (STORE, url, "Acme")
    query = script.requests[0]
    assert "alg=org.avatar-provenance.luma-iss.1" in query
    value = query.split("value=")[1].split("&")[0].replace("%3D", "=").replace("%2B", "+")
    assert decode_binding_value(value.replace("%2F", "/")) == CONTENT_ID
    assert script.requests[1] == f"/manifests/{CONTENT_ID.hex}"


def test_5xx_is_retried_with_growing_backoff(peer: tuple[str, Script]) -> None:
    url, script = peer
    script.on("/matches/byBinding", (503, "text/plain", b"busy"), (502, "text/plain", b""),
              matches())  # fmt: skip
    script.on("/manifests/", (200, "application/c2pa", STORE))
    sleeps: list[float] = []
    with resolver_for(url, sleeps) as resolver:
        assert resolver.resolve(CONTENT_ID, alg=ALG) is not None
    assert len(sleeps) == 2
    assert 0.1 <= sleeps[0] <= 0.125 and 0.2 <= sleeps[1] <= 0.25


def test_a_service_failing_past_the_retries_is_a_resolution_error(
    peer: tuple[str, Script],
) -> None:
    url, script = peer
    script.on("/matches/byBinding", (500, "text/plain", b"down"))
    sleeps: list[float] = []
    with resolver_for(url, sleeps) as resolver, pytest.raises(ResolutionError, match="HTTP 500"):
        resolver.resolve(CONTENT_ID, alg=ALG)
    assert len(script.requests) == 3 and len(sleeps) == 2


def test_connection_refused_is_unreachable_after_retries() -> None:
    sleeps: list[float] = []
    with resolver_for("http://127.0.0.1:9", sleeps) as resolver:
        with pytest.raises(ResolutionError, match=r"unreachable.*after 3 attempts"):
            resolver.resolve(CONTENT_ID, alg=ALG)
    assert len(sleeps) == 2


def test_a_400_is_not_retried(peer: tuple[str, Script]) -> None:
    url, script = peer
    script.on("/matches/byBinding", (400, "application/json", b'{"error": "bad"}'))
    with resolver_for(url, []) as resolver, pytest.raises(ResolutionError, match="HTTP 400"):
        resolver.resolve(CONTENT_ID, alg=ALG)
    assert len(script.requests) == 1


def test_no_match_is_none_and_cached_briefly(peer: tuple[str, Script]) -> None:
    url, script = peer
    script.on("/matches/byBinding", (200, "application/json", b'{"matches": []}'))
    with resolver_for(url, []) as resolver:
        assert resolver.resolve(CONTENT_ID, alg=ALG) is None
        assert resolver.resolve(CONTENT_ID, alg=ALG) is None
    assert len(script.requests) == 1


def test_found_stores_are_cached_in_memory_and_on_disk(
    peer: tuple[str, Script], tmp_path: Path
) -> None:
    url, script = peer
    script.on("/matches/byBinding", matches())
    script.on("/manifests/", (200, "application/c2pa", STORE))
    with resolver_for(url, []) as resolver:
        resolver.cache = ManifestCache(directory=tmp_path)
        assert resolver.resolve(CONTENT_ID, alg=ALG) is not None
        assert resolver.resolve(CONTENT_ID, alg=ALG) is not None
    assert len(script.requests) == 2
    with resolver_for(url, []) as fresh:  # a new process: the disk cache answers
        fresh.cache = ManifestCache(directory=tmp_path)
        found = fresh.resolve(CONTENT_ID, alg=ALG)
    assert found is not None and found.manifest_store == STORE
    assert len(script.requests) == 2


def test_an_endpoint_off_the_allow_list_is_refused(peer: tuple[str, Script]) -> None:
    url, script = peer
    script.on("/matches/byBinding", matches(endpoint="http://evil.example"))
    with resolver_for(url, []) as resolver, pytest.raises(ResolutionError, match="allow-list"):
        resolver.resolve(CONTENT_ID, alg=ALG)
    assert all(not r.startswith("/manifests") for r in script.requests)


def test_an_allowed_other_endpoint_is_followed(peer: tuple[str, Script]) -> None:
    url, script = peer
    mirror = f"{url}/mirror"
    script.on("/matches/byBinding", matches(endpoint=mirror))
    script.on("/mirror/manifests/", (200, "application/c2pa", STORE))
    with resolver_for(url, [], allowed_services=[mirror]) as resolver:
        found = resolver.resolve(CONTENT_ID, alg=ALG)
    assert found is not None and found.origin == mirror


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((200, "application/json", b"[1]"), "not a JSON object"),
        ((200, "application/json", b"nope"), "not JSON"),
        ((200, "application/json", b'{"matches": [{}]}'), "no manifestId"),
    ],
)
def test_malformed_answers_are_resolution_errors(
    peer: tuple[str, Script], answer: Answer, message: str
) -> None:
    url, script = peer
    script.on("/matches/byBinding", answer)
    with resolver_for(url, []) as resolver, pytest.raises(ResolutionError, match=message):
        resolver.resolve(CONTENT_ID, alg=ALG)


def test_oversized_manifests_are_refused(peer: tuple[str, Script]) -> None:
    url, script = peer
    script.on("/matches/byBinding", matches())
    script.on("/manifests/", (200, "application/c2pa", b"x" * 4096))
    with resolver_for(url, []) as resolver, pytest.raises(ResolutionError, match="larger than"):
        resolver.resolve(CONTENT_ID, alg=ALG)


def test_an_unregistered_issuer_names_the_issuer() -> None:
    other = ContentId.from_hex("0008000000000001")
    resolver: Callable[..., RemoteResolver] = resolver_for
    with resolver("http://127.0.0.1:9", []) as r, pytest.raises(ResolutionError, match="issuer 8"):
        r.resolve(other, alg=ALG)
