"""``provenance stream`` and ``verify`` on streams, with real clients reading the result.

ffprobe and ffmpeg play the playlist as a platform's player would; raw frames reach the
command on stdin as a renderer piping them would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from provenance.cli.main import cli
from provenance.media.synthetic import avatar_clip_frame

pytestmark = pytest.mark.skipif(
    shutil.which("ffprobe") is None, reason="needs ffmpeg and ffprobe (make setup)"
)
WIDTH, HEIGHT, FPS, SECONDS = 480, 270, 30, 4


def invoke(workspace: Path, *args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["--workspace", str(workspace), *args], input=input)


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stream") / "studio"
    assert CliRunner().invoke(cli, ["init", str(root), "--vendor", "Stream Studio"]).exit_code == 0
    until = (date.today() + timedelta(days=365)).isoformat()
    result = invoke(root, "license", "grant", "--face-id", "face-0900", "--allow", "education",
                    "--deny", "politics", "--territory", "EU", "--until", until,
                    "-o", str(root / "license.json"))  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


def raw_rgb() -> bytes:
    frames = [avatar_clip_frame(i, HEIGHT, WIDTH, fps=FPS) for i in range(SECONDS * FPS)]
    return np.stack(frames).tobytes()


def stream_args(studio: Path, source: str, playlist: Path, *extra: str) -> list[str]:
    return ["stream", source, "-o", str(playlist), "--license", str(studio / "license.json"),
            "--purpose", "education", "--json", *extra]  # fmt: skip


@pytest.fixture(scope="module")
def piped(studio: Path) -> Path:
    playlist = studio / "live" / "lesson.m3u8"
    playlist.parent.mkdir()
    args = stream_args(studio, "-", playlist, "--size", f"{WIDTH}x{HEIGHT}", "--fps", str(FPS))
    result = invoke(studio, *args, input=raw_rgb())
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["frames"] == SECONDS * FPS and summary["segments"] == 2
    return playlist


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False)


@pytest.mark.parametrize("manifest", ["lesson.m3u8", "lesson.mpd"])
def test_players_read_the_stream_without_errors_and_every_frame(piped: Path, manifest: str) -> None:
    path = str(piped.with_name(manifest))
    probe = run("ffprobe", "-v", "error", "-show_streams", path)
    assert probe.returncode == 0 and probe.stderr == "" and "codec_name=h264" in probe.stdout
    play = run("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-")
    assert play.returncode == 0 and play.stderr == ""
    count = run("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path)  # fmt: skip
    # The stream is listed twice, under its program and on its own.
    assert count.returncode == 0 and set(count.stdout.split()) == {str(SECONDS * FPS)}


def test_verify_playlist_reports_face_scope_and_segments(studio: Path, piped: Path) -> None:
    result = invoke(studio, "verify", str(piped), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "verified" and report["likeness"]["face_id"] == "face-0900"
    assert report["likeness"]["in_scope"] is True
    assert [s["status"] for s in report["stream"]["segments"]] == ["verified", "verified"]
    text = invoke(studio, "verify", str(piped))
    assert "segment lesson_00002.m4s #2  VERIFIED" in text.stdout


def test_verify_init_and_segments_in_arrival_order(studio: Path, piped: Path) -> None:
    folder = piped.parent
    init, one, two = (str(folder / n) for n in ("lesson_init.mp4", "lesson_00001.m4s",
                                                "lesson_00002.m4s"))  # fmt: skip
    assert invoke(studio, "verify", init, one, two).exit_code == 0
    swapped = invoke(studio, "verify", init, two, one, "--json")
    assert swapped.exit_code == 1
    segments = json.loads(swapped.stdout)["stream"]["segments"]
    assert [s["sequence_number"] for s in segments] == [2, 1]
    assert (
        "1 missing" in segments[0]["problems"][0] and "out of order" in segments[1]["problems"][0]
    )


def test_a_deleted_segment_is_reported_in_place(studio: Path, piped: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(piped.parent, copy)
    (copy / "lesson_00001.m4s").unlink()
    result = invoke(studio, "verify", str(copy / "lesson.m3u8"), "--json")
    assert result.exit_code == 1
    first, second = json.loads(result.stdout)["stream"]["segments"]
    assert "no such file" in first["problems"][0] and second["status"] == "failed"


def test_file_source_played_at_its_real_rate(
    studio: Path, tmp_path: Path, avatar_clip: Callable[..., Path]
) -> None:
    source = avatar_clip(tmp_path / "in.mp4", seconds=1.0, size=(640, 360), fps=30, audio=False)
    started = time.monotonic()
    result = invoke(studio, *stream_args(studio, str(source), tmp_path / "o.m3u8", "--realtime",
                                         "--segment-seconds", "0.5"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.95
    assert json.loads(result.stdout)["segments"] == 2


def test_refusals_and_bad_input(studio: Path, tmp_path: Path) -> None:
    politics = stream_args(studio, "-", tmp_path / "p.m3u8", "--size", "480x270", "--fps", "30")
    politics[politics.index("education")] = "politics"
    refused = invoke(studio, *politics, input=raw_rgb()[: WIDTH * HEIGHT * 3])
    assert refused.exit_code == 4 and list(tmp_path.iterdir()) == []
    no_size = invoke(studio, *stream_args(studio, "-", tmp_path / "q.m3u8"), input=b"")
    assert no_size.exit_code == 2
    cut = invoke(studio, *stream_args(studio, "-", tmp_path / "c.m3u8", "--size", "480x270",
                                      "--fps", "30"), input=b"\0" * 1000)  # fmt: skip
    assert cut.exit_code == 2 and "cut short" in cut.stderr
    missing = invoke(studio, "verify", str(tmp_path / "none.m3u8"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr
