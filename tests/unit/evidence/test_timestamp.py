"""RFC 3161 time-stamps of evidence bundles, against a TSA running on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from local_tsa import LocalTsa, local_tsa

from provenance.errors import TimestampError
from provenance.evidence import (
    ExamineSettings,
    Observation,
    Signing,
    examine_all,
    find_suspects,
    verify_bundle,
    write_bundle,
)
from provenance.evidence._tsa import check_timestamp, request_timestamp
from provenance.owner import OwnerKey
from provenance.trust import TrustAnchors


@pytest.fixture(scope="module")
def tsa() -> Iterator[LocalTsa]:
    with local_tsa() as running:
        yield running


def test_token_checks_against_its_root_and_data(tsa: LocalTsa) -> None:
    stamp = request_timestamp(tsa.url, b"signature bytes")
    assert check_timestamp(stamp, b"signature bytes").trusted is None
    assert check_timestamp(stamp, b"signature bytes", roots=[tsa.root]).trusted is True
    assert check_timestamp(stamp, b"other bytes", roots=[tsa.root]).problem
    with local_tsa() as stranger:
        untrusted = check_timestamp(stamp, b"signature bytes", roots=[stranger.root])
    assert untrusted.trusted is False
    moved = stamp.model_copy(update={"gen_time": "2020-01-01T00:00:00Z"})
    assert "not 2020-01-01" in (check_timestamp(moved, b"signature bytes").problem or "")


def test_unreachable_tsa_is_one_error() -> None:
    with pytest.raises(TimestampError, match="unreachable"):
        request_timestamp("http://127.0.0.1:9/tsa", b"x", timeout_s=2)
    with pytest.raises(TimestampError, match="must be http"):
        request_timestamp("file:///etc/passwd", b"x")


def test_bundle_signature_is_time_stamped(
    tsa: LocalTsa, make_frame: Callable[..., Path], tmp_path: Path
) -> None:
    exams = examine_all(find_suspects([make_frame("photo.png")]), ExamineSettings())
    out = tmp_path / "evidence"
    bundle = write_bundle(
        exams, out, face_id="face-1", observation=Observation.parse(purpose="politics"),
        signing=Signing(OwnerKey.generate(), "Alice", tsa.url), trust=TrustAnchors.none(),
        repository_used=False,
    )  # fmt: skip
    assert bundle.timestamp is not None and len(tsa.requests) >= 1
    assert bundle.statement.files[0].verdict == "no_license"
    check = verify_bundle(out, tsa_roots=[tsa.root])
    assert check.valid, check.problems
    assert check.timestamp is not None and "trusted TSA" in check.timestamp
    with local_tsa() as stranger:
        assert not verify_bundle(out, tsa_roots=[stranger.root]).valid
    data = json.loads((out / "evidence.json").read_text())
    data["timestamp"]["gen_time"] = "2020-01-01T00:00:00Z"
    (out / "evidence.json").write_text(json.dumps(data))
    assert not verify_bundle(out).valid
