"""Clips end to end through the CLI, as the video issue's "done when" lists them.

Every platform-side step (re-encode, frame extraction, cutting) uses the real ffmpeg command
line, never our own PyAV code, so the tests exercise what a platform would do.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from click.testing import CliRunner, Result

from provenance import _c2pa
from provenance.cli.main import cli
from provenance.workspace import Workspace

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg (make setup)")

FAST = ("--preset", "veryfast")


def invoke(workspace: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--workspace", str(workspace), *args])


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("video") / "studio"
    result = CliRunner().invoke(cli, ["init", str(root), "--vendor", "Clip Studio"])
    assert result.exit_code == 0, result.output
    until = (date.today() + timedelta(days=365)).isoformat()
    grant = [
        "license", "grant", "--face-id", "face-0777", "--allow", "education,marketing",
        "--deny", "politics", "--territory", "EU,US", "--until", until,
        "-o", str(root / "license.json"),
    ]  # fmt: skip
    result = invoke(root, *grant)
    assert result.exit_code == 0, result.output
    return root


def stamp(studio: Path, src: Path, dst: Path, *extra: str) -> Result:
    license_file = str(studio / "license.json")
    return invoke(studio, "stamp", str(src), "-o", str(dst), "--license", license_file,
                  "--purpose", "education", *FAST, *extra)  # fmt: skip


def verify(studio: Path, path: Path) -> tuple[int, dict[str, Any]]:
    result = invoke(studio, "verify", str(path), "--json")
    assert result.stdout, result.output
    return result.exit_code, json.loads(result.stdout)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, avatar_clip: Callable[..., Path]) -> Path:
    path = tmp_path_factory.mktemp("src") / "lesson.mp4"
    return avatar_clip(path, seconds=2.0, size=(1280, 720), fps=30)


@pytest.fixture(scope="module")
def stamped(studio: Path, source: Path) -> tuple[Path, dict[str, Any]]:
    out = source.with_name("stamped.mp4")
    result = stamp(studio, source, out, "--json")
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def frames_and_audio(path: Path) -> tuple[list[float], list[bytes]]:
    with av.open(str(path)) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        audio = [bytes(p) for p in container.demux(audio=0) if p.size]
    return times, audio


def test_stamped_clip_reads_trusted_and_keeps_frames_and_audio(
    studio: Path, source: Path, stamped: tuple[Path, dict[str, Any]]
) -> None:
    out, result = stamped
    with out.open("rb") as asset:
        reading = _c2pa.read(
            mime="video/mp4", asset=asset, trust=Workspace.open(studio).trust_anchors()
        )
    assert reading is not None and reading.state is _c2pa.ValidationState.TRUSTED
    clip = reading.assertions["org.avatar-provenance.clip"]
    assert clip["frames"] == 60
    binding = reading.assertions["c2pa.soft-binding"]
    assert binding["alg"] == "org.avatar-provenance.luma-iss.1"
    assert binding["blocks"][0]["scope"]["timespan"] == {"start": 0, "end": 2000}
    source_times, source_audio = frames_and_audio(source)
    out_times, out_audio = frames_and_audio(out)
    assert out_times == pytest.approx(source_times, abs=1e-3)
    assert out_audio == source_audio and source_audio
    assert result["frames"] == 60 and result["audio"] == "copied"
    code, report = verify(studio, out)
    assert code == 0, report["problems"]
    assert report["manifest"]["validation_state"] == "Trusted"
    assert report["watermark"]["payload"] == result["content_id"]
    assert report["video"]["stopped_early"] is True


@pytest.mark.parametrize("index", [0, 37, 59])
def test_any_frame_extracted_as_png_verifies_as_the_clip(
    studio: Path, stamped: tuple[Path, dict[str, Any]], index: int, tmp_path: Path
) -> None:
    out, result = stamped
    png = tmp_path / f"frame{index}.png"
    ffmpeg("-i", str(out), "-vf", f"select=eq(n\\,{index})", "-frames:v", "1", str(png))
    code, report = verify(studio, png)
    assert code == 0, report["problems"]
    assert report["watermark"]["payload"] == result["content_id"]
    assert report["manifest"]["recovered_via_watermark"] is True
    assert report["likeness"]["face_id"] == "face-0777"


def test_platform_reencode_480p_crf28_25fps_stripped_still_verifies(
    studio: Path, stamped: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, result = stamped
    copy = tmp_path / "reupload.mp4"
    ffmpeg("-i", str(out), "-vf", "scale=-2:480", "-r", "25", "-c:v", "libx264", "-crf", "28",
           "-c:a", "aac", "-map_metadata", "-1", str(copy))  # fmt: skip
    assert _c2pa_absent(copy)
    code, report = verify(studio, copy)
    assert code == 0, report["problems"]
    assert report["manifest"]["recovered_via_watermark"] is True
    assert report["watermark"]["payload"] == result["content_id"]
    assert report["likeness"]["face_id"] == "face-0777"
    assert report["content"]["fingerprint_match"] is True


def test_frames_cut_from_the_middle_are_caught(
    studio: Path, stamped: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _ = stamped
    cut = tmp_path / "cut.mp4"
    ffmpeg("-i", str(out), "-vf", "select=not(between(n\\,20\\,34)),setpts=N/30/TB",
           "-af", "aselect=not(between(t\\,0.667\\,1.167)),asetpts=N/SR/TB",
           "-c:v", "libx264", "-crf", "18", str(cut))  # fmt: skip
    code, report = verify(studio, cut)
    assert code == 1
    failed = {c["name"] for c in report["checks"] if c["status"] == "fail"}
    assert "content.duration" in failed


def test_manifest_grafted_from_another_clip_is_caught(
    studio: Path,
    stamped: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    avatar_clip: Callable[..., Path],
) -> None:
    donor, _ = stamped
    other_src = avatar_clip(tmp_path / "other.mp4", seconds=2.0, size=(1280, 720), seed=5)
    victim = tmp_path / "victim.mp4"
    assert stamp(studio, other_src, victim).exit_code == 0
    grafted = tmp_path / "grafted.mp4"
    grafted.write_bytes(_graft_manifest(donor.read_bytes(), victim.read_bytes()))
    code, report = verify(studio, grafted)
    assert code == 1
    assert report["manifest"]["validation_state"] == "Invalid"


def test_directory_of_frames_with_fps(studio: Path, tmp_path: Path) -> None:
    from PIL import Image

    from provenance.media.synthetic import avatar_clip_frame

    frames = tmp_path / "frames"
    frames.mkdir()
    for index in range(12):
        Image.fromarray(avatar_clip_frame(index, 272, 480)).save(frames / f"f{index + 1}.png")
    out = tmp_path / "rendered.mp4"
    result = stamp(studio, frames, out, "--fps", "24", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["frames"] == 12
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == Fraction(24)
    assert verify(studio, out)[0] == 0


def test_out_of_scope_clip_is_refused_before_any_output(
    studio: Path, source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "politics.mp4"
    result = invoke(studio, "stamp", str(source), "-o", str(out), "--license",
                    str(studio / "license.json"), "--purpose", "politics")  # fmt: skip
    assert result.exit_code == 4
    assert not out.exists() and list(tmp_path.iterdir()) == []


BAD = {
    "truncated": lambda src, p: _write(p / "t.mp4", src.read_bytes()[: src.stat().st_size // 2]),
    "empty": lambda src, p: _write(p / "e.mp4", b""),
    "audio-only": lambda src, p: _audio_only(src, p / "a.m4a"),
    "no-video": lambda src, p: _audio_only(src, p / "a.mp4"),
    "undecodable": lambda src, p: _undecodable(p / "evc.mp4"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_video_input_exits_2_with_one_line_and_no_output(
    studio: Path, source: Path, tmp_path: Path, case: str
) -> None:
    bad_dir = tmp_path / "in"
    bad_dir.mkdir()
    bad = BAD[case](source, bad_dir)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = stamp(studio, bad, out_dir / "x.mp4")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "Traceback" not in result.output
    assert list(out_dir.iterdir()) == []
    check = invoke(studio, "verify", str(bad))
    assert check.exit_code == 2 and str(bad) in check.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _audio_only(source: Path, path: Path) -> Path:
    ffmpeg("-i", str(source), "-vn", "-c:a", "copy", str(path))
    return path


def _undecodable(path: Path) -> Path:
    """A real MP4 whose video track is MPEG-5 EVC, which this FFmpeg cannot decode."""
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_mux_stream("evc", rate=30, width=64, height=48)
        for index in range(3):
            packet = av.Packet(bytes(range(200)))
            packet.stream, packet.pts, packet.dts = stream, index, index
            packet.time_base, packet.is_keyframe = Fraction(1, 30), index == 0
            container.mux(packet)
    return path


def _c2pa_absent(path: Path) -> bool:
    return all(kind != b"uuid" for kind, _, _ in _boxes(path.read_bytes()))


def _boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """Top-level ISO BMFF boxes: (type, start, end)."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        end = len(data) if size == 0 else offset + size
        boxes.append((kind, offset, end))
        offset = end
    return boxes


def _graft_manifest(donor: bytes, victim: bytes) -> bytes:
    """The victim clip carrying the donor's C2PA box: the victim's own box is blanked to a
    ``free`` box of the same size (so no media offset moves) and the donor's is appended."""
    donor_box = next(donor[s:e] for kind, s, e in _boxes(donor) if kind == b"uuid")
    out = bytearray(victim)
    for kind, start, _ in _boxes(victim):
        if kind == b"uuid":
            out[start + 4 : start + 8] = b"free"
    assert bytes(out) != victim
    return bytes(out) + donor_box


def test_graft_helper_keeps_the_victim_playable(
    stamped: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _ = stamped
    grafted = tmp_path / "g.mp4"
    grafted.write_bytes(_graft_manifest(out.read_bytes(), out.read_bytes()))
    assert len(frames_and_audio(grafted)[0]) == 60
    assert np.isfinite(len(grafted.read_bytes()))


def test_patch_pasted_over_a_stripped_copy_is_caught(
    studio: Path, stamped: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _ = stamped
    patched = tmp_path / "patched.mp4"
    ffmpeg("-i", str(out), "-vf", "drawbox=x=500:y=250:w=260:h=200:color=gray:t=fill",
           "-c:v", "libx264", "-crf", "20", "-map_metadata", "-1", str(patched))  # fmt: skip
    code, report = verify(studio, patched)
    assert code == 1
    assert report["manifest"]["recovered_via_watermark"] is True
    failed = {c["name"] for c in report["checks"] if c["status"] == "fail"}
    assert failed == {"content.fingerprint"}
