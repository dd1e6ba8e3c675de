"""Live streams through the SDK: stamping, and every stream attack the verifier must catch.

One 6-second 640x360 stream in 2-second segments (and a 2-second second stream to splice
from) is stamped once per module; each test rearranges or damages its segments and feeds
them to a :class:`StreamVerifier` in the order a player would receive them.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import av
import pytest

from provenance import _c2pa
from provenance.consent import License, grant_license
from provenance.errors import InputError, OutputExistsError, ScopeViolationError
from provenance.live import LIVE_LABEL, StampedStream, StreamStamper
from provenance.live.session import VSI_SCHEME
from provenance.media.bmff import box_types, iter_boxes
from provenance.media.synthetic import avatar_clip_frame
from provenance.owner import OwnerKey
from provenance.stamp import Stamper
from provenance.verify import StreamVerifier, Verdict, Verifier, verify_playlist
from provenance.verify.report import SegmentStatus
from provenance.workspace import Workspace

SIZE = (640, 360)
FPS = 30


@dataclass(frozen=True)
class Stream:
    result: StampedStream
    init: bytes
    segments: list[bytes]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace.create(tmp_path_factory.mktemp("live") / "studio", vendor="Live Studio")


@pytest.fixture(scope="module")
def license(workspace: Workspace) -> License:
    return grant_license(
        owner_key=OwnerKey.generate(),
        owner_name="Ada",
        face_id="face-live",
        licensee=workspace.settings.vendor,
        allow=["education"],
        deny=["politics"],
        territories=["EU"],
        not_after=date.today() + timedelta(days=30),
        intended_uses="Live physics tutoring streamed to enrolled students",
    )


def _stamp(workspace: Workspace, license: License, out: Path, seconds: int, seed: int) -> Stream:
    stamper = Stamper.from_workspace(workspace)
    width, height = SIZE
    with StreamStamper(
        stamper, out, license=license, purpose="education", width=width, height=height,
        fps=Fraction(FPS),
    ) as live:  # fmt: skip
        for index in range(seconds * FPS):
            live.write_rgb(avatar_clip_frame(index, height, width, fps=FPS, seed=seed))
    result = live.result
    return Stream(result, result.init.read_bytes(), [s.path.read_bytes() for s in result.segments])


@pytest.fixture(scope="module")
def stream(
    workspace: Workspace, license: License, tmp_path_factory: pytest.TempPathFactory
) -> Stream:
    return _stamp(workspace, license, tmp_path_factory.mktemp("a") / "lesson.m3u8", 6, seed=1)


@pytest.fixture(scope="module")
def other(
    workspace: Workspace, license: License, tmp_path_factory: pytest.TempPathFactory
) -> Stream:
    return _stamp(workspace, license, tmp_path_factory.mktemp("b") / "other.m3u8", 2, seed=2)


def _feed(workspace: Workspace, stream: Stream, segments: list[bytes]) -> StreamVerifier:
    verifier = StreamVerifier(trust=workspace.trust_anchors(), repository=workspace.repository())
    verifier.feed_init(stream.init, source="init")
    for index, data in enumerate(segments):
        verifier.feed_segment(data, source=f"s{index}")
    return verifier


def _statuses(verifier: StreamVerifier) -> list[SegmentStatus]:
    report = verifier.report(file="stream")
    assert report.stream is not None
    return [s.status for s in report.stream.segments]


def _strip_signature(segment: bytes) -> bytes:
    return b"".join(box.of(segment) for box in iter_boxes(segment) if box.type != "emsg")


OK, BAD, MARK = SegmentStatus.VERIFIED, SegmentStatus.FAILED, SegmentStatus.WATERMARK_ONLY


def test_stream_is_segmented_signed_and_stored(workspace: Workspace, stream: Stream) -> None:
    result = stream.result
    assert result.frames == 180 and len(result.segments) == 3
    assert [s.frames for s in result.segments] == [60, 60, 60]
    assert all(box_types(s)[:2] == ["emsg", "moof"] for s in stream.segments)
    assert VSI_SCHEME.encode() in stream.segments[0]
    reading = _c2pa.read(mime="video/mp4", asset=stream.init, trust=workspace.trust_anchors())
    assert reading is not None and reading.state is _c2pa.ValidationState.TRUSTED
    assert reading.assertions[LIVE_LABEL]["streamId"] == result.stream_id
    record = workspace.repository().get(result.content_id)
    assert record is not None and record.face_id == "face-live"
    text = result.playlist.read_text()
    assert text.count("#EXTINF:2.000000,") == 3 and text.rstrip().endswith("#EXT-X-ENDLIST")
    assert result.playlist.with_suffix(".mpd").is_file()


def test_whole_stream_verifies_with_face_and_scope(workspace: Workspace, stream: Stream) -> None:
    report = verify_playlist(
        stream.result.playlist, trust=workspace.trust_anchors(), repository=workspace.repository()
    )
    assert report.verdict is Verdict.VERIFIED, report.problems
    assert report.stream is not None and report.stream.segments_verified == 3
    assert report.stream.ended is True and report.stream.content_id == stream.result.content_id.hex
    assert report.likeness.face_id == "face-live" and report.likeness.in_scope is True
    assert report.likeness.scope is not None


def test_dropped_segment_is_reported_at_the_next(workspace: Workspace, stream: Stream) -> None:
    a, _, c = stream.segments
    verifier = _feed(workspace, stream, [a, c])
    assert _statuses(verifier) == [OK, BAD]
    assert "2 missing" in verifier.report(file="s").stream.segments[1].problems[0]  # type: ignore[union-attr]
    assert verifier.report(file="s").verdict is Verdict.FAILED


def test_dropped_first_segment_is_caught(workspace: Workspace, stream: Stream) -> None:
    assert _statuses(_feed(workspace, stream, stream.segments[1:])) == [BAD, OK]


def test_reordered_segments(workspace: Workspace, stream: Stream) -> None:
    a, b, c = stream.segments
    verifier = _feed(workspace, stream, [a, c, b])
    assert _statuses(verifier) == [OK, BAD, BAD]
    problems = verifier.report(file="s").problems
    assert any("out of order" in p for p in problems)


def test_replayed_segment(workspace: Workspace, stream: Stream) -> None:
    a, b, c = stream.segments
    verifier = _feed(workspace, stream, [a, b, b, c])
    assert _statuses(verifier) == [OK, OK, BAD, OK]
    assert any("replayed" in p for p in verifier.report(file="s").problems)


def test_substituted_content_fails_its_hash(workspace: Workspace, stream: Stream) -> None:
    a, b, c = stream.segments
    emsg = b[: next(iter_boxes(b)).end]
    forged = emsg + _strip_signature(a)  # segment 2's signature on segment 1's pictures
    flipped = bytearray(b)
    flipped[-100] ^= 0x01  # one bit of the picture data
    verifier = _feed(workspace, stream, [a, forged, c])
    assert _statuses(verifier) == [OK, BAD, OK]
    assert _statuses(_feed(workspace, stream, [a, bytes(flipped), c])) == [OK, BAD, OK]
    assert any("signed hash" in p for p in verifier.report(file="s").problems)


def test_segment_spliced_from_another_stream(
    workspace: Workspace, stream: Stream, other: Stream
) -> None:
    a, b, c = stream.segments
    verifier = _feed(workspace, stream, [a, other.segments[0], b, c])
    assert _statuses(verifier) == [OK, BAD, OK, OK]
    assert any("another stream" in p for p in verifier.report(file="s").problems)
    replaced = _feed(workspace, stream, [a, other.segments[0], c])
    assert _statuses(replaced) == [OK, BAD, BAD]


def test_stripped_signature_falls_back_to_the_watermark(
    workspace: Workspace, stream: Stream
) -> None:
    a, b, c = stream.segments
    verifier = _feed(workspace, stream, [a, _strip_signature(b), c])
    report = verifier.report(file="s")
    assert _statuses(verifier) == [OK, MARK, OK]
    assert report.stream is not None
    assert report.stream.segments[1].watermark_payload == stream.result.content_id.hex
    assert report.verdict is Verdict.FAILED and report.watermark.matches_manifest is True


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg (make setup)")
def test_segment_reencoded_smaller_still_names_the_stream(
    workspace: Workspace, stream: Stream, tmp_path: Path
) -> None:
    joined = tmp_path / "seg2.mp4"
    joined.write_bytes(stream.init + stream.segments[1])
    smaller = tmp_path / "seg2-270p.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(joined), "-vf", "scale=-2:270", "-c:v", "libx264",
         "-crf", "18", "-map_metadata", "-1", str(smaller)],
        check=True,
    )  # fmt: skip
    a, _, c = stream.segments
    verifier = _feed(workspace, stream, [a, smaller.read_bytes(), c])
    assert _statuses(verifier) == [OK, MARK, OK]
    # Verified on its own, as a clip, it resolves to the stream manifest.
    alone = Verifier(trust=workspace.trust_anchors(), repository=workspace.repository())
    report = alone.verify_file(smaller)
    assert report.manifest.recovered_via_watermark and report.likeness.face_id == "face-live"
    assert report.verdict is Verdict.VERIFIED, report.problems


def test_the_played_stream_has_every_frame(stream: Stream) -> None:
    with av.open(str(stream.result.playlist)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 180


def test_out_of_scope_stream_is_refused_before_any_output(
    workspace: Workspace, license: License, tmp_path: Path
) -> None:
    count = workspace.repository().count()
    with pytest.raises(ScopeViolationError):
        StreamStamper(
            Stamper.from_workspace(workspace), tmp_path / "p.m3u8", license=license,
            purpose="politics", width=640, height=360, fps=Fraction(30),
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == [] and workspace.repository().count() == count


def test_bad_outputs_and_frames(workspace: Workspace, license: License, tmp_path: Path) -> None:
    stamper = Stamper.from_workspace(workspace)
    common = dict(license=license, purpose="education", width=640, height=360, fps=Fraction(30))
    with pytest.raises(InputError, match="m3u8"):
        StreamStamper(stamper, tmp_path / "out.mp4", **common)  # type: ignore[arg-type]
    (tmp_path / "taken.m3u8").write_text("x")
    with pytest.raises(OutputExistsError):
        StreamStamper(stamper, tmp_path / "taken.m3u8", **common)  # type: ignore[arg-type]
    live = StreamStamper(stamper, tmp_path / "ok.m3u8", **common)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="expected"):
        live.write_rgb(avatar_clip_frame(0, 270, 480))
    live.abort()
    assert not (tmp_path / "ok.m3u8").exists()


def test_a_stream_is_one_ledger_entry_with_its_frames(workspace: Workspace, stream: Stream) -> None:
    with workspace.ledger_reader() as ledger:
        entries = [e for e in ledger.entries("face-live")
                   if e.usage.content_id == stream.result.content_id.hex]
    assert len(entries) == 1
    usage = entries[0].usage
    assert usage.kind.value == "stream"
    assert usage.frames == stream.result.frames == 180
    assert usage.duration_ms == 6000
