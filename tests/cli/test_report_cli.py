"""``provenance report``: a folder of downloads yields the right verdicts and a bundle that
``report verify`` accepts, and that fails once anything in it or behind it is changed.

The folder is issue 6's done-when set plus one: a clip stamped under a license that allows
politics (in scope), a clip of the same face under a license that denies it (out of scope:
purpose), a stripped re-encode of that clip (ffmpeg, as a platform would), a clip stamped
under a license its owner revoked afterwards (out of scope: revoked), an unrelated video (no
license), and a still of another face; the report observes them all used for politics in
Germany.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from provenance.cli.main import cli

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg (make setup)")

FACE = "face-0042"


def invoke(workspace: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--workspace", str(workspace), *args])


def grant(studio: Path, name: str, face: str, allow: str, deny: str) -> Path:
    path = studio / f"{name}.json"
    until = (date.today() + timedelta(days=365)).isoformat()
    result = invoke(studio, "license", "grant", "--face-id", face, "--allow", allow, "--deny",
                    deny, "--territory", "EU,US", "--until", until, "-o", str(path))  # fmt: skip
    assert result.exit_code == 0, result.output
    return path


def stamp(studio: Path, license_file: Path, src: Path, dst: Path, purpose: str) -> None:
    result = invoke(studio, "stamp", str(src), "-o", str(dst), "--license", str(license_file),
                    "--purpose", purpose, "--territory", "DE", "--preset", "veryfast")  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def case(
    tmp_path_factory: pytest.TempPathFactory, avatar_clip: Callable[..., Path]
) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("report")
    studio = base / "studio"
    result = CliRunner().invoke(cli, ["init", str(studio), "--vendor", "Report Studio"])
    assert result.exit_code == 0, result.output
    campaign = grant(studio, "campaign", FACE, "politics,education", "gambling")
    lessons = grant(studio, "lessons", FACE, "education,marketing", "politics")
    other = grant(studio, "other", "face-0099", "politics", "gambling")
    withdrawn = grant(studio, "withdrawn", FACE, "politics,education", "gambling")
    src = base / "src"
    src.mkdir()
    invoke(studio, "sample", str(src / "frame.png"), "--size", "512x384")
    clip = avatar_clip(src / "lesson.mp4", seconds=1.0, size=(640, 360), fps=30, audio=False)
    downloads = base / "downloads"
    downloads.mkdir()
    stamp(studio, campaign, clip, downloads / "a-campaign.mp4", "politics")
    stamp(studio, lessons, clip, downloads / "b-lesson.mp4", "education")
    avatar_clip(downloads / "c-unrelated.mp4", seconds=1.0, size=(640, 360), audio=False, seed=5)
    stamp(studio, other, src / "frame.png", downloads / "d-other-face.png", "politics")
    stamp(studio, withdrawn, clip, downloads / "f-revoked.mp4", "politics")
    revoked = invoke(studio, "license", "revoke", str(withdrawn), "--reason", "no more politics",
                     "-o", str(base / "revocation.json"))  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(downloads / "b-lesson.mp4"), "-c:v",
         "libx264", "-crf", "23", "-map_metadata", "-1", str(downloads / "e-reupload.mp4")],
        check=True,
    )  # fmt: skip
    return {"studio": studio, "downloads": downloads, "base": base}


def report(case: dict[str, Path], out: Path, *extra: str) -> Result:
    return invoke(case["studio"], "report", str(case["downloads"]), "--face-id", FACE,
                  "--observed-purpose", "politics", "--observed-territory", "DE",
                  "--source-url", "https://video.example/watch?v=1", "-o", str(out),
                  "--jobs", "2", *extra)  # fmt: skip


@pytest.fixture(scope="module")
def bundle(case: dict[str, Path]) -> tuple[Path, dict[str, Any]]:
    out = case["base"] / "evidence"
    result = report(case, out, "--json")
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(f["name"]).name: f for f in data["statement"]["files"]}


def test_each_file_gets_its_verdict_and_clause(bundle: tuple[Path, dict[str, Any]]) -> None:
    files = by_name(bundle[1])
    verdicts = {name: f["verdict"] for name, f in files.items()}
    assert verdicts == {
        "a-campaign.mp4": "in_scope",
        "b-lesson.mp4": "out_of_scope",
        "c-unrelated.mp4": "no_license",
        "d-other-face.png": "not_this_face",
        "e-reupload.mp4": "out_of_scope",
        "f-revoked.mp4": "out_of_scope",
    }
    for name in ("b-lesson.mp4", "e-reupload.mp4"):
        assert [(c["clause"], c["basis"]) for c in files[name]["clauses"]] == [
            ("purpose", "observed")
        ]
        assert "politics is denied" in files[name]["clauses"][0]["message"]
    assert files["a-campaign.mp4"]["clauses"] == []
    assert [(c["clause"], c["basis"]) for c in files["f-revoked.mp4"]["clauses"]] == [
        ("revoked", "observed")
    ]
    assert "face-0099" in files["d-other-face.png"]["reasons"][0]
    assert bundle[1]["statement"]["summary"] == {
        "in_scope": 1, "out_of_scope": 3, "no_license": 1, "not_this_face": 1
    }  # fmt: skip


def test_findings_say_how_the_manifest_was_obtained(bundle: tuple[Path, dict[str, Any]]) -> None:
    files = by_name(bundle[1])
    direct, stripped = files["b-lesson.mp4"], files["e-reupload.mp4"]
    assert direct["finding"]["manifest_source"] == "embedded"
    assert stripped["finding"]["manifest_source"] == "repository"
    assert stripped["finding"]["watermark_payload"] == direct["finding"]["watermark_payload"]
    assert stripped["license"]["license_id"] == direct["license"]["license_id"]
    assert direct["license"]["deny"] == ["politics"]
    assert files["c-unrelated.mp4"]["finding"]["watermark_detected"] is False
    assert files["c-unrelated.mp4"]["license"] is None
    for item in files.values():
        path = Path(item["path"])
        assert item["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert item["size"] == path.stat().st_size


def test_clips_carry_a_timeline_and_thumbnails(bundle: tuple[Path, dict[str, Any]]) -> None:
    out, data = bundle
    clip = by_name(data)["b-lesson.mp4"]
    assert len(clip["timeline"]) >= 10
    assert all(p["bit_agreement"] is not None for p in clip["timeline"])
    assert float(clip["timeline"][0]["bit_agreement"]) > 0.9
    thumbs = [a for a in clip["artifacts"] if a["kind"] == "thumbnail"]
    assert len(thumbs) >= 2 and all((out / a["path"]).is_file() for a in thumbs)
    report_file = next(a for a in clip["artifacts"] if a["kind"] == "verify-report")
    full = json.loads((out / report_file["path"]).read_text())
    assert full["verdict"] == "verified" and full["video"]["samples"]


def test_page_is_self_contained(bundle: tuple[Path, dict[str, Any]]) -> None:
    out, data = bundle
    page = (out / "index.html").read_text()
    assert "<svg" in page and "politics is denied" in page
    assert "<script" not in page and "http://" not in page.replace(
        "https://video.example/watch?v=1", ""
    )
    assert "src=\"https" not in page and "@import" not in page
    for item in data["statement"]["files"]:
        for artifact in item["artifacts"]:
            if artifact["kind"] == "thumbnail":
                assert f'src="{artifact["path"]}"' in page


def verify_bundle(path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["report", "verify", str(path), "--json", *extra])
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}


def test_bundle_verifies(bundle: tuple[Path, dict[str, Any]]) -> None:
    code, outcome = verify_bundle(bundle[0])
    assert code == 0, outcome
    assert outcome["files_checked"] == 6 and outcome["artifacts_checked"] > 10
    key = bundle[1]["signature"]["public_key"]
    assert verify_bundle(bundle[0], "--reporter-key", key)[0] == 0
    assert verify_bundle(bundle[0] / "evidence.json")[0] == 0


@pytest.fixture
def copy(bundle: tuple[Path, dict[str, Any]], tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundle[0], tmp_path / "copy"))


def test_edited_verdict_fails(copy: Path) -> None:
    data = json.loads((copy / "evidence.json").read_text())
    item = next(f for f in data["statement"]["files"] if f["verdict"] == "out_of_scope")
    item["verdict"], item["clauses"] = "in_scope", []
    (copy / "evidence.json").write_text(json.dumps(data, indent=2))
    code, outcome = verify_bundle(copy)
    assert code == 1
    assert any("signature does not verify" in p for p in outcome["problems"])


def test_edited_page_or_picture_fails(copy: Path) -> None:
    page = copy / "index.html"
    page.write_text(page.read_text().replace("Out of scope", "Licensed, in scope"))
    thumb = next(copy.glob("files/*/thumb*.jpg"))
    thumb.write_bytes(thumb.read_bytes()[:-10])
    code, outcome = verify_bundle(copy)
    assert code == 1
    assert {p.split(":")[0] for p in outcome["problems"]} == {
        "index.html", thumb.relative_to(copy).as_posix()
    }  # fmt: skip


def test_changed_or_missing_suspect(case: dict[str, Path], tmp_path: Path) -> None:
    downloads = Path(shutil.copytree(case["downloads"], tmp_path / "dl"))
    out = tmp_path / "ev"
    result = invoke(case["studio"], "report", str(downloads / "c-unrelated.mp4"),
                    str(downloads / "d-other-face.png"), "--face-id", FACE, "-o", str(out),
                    "--jobs", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "NOT_THIS_FACE" in result.stdout and "NO_LICENSE" in result.stdout
    (downloads / "c-unrelated.mp4").unlink()
    code, outcome = verify_bundle(out)
    assert code == 0 and outcome["files_checked"] == 1
    assert "no longer at" in outcome["notes"][0]
    with (downloads / "d-other-face.png").open("ab") as handle:
        handle.write(b"\0")
    code, outcome = verify_bundle(out)
    assert code == 1 and "differs from the file that was examined" in outcome["problems"][0]


def test_bad_input(case: dict[str, Path], bundle: tuple[Path, dict[str, Any]]) -> None:
    exists = report(case, bundle[0])
    assert exists.exit_code == 2 and "already exists" in exists.stderr
    bad = invoke(case["studio"], "report", str(case["downloads"]), "--face-id", FACE,
                 "--observed-purpose", "mischief", "-o", str(case["base"] / "x"))  # fmt: skip
    assert bad.exit_code == 2 and "unknown observed purpose" in bad.stderr
    missing = invoke(case["studio"], "report", str(case["base"] / "nope"), "--face-id", FACE,
                     "-o", str(case["base"] / "y"))  # fmt: skip
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    empty = case["base"] / "empty"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["report", "verify", str(empty)])
    assert result.exit_code == 2 and result.stderr.startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (case["base"] / "x").exists() and not (case["base"] / "y").exists()

