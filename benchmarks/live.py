"""The live-stream targets, each a ratio against a baseline measured in the same run.

    python -m benchmarks.live [--seconds 60] [--size 1280x720] [--preset veryfast]

1. **Stamping rate**: :class:`StreamStamper` end to end (watermark on every frame,
   fragmented encode, init signed with C2PA, each segment signed, files and playlist
   written) in frames per second, against :class:`FragmentedEncoder` alone on the same
   frames (no watermark, no signatures, nothing written). Target: >= 30 fps at 720p30 with
   veryfast.
2. **Watermark share**: the live marker's ``mark`` per frame, in place as the stamper
   marks, against the encoder's time per frame (the baseline of 1). Target <= 10 %. A
   second row adds what the mark costs the encoder: the same pool encoded marked and
   unmarked, alternating, 2 runs each (medians); the share of the watermark's whole cost
   is (mark + marked encode - unmarked encode) over the unmarked encode.
3. **Signing** each 2 s segment (hash, COSE_Sign1, emsg) in ms, against the segment's
   duration and its encoder time. Target <= 20 ms.
4. **Verifying** each segment (``StreamVerifier.feed_segment``) against its duration and
   against decoding it. Target <= 1/10 of its duration.
5. **Done when**: the stream's playlist is read by ffprobe and played by ffmpeg without an
   error line, every segment verifies with face ID and scope, the frame count matches,
   and the middle segment re-encoded to 480p by ffmpeg (its signature gone) still yields
   the stream's payload from the watermark.

Frames are rendered once (a pool of distinct synthetic frames, cycled) so the source costs
nothing. Prints one markdown table to stdout and progress to stderr.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import av

from provenance.consent import License, grant_license
from provenance.live import StreamStamper
from provenance.media import Encoding, YuvFrame
from provenance.media.live import FragmentedEncoder
from provenance.media.synthetic import avatar_clip_frame
from provenance.owner import OwnerKey
from provenance.stamp import Stamper
from provenance.verify import StreamVerifier, verify_playlist
from provenance.watermark import ContentId
from provenance.watermark.luma import LumaIssEngine, LumaMarker
from provenance.workspace import Workspace

_POOL = 90  # distinct frames: 3 s of motion, then cycled


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _frames(width: int, height: int, fps: int) -> list[YuvFrame]:
    return [YuvFrame.from_rgb(avatar_clip_frame(i, height, width, fps=fps)) for i in range(_POOL)]


def _copy(frame: YuvFrame) -> YuvFrame:
    return YuvFrame(frame.y.copy(), frame.u, frame.v, colorspace=frame.colorspace)


def _baseline_encode(pool: list[YuvFrame], count: int, fps: int, encoding: Encoding) -> float:
    height, width = pool[0].y.shape
    encoder = FragmentedEncoder(width=width, height=height, fps=Fraction(fps), encoding=encoding)
    started = time.perf_counter()
    for index in range(count):
        encoder.encode(_copy(pool[index % _POOL]))
    encoder.close()
    return time.perf_counter() - started


def _live_marker() -> LumaMarker:
    return LumaIssEngine().live_marker(ContentId.from_bytes(bytes.fromhex("463f000000000001")))


def _mark_time(pool: list[YuvFrame], count: int) -> float:
    """Seconds the stream's marker spends on ``count`` frames, marking in place as
    :class:`StreamStamper` does (each frame copied first, untimed)."""
    marker = _live_marker()
    spent = 0.0
    for index in range(count):
        plane = pool[index % _POOL].y.copy()
        started = time.perf_counter()
        marker.mark(plane, out=plane)
        spent += time.perf_counter() - started
    return spent


def _marked_pool(pool: list[YuvFrame]) -> list[YuvFrame]:
    marker = _live_marker()
    return [YuvFrame(marker.mark(f.y), f.u, f.v, colorspace=f.colorspace) for f in pool]


def _encode_marked_vs_unmarked(
    pool: list[YuvFrame], count: int, fps: int, encoding: Encoding
) -> tuple[float, float]:
    """Encoder seconds for ``count`` frames of the pool, unmarked and marked (medians)."""
    marked = _marked_pool(pool)
    unmarked_s, marked_s = [], []
    for run in range(4):
        if run % 2 == 0:
            unmarked_s.append(_baseline_encode(pool, count, fps, encoding))
            marked_s.append(_baseline_encode(marked, count, fps, encoding))
        else:
            marked_s.append(_baseline_encode(marked, count, fps, encoding))
            unmarked_s.append(_baseline_encode(pool, count, fps, encoding))
    return statistics.median(unmarked_s), statistics.median(marked_s)


def _license(workspace: Workspace) -> License:
    return grant_license(
        owner_key=OwnerKey.generate(),
        owner_name="Bench Owner",
        face_id="face-bench",
        licensee=workspace.settings.vendor,
        allow=["education"],
        deny=["politics"],
        territories=["EU"],
        not_after=date.today() + timedelta(days=30),
        intended_uses="Benchmark of live tutoring streams for a physics course",
    )


def _stamp(
    workspace: Workspace, playlist: Path, pool: list[YuvFrame], count: int, fps: int, enc: Encoding
) -> tuple[float, StreamStamper]:
    height, width = pool[0].y.shape
    stamper = Stamper.from_workspace(workspace)
    started = time.perf_counter()
    live = StreamStamper(stamper, playlist, license=_license(workspace), purpose="education",
                         width=width, height=height, fps=Fraction(fps), encoding=enc)  # fmt: skip
    for index in range(count):
        live.write_frame(_copy(pool[index % _POOL]))
    live.close()
    return time.perf_counter() - started, live


def _decode_ms(init: bytes, segment: bytes) -> float:
    import io

    started = time.perf_counter()
    with av.open(io.BytesIO(init + segment), mode="r") as container:
        for _ in container.decode(video=0):
            pass
    return (time.perf_counter() - started) * 1000


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--preset", default="veryfast")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    count = args.seconds * args.fps
    encoding = Encoding(preset=args.preset, crf=18, gop=2 * args.fps)
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        workspace = Workspace.create(root / "studio", vendor="Bench Live")
        _log(f"rendering {_POOL} frames at {args.size}")
        pool = _frames(width, height, args.fps)
        _log(f"baseline: encoder only, {count} frames")
        base_s = _baseline_encode(pool, count, args.fps, encoding)
        _log("stamping the stream")
        playlist = root / "live" / "stream.m3u8"
        playlist.parent.mkdir()
        stamp_s, live = _stamp(workspace, playlist, pool, count, args.fps, encoding)
        mark_s = _mark_time(pool, count)
        result = live.result
        stamp_fps, base_fps = count / stamp_s, count / base_s
        rows.append(("stamping rate (fps)", f"{stamp_fps:.1f}", f"{base_fps:.1f} encoder only",
                     f"{stamp_fps / base_fps:.2f}x; target >= 30 fps: "
                     f"{'met' if stamp_fps >= 30 else 'MISSED'}"))  # fmt: skip
        share = mark_s / base_s
        rows.append(("watermark per frame (ms)", f"{mark_s / count * 1000:.2f}",
                     f"{base_s / count * 1000:.2f} encoder per frame",
                     f"{share:.1%}; target <= 10%: "
                     f"{'met' if share <= 0.10 else 'MISSED'}"))  # fmt: skip
        _log("encoding the pool marked and unmarked")
        short = min(count, 10 * args.fps)
        plain_s, marked_s = _encode_marked_vs_unmarked(pool, short, args.fps, encoding)
        whole = (mark_s / count * short + marked_s - plain_s) / plain_s
        rows.append(("watermark with its encoder cost (ms)",
                     f"{(mark_s / count * short + marked_s - plain_s) / short * 1000:.2f}",
                     f"{plain_s / short * 1000:.2f} encoder per frame; marked frames "
                     f"{marked_s / short * 1000:.2f}",
                     f"{whole:.1%} (mark + encoder's extra on marked frames)"))  # fmt: skip
        signs = [s.sign_ms for s in result.segments]
        seg_encode_ms = base_s / len(result.segments) * 1000
        rows.append(("signing per 2 s segment (ms)",
                     f"median {statistics.median(signs):.2f}, max {max(signs):.2f}",
                     f"{seg_encode_ms:.0f} encoder per segment",
                     f"{max(signs) / seg_encode_ms:.4f}x; target <= 20 ms: "
                     f"{'met' if max(signs) <= 20 else 'MISSED'}"))  # fmt: skip
        _log("verifying every segment")
        report = verify_playlist(
            playlist, trust=workspace.trust_anchors(), repository=workspace.repository()
        )
        assert report.stream is not None
        verify = [s.verify_ms for s in report.stream.segments]
        init = result.init.read_bytes()
        middle = result.segments[len(result.segments) // 2]
        decode = _decode_ms(init, middle.path.read_bytes())
        worst = max(verify) / (middle.duration_s * 1000)
        rows.append(("verify per segment (ms)",
                     f"median {statistics.median(verify):.2f}, max {max(verify):.2f}",
                     f"{decode:.0f} decoding one segment; {middle.duration_s * 1000:.0f} its "
                     "duration", f"{worst:.4f} of its duration; target <= 0.1: "
                     f"{'met' if worst <= 0.1 else 'MISSED'}"))  # fmt: skip
        rows += _done_when(report, playlist, count, workspace, init, middle.path)
    print("| measure | value | baseline (same run) | ratio / target |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


def _done_when(
    report: object, playlist: Path, count: int, workspace: Workspace, init: bytes, middle: Path
) -> list[tuple[str, str, str, str]]:
    from provenance.verify import VerificationReport

    assert isinstance(report, VerificationReport) and report.stream is not None
    rows = [("stream verify", f"{report.verdict.value}: {report.stream.segments_verified} of "
             f"{report.stream.segments_checked} segments",
             f"face {report.likeness.face_id}, in scope {report.likeness.in_scope}",
             f"scope {report.likeness.scope}")]  # fmt: skip
    if shutil.which("ffprobe") is None:
        return rows
    probe = _run(["ffprobe", "-v", "error", "-show_format", str(playlist)])
    play = _run(["ffmpeg", "-v", "error", "-i", str(playlist), "-f", "null", "-"])
    frames = _run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
            str(playlist),
        ]
    )
    read = sorted(set(frames.stdout.split()))  # fmt: skip
    rows.append(("ffprobe / ffmpeg", f"exit {probe.returncode} / {play.returncode}, "
                 f"{len((probe.stderr + play.stderr).splitlines())} error lines",
                 f"{count} frames in", f"{', '.join(read)} frames decoded"))  # fmt: skip
    joined = middle.with_suffix(".joined.mp4")
    joined.write_bytes(init + middle.read_bytes())
    smaller = middle.with_suffix(".480p.mp4")
    _run(["ffmpeg", "-v", "error", "-y", "-i", str(joined), "-vf", "scale=-2:480", "-c:v",
          "libx264", "-crf", "23", "-map_metadata", "-1", str(smaller)])  # fmt: skip
    verifier = StreamVerifier(trust=workspace.trust_anchors(), repository=workspace.repository())
    verifier.feed_init(init, source="init")
    segment = verifier.feed_segment(smaller.read_bytes(), source=smaller.name)
    rows.append(("segment re-encoded to 480p CRF 23", segment.status.value,
                 f"payload {segment.watermark_payload}",
                 f"stream's {report.stream.content_id}; {segment.verify_ms:.0f} ms"))  # fmt: skip
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
