"""Labelling laws end to end: what exiftool and ffprobe read back, next to a Trusted manifest.

The platform side is the real command lines (exiftool, ffprobe, ffmpeg), not our readers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from provenance import _c2pa
from provenance.cli.main import cli
from provenance.labels import TRAINED_ALGORITHMIC_MEDIA, AigcLabel
from provenance.trust import TrustAnchors

pytestmark = pytest.mark.skipif(
    shutil.which("exiftool") is None or shutil.which("ffprobe") is None,
    reason="needs exiftool and ffprobe (make setup)",
)

MIME = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".mp4": "video/mp4"}
PRODUCER = "001191440300708461136T1XGW3"


def invoke(workspace: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--workspace", str(workspace), *args])


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labels") / "studio"
    result = CliRunner().invoke(
        cli, ["init", str(root), "--vendor", "Label Studio", "--content-producer", PRODUCER]
    )
    assert result.exit_code == 0, result.output
    until = (date.today() + timedelta(days=365)).isoformat()
    grant = [
        "license", "grant", "--face-id", "face-0100", "--allow", "education",
        "--territory", "EU,US,CN", "--until", until, "-o", str(root / "license.json"),
    ]  # fmt: skip
    result = invoke(root, *grant)
    assert result.exit_code == 0, result.output
    return root


def stamp(studio: Path, src: Path, dst: Path, *extra: str) -> dict[str, Any]:
    result = invoke(
        studio, "stamp", str(src), "-o", str(dst), "--license", str(studio / "license.json"),
        "--purpose", "education", "--preset", "ultrafast", "--json", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def verify(studio: Path, path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = invoke(studio, "verify", str(path), "--json", *extra)
    return result.exit_code, json.loads(result.stdout)


def exiftool(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["exiftool", "-j", "-G1", "-a", "-XMP:all", "-Keys:all", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(json.loads(out)[0])


def ffprobe_tags(path: Path) -> dict[str, str]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(json.loads(out)["format"]["tags"])


def trusted(studio: Path, path: Path) -> bool:
    with path.open("rb") as handle:
        reading = _c2pa.read(
            mime=MIME[path.suffix],
            asset=handle,
            trust=TrustAnchors.from_files(studio / "keys" / "root-ca.pem"),
        )
    return reading is not None and reading.state.value == "Trusted"


def check_label(text: str, content_id: str) -> AigcLabel:
    label = AigcLabel.from_json(text)
    assert label.label == "1"
    assert label.content_producer == PRODUCER
    assert label.produce_id == content_id
    assert label.first_written
    assert label.producer_integrity_ok()
    return label


@pytest.fixture(scope="module")
def clip(studio: Path, avatar_clip: Callable[..., Path]) -> tuple[Path, dict[str, Any]]:
    source = avatar_clip(studio / "source.mp4", seconds=1.0, fps=24)
    out = studio / "clip.mp4"
    return out, stamp(studio, source, out)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_stamped_still_carries_the_aigc_label_exiftool_reads_and_stays_trusted(
    studio: Path, make_frame: Callable[..., Path], suffix: str
) -> None:
    out = make_frame().with_name(f"labelled{suffix}")
    result = stamp(studio, make_frame(), out)
    tags = exiftool(out)
    check_label(tags["XMP-TC260:Aigc"], result["content_id"])
    assert tags["XMP-iptcExt:DigitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert trusted(studio, out)


def test_stamped_clip_carries_the_label_in_mdta_and_xmp_and_stays_trusted(
    studio: Path, clip: tuple[Path, dict[str, Any]]
) -> None:
    out, result = clip
    tags = ffprobe_tags(out)
    check_label(tags["AIGC"], result["content_id"])
    meta = exiftool(out)
    assert meta["Keys:AIGC"] == tags["AIGC"]
    assert meta["XMP-TC260:Aigc"] == tags["AIGC"]
    assert meta["XMP-iptcExt:DigitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert trusted(studio, out)
