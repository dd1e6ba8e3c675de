"""``verify`` on a Stable Diffusion XL output: the mark is reported, the verdict unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner, Result
from PIL import Image

from provenance.cli.main import cli
from provenance.media.synthetic import avatar_frame
from provenance.workspace import Workspace

SDXL_MESSAGE = "b3ec907bb19e"


def _sdxl_png(path: Path) -> Path:
    """A 512x512 frame marked as SDXL's uint8 path does (a content whose round trip works)."""
    from imwatermark import WatermarkEncoder

    bits = np.unpackbits(np.frombuffer(bytes.fromhex(SDXL_MESSAGE), np.uint8))
    encoder = WatermarkEncoder()
    encoder.set_watermark("bits", [int(bit) for bit in bits])
    bgr = np.ascontiguousarray(avatar_frame(512, 512, seed=0)[..., ::-1])
    marked = np.asarray(encoder.encode(bgr, "dwtDct"), np.uint8)[..., ::-1]
    Image.fromarray(np.ascontiguousarray(marked)).save(path)
    return path


def _verify(workspace: Workspace, path: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        cli, ["--workspace", str(workspace.root), "verify", str(path), *extra]
    )


def test_sdxl_mark_is_reported_but_not_provenance(
    shared_workspace: Workspace, tmp_path: Path
) -> None:
    png = _sdxl_png(tmp_path / "sdxl.png")
    result = _verify(shared_workspace, png, "--json")
    assert result.exit_code == 3, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "no_provenance"
    assert report["watermark"]["detected"] is False
    (mark,) = report["third_party_marks"]
    assert mark["scheme"] == "sdxl" and mark["message"] == SDXL_MESSAGE
    assert mark["bits"] == 48 and mark["matches"] >= 43
    assert mark["false_alarm_probability"] <= 1e-6
    assert set(mark) == {"scheme", "label", "message", "matches", "bits", "false_alarm_probability"}

    human = _verify(shared_workspace, png)
    assert human.exit_code == 3
    assert "third-party mark  Stable Diffusion XL invisible watermark" in human.stdout
    assert f"({mark['matches']}/48 bits)" in human.stdout


def test_unmarked_frame_lists_no_third_party_marks(
    shared_workspace: Workspace, tmp_path: Path
) -> None:
    png = tmp_path / "plain.png"
    Image.fromarray(avatar_frame(512, 512, seed=0)).save(png)
    result = _verify(shared_workspace, png, "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["third_party_marks"] == []
    assert "third-party" not in _verify(shared_workspace, png).stdout
