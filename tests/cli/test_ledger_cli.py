"""The usage ledger through the CLI: stills and clips recorded, royalties, export, tampering."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from provenance.cli.main import cli
from provenance.clip import StampedVideoWriter
from provenance.consent import License
from provenance.media.synthetic import avatar_clip_frame
from provenance.stamp import Stamper
from provenance.workspace import Workspace

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
FACE = "face-ledger"


def invoke(studio: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--workspace", str(studio), *args])


@pytest.fixture(scope="module")
def studio(
    tmp_path_factory: pytest.TempPathFactory, avatar_clip: Callable[..., Path]
) -> Path:
    """A studio with one still, one clip file and one rendered clip stamped for FACE."""
    root = tmp_path_factory.mktemp("ledger") / "studio"
    assert CliRunner().invoke(cli, ["init", str(root), "--vendor", "Ledger Studio"]).exit_code == 0
    until = (date.today() + timedelta(days=90)).isoformat()
    lic = root / "license.json"
    result = invoke(root, "license", "grant", "--face-id", FACE, "--allow", "education",
                    "--territory", "EU,US", "--until", until, "--royalty-per-use", "0.50",
                    "--royalty-per-minute", "3.00", "--royalty-per-licensee", "20",
                    "-o", str(lic))  # fmt: skip
    assert result.exit_code == 0, result.output
    media = root / "media"
    media.mkdir()
    from PIL import Image

    from provenance.media.synthetic import avatar_frame

    Image.fromarray(avatar_frame(384, 512)).save(media / "frame.png")
    clip = avatar_clip(media / "clip.mp4", seconds=0.4, size=(480, 272), audio=False)
    for src, dst, territory in ((media / "frame.png", "still.png", "DE"),
                                (clip, "signed-clip.mp4", "US")):  # fmt: skip
        result = invoke(root, "stamp", str(src), "-o", str(media / dst), "--license", str(lic),
                        "--purpose", "education", "--territory", territory,
                        "--preset", "ultrafast")  # fmt: skip
        assert result.exit_code == 0, result.output
    stamper = Stamper.from_workspace(Workspace.open(root))
    with StampedVideoWriter(stamper, media / "rendered.mp4", license=License.load(lic),
                            purpose="education", width=480, height=272,
                            fps=Fraction(25)) as writer:  # fmt: skip
        for index in range(10):
            writer.write_rgb(avatar_clip_frame(index, 272, 480, fps=25))
    stamper.close()
    return root


def export(studio: Path, *args: str) -> Result:
    result = invoke(studio, "ledger", "--face-id", FACE, *args)
    assert result.exit_code == 0, result.output
    return result


def test_every_stamp_is_an_entry_with_its_fields(studio: Path) -> None:
    body = json.loads(export(studio, "--json").stdout)
    uses = body["uses"]
    lic = License.load(studio / "license.json")
    assert [u["kind"] for u in uses] == ["still", "clip", "clip"]
    assert [u["seq"] for u in uses] == [1, 2, 3]
    still, clip, rendered = uses
    assert (still["frames"], still["duration_s"]) == (1, None)
    assert (clip["frames"], clip["duration_s"]) == (12, "0.400")
    assert (rendered["frames"], rendered["duration_s"]) == (10, "0.400")
    assert (still["territory"], clip["territory"], rendered["territory"]) == ("DE", "US", "EU,US")
    for use in uses:
        assert use["face_id"] == FACE and use["license_id"] == lic.license_id
        assert use["licensee"] == "Ledger Studio" and use["purpose"] == "education"
        assert len(use["content_id"]) == 16
    records = Workspace.open(studio).repository().by_face(FACE)
    assert sorted(u["content_id"] for u in uses) == sorted(r.content_id.hex for r in records)
    assert body["checkpoint"]["size"] == 3


def test_royalties_follow_the_license_terms(studio: Path) -> None:
    # Hand computation: 3 uses x 0.50, + 20 for the first use by the licensee,
    # + 3.00/min x (0.4 s + 0.4 s) = 3.00 x 0.8 / 60 = 0.04.
    body = json.loads(export(studio, "--json").stdout)
    assert body["royalties"]["totals"] == {"EUR": "21.54"}
    assert [u["amount"] for u in body["uses"]] == ["20.50", "0.52", "0.52"]
    human = export(studio).stdout
    assert "royalties due: 21.54 EUR" in human and "3 use(s) of face face-ledger" in human


def test_csv_export_is_written_atomically_and_never_overwritten(
    studio: Path, tmp_path: Path
) -> None:
    out = tmp_path / "uses.csv"
    export(studio, "--csv", "-o", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["kind"] for r in rows] == ["still", "clip", "clip"]
    assert sum(float(r["amount"]) for r in rows) == pytest.approx(21.54)
    again = invoke(studio, "ledger", "--face-id", FACE, "--csv", "-o", str(out))
    assert again.exit_code == 2 and "already exists" in again.stderr
    export(studio, "--csv", "-o", str(out), "--force")
    stdout = export(studio, "--csv").stdout
    assert stdout.splitlines()[0].startswith("seq,recorded_at,face_id,license_id")
    assert list(tmp_path.iterdir()) == [out]


def _tampered_copy(studio: Path, tmp_path: Path, *statements: str) -> Path:
    copy = tmp_path / "studio"
    shutil.copytree(studio, copy)
    db = sqlite3.connect(copy / "ledger.sqlite")
    for trigger in ("entries_no_update", "entries_no_delete"):
        db.execute(f"DROP TRIGGER {trigger}")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()
    return copy


def test_ledger_verify_passes_when_intact(studio: Path) -> None:
    result = invoke(studio, "ledger", "verify")
    assert result.exit_code == 0 and result.stdout.startswith("INTACT  3 entries")


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE entries SET territory='RU' WHERE seq=2", "entry 2 was edited"),
        ("DELETE FROM entries WHERE seq=2", "entry 2 was deleted"),
        ("DELETE FROM entries WHERE seq=3", "entries 3..3 were removed"),
    ],
    ids=["edited", "deleted", "truncated"],
)
def test_ledger_verify_catches_tampering(
    studio: Path, tmp_path: Path, statement: str, expected: str
) -> None:
    copy = _tampered_copy(studio, tmp_path, statement)
    result = invoke(copy, "ledger", "verify")
    assert result.exit_code == 1 and result.stdout.startswith("TAMPERED")
    assert expected in result.stdout
    as_json = json.loads(invoke(copy, "ledger", "verify", "--json").stdout)
    assert as_json["intact"] is False


def test_a_pinned_export_catches_a_tail_removed_with_its_checkpoints(
    studio: Path, tmp_path: Path
) -> None:
    pinned = tmp_path / "owner-copy.json"
    export(studio, "--json", "-o", str(pinned))
    copy = _tampered_copy(studio, tmp_path, "DELETE FROM entries WHERE seq=3")
    db = sqlite3.connect(copy / "ledger.sqlite")
    db.execute("DROP TRIGGER checkpoints_no_delete")
    db.execute("DELETE FROM checkpoints WHERE size=3")
    db.commit()
    db.close()
    assert invoke(copy, "ledger", "verify").exit_code == 0
    result = invoke(copy, "ledger", "verify", "--checkpoint", str(pinned))
    assert result.exit_code == 1 and "entries 3..3 were removed" in result.stdout
