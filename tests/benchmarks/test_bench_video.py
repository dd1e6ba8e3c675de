"""The video benchmark on its quick settings: it runs, and writes every number it promises.

Speed is what the benchmark measures, so nothing here asserts a timing, only that each
ratio is a positive number and each row is in the table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import _clips
from benchmarks.video import main
from provenance.media import Encoding, probe_video

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], str]:
    """One ``--quick`` run (480x270, a few seconds) through the command-line entry point."""
    out = tmp_path_factory.mktemp("results")
    capture = pytest.MonkeyPatch()
    printed: list[str] = []

    def stdout_only(*args: object, file: object = None, **_: object) -> None:
        if file is None:  # progress lines go to stderr
            printed.append(" ".join(map(str, args)))

    capture.setattr("builtins.print", stdout_only)
    try:
        main(["--quick", "--out", str(out)])
    finally:
        capture.undo()
    return json.loads((out / "video.json").read_text()), "\n".join(printed)


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and value > 0


def test_quick_run_writes_every_ratio(quick_run: tuple[dict[str, object], str]) -> None:
    results, _ = quick_run
    assert {"stamp_vs_transcode", "verify_vs_decode", "memory", "rows", "settings"} <= set(results)
    stamp = results["stamp_vs_transcode"]
    assert isinstance(stamp, dict) and set(stamp) == {"480x270"}
    sized = stamp["480x270"]
    for key in ("ratio", "cpu_ratio", "adapter_vs_raw", "stamp_fps", "transcode_fps"):
        assert _positive(sized[key]), key
    assert sized["frames"] == 60
    breakdown = sized["breakdown"]
    for key in ("mark_cpu_ms_per_frame", "encode_ratio", "bytes_ratio"):
        assert _positive(breakdown[key]), key
    verify = results["verify_vs_decode"]
    assert isinstance(verify, dict)
    for name in ("stamped", "stripped"):
        assert _positive(verify[name]["ratio"]), name
        assert verify[name]["frames_decoded"] == 120
        assert verify[name]["frames_checked"] > 0
    assert verify["stamped"]["verdict"] == "verified"
    memory = results["memory"]
    assert isinstance(memory, dict)
    assert _positive(memory["ratio"])
    assert memory["long"]["frames"] == 4 * memory["short"]["frames"] == 120
    assert _positive(memory["encode_ratio"])
    for name in ("short", "long"):
        assert 0 < memory[name]["encode_peak_mb"] <= memory[name]["peak_mb"], name


def test_quick_run_prints_a_row_per_measurement(
    quick_run: tuple[dict[str, object], str],
) -> None:
    results, table = quick_run
    assert table.startswith("| measurement | baseline | result | ratio | target | pass |")
    rows = results["rows"]
    assert isinstance(rows, list) and len(rows) == 6
    for row in rows:
        assert f"| {row['measurement']} |" in table
        assert row["pass"] in {"yes", "yes (goal met)", "no", "-"}


def test_sources_are_cached_and_carry_audio(tmp_path: Path) -> None:
    first = _clips.source_clip(tmp_path, width=480, height=270, seconds=0.5, preset="ultrafast")
    stamp = first.stat().st_mtime_ns
    again = _clips.source_clip(tmp_path, width=480, height=270, seconds=0.5, preset="ultrafast")
    assert again == first and again.stat().st_mtime_ns == stamp
    info = probe_video(first)
    assert (info.width, info.height, info.frame_count) == (480, 270, 15)
    assert info.audio_codec == "aac"
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def test_reencode_scales_and_reports_x264_threads(tmp_path: Path) -> None:
    source = _clips.source_clip(tmp_path, width=640, height=360, seconds=0.5, preset="ultrafast")
    copy = tmp_path / "copy.mp4"
    assert _clips.reencode(source, copy, Encoding(crf=28), height=270) == 15
    info = probe_video(copy)
    assert (info.width, info.height, info.audio_codec) == (480, 270, "aac")
    assert _clips.x264_settings(copy)["threads"] >= 1
