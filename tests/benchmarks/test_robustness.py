"""The robustness harness on tiny settings, and the metric and attack functions it uses."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmarks import _attacks, _jobs, _media, _metrics
from benchmarks.robustness import main
from provenance.watermark import ContentId, SoftBits, get_engine

ENGINE = "imwm-dwtdctsvd"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], str]:
    """One quick run at 640x360 with four frames, through the command-line entry point."""
    out = tmp_path_factory.mktemp("results")
    capture = pytest.MonkeyPatch()
    printed: list[str] = []
    capture.setattr("builtins.print", lambda *a, **k: printed.append(" ".join(map(str, a))))
    try:
        argv = ["--quick", "--engines", ENGINE, "--size", "640x360", "--frames", "4"]
        main([*argv, "--out", str(out)])
    finally:
        capture.undo()
    return json.loads((out / "robustness.json").read_text()), "\n".join(printed)


def test_quick_run_writes_expected_json(quick_run: tuple[dict[str, object], str]) -> None:
    results, _ = quick_run
    engines = results["engines"]
    assert isinstance(engines, dict)
    assert set(engines) == {ENGINE}
    engine = engines[ENGINE]
    for key in (
        "stills",
        "clips",
        "psnr_db",
        "ssim",
        "embed_ms",
        "detect_ms",
        "speedup_vs_reference",
        "false_positives",
        "bitrate_overhead_pct",
    ):
        assert key in engine
    assert set(engine["clips"]) == {"delivered", "h264-crf23", "480p+crf28"}
    assert engine["false_positives"]["tried"] > 0
    assert set(engine["bitrate_overhead_pct"]["crf23"]) == {"talking", "mean"}
    assert engine["stills"]["none"]["recovered"] == engine["stills"]["none"]["tried"] == 1
    assert engine["stills"]["none"]["bit_accuracy_frame"] == 1.0
    assert 30 < engine["psnr_db"] < 60


def test_quick_run_prints_a_markdown_table(quick_run: tuple[dict[str, object], str]) -> None:
    _, table = quick_run
    assert table.startswith("| attack |")
    assert "| still: none | yes | 1.000 |" in table
    assert "false positives" in table


def test_psnr_and_ssim_of_identical_images() -> None:
    rgb = _media.still(144, 256, seed=1)
    assert _metrics.psnr(rgb, rgb) == _metrics.PSNR_CAP_DB
    assert _metrics.ssim(rgb, rgb) == pytest.approx(1.0)
    noisy = _attacks.jpeg(50)(rgb)
    assert _metrics.psnr(rgb, noisy) < 45
    assert _metrics.ssim(rgb, noisy) < 0.999


def test_bit_accuracy_counts_matching_hard_bits() -> None:
    expected = np.array([1, 0, 1, 0], dtype=np.uint8)
    assert _metrics.bit_accuracy(SoftBits(values=np.array([2.0, -1, 3, 1])), expected) == 0.75


@pytest.mark.parametrize("name", ["jpeg75", "bright", "contrast", "shift2", "caption"])
def test_attacks_change_pixels_but_not_shape(name: str) -> None:
    rgb = _media.still(144, 256, seed=2)
    attacked = _attacks.apply_chain(rgb, _attacks.STILL_ATTACKS[name])
    assert attacked.shape == rgb.shape
    assert attacked.dtype == np.uint8
    assert not np.array_equal(attacked, rgb)


def test_resize_and_crop_give_even_sizes() -> None:
    rgb = _media.still(1080, 1920, seed=3)
    assert _attacks.STILL_ATTACKS["360p"][0](rgb).shape == (360, 640, 3)
    assert _attacks.STILL_ATTACKS["crop10"][0](rgb).shape == (972, 1728, 3)


def test_fps_change_resamples_by_timestamps(tmp_path: Path) -> None:
    times = [i / 30 for i in range(48)]
    picks = _attacks.resample_fps(times, 30, 25)
    assert len(picks) == 40
    assert picks[:6] == [0, 1, 2, 3, 4, 6]
    frames = [_media.clip_frame("talking", i, 144, 256, seed=4) for i in range(12)]
    clip = _media.encode_clip(frames, _media.Codec.h264(23))
    resampled = list(_media.decode_clip(_jobs.attack_clip(clip, "fps25+crf23")))
    assert len(resampled) == 10


def test_clip_marking_engines_mark_the_whole_clip_in_order() -> None:
    assert _jobs.frame_batches("luma-iss", 4) == [(0, 1, 2, 3)]
    assert _jobs.frame_batches("imwm-dwtdct", 3) == [(0,), (1,), (2,)]
    assert _jobs.frame_batches(None, 2) == [(0,), (1,)]
    job = _jobs.FramesJob("pan", (0, 1, 2, 3, 4, 5), 360, 640, seed=1)
    unmarked = _jobs.make_frames(job)
    cid = ContentId.mint(issuer=3)
    followed = _jobs.make_frames(replace(job, engine="luma-iss", content_id=cid))
    static = [get_engine("luma-iss").embed(rgb, cid) for rgb in unmarked]
    assert len(followed) == 6
    # The first frame is the reference; later frames of a pan carry a moved pattern.
    assert np.array_equal(followed[0], static[0])
    assert not np.array_equal(followed[-1], static[-1])
