"""Consent lifecycle through the CLI: revoke, supersede, expire; stamping refuses, verify reports.

Each test grants its own license for its own face, so tests sharing the studio stay independent.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from provenance.cli.main import cli
from provenance.clip import StampedVideoWriter
from provenance.consent import License, grant_license
from provenance.errors import ScopeViolationError
from provenance.lifecycle import revoke_license
from provenance.owner import OwnerKey
from provenance.stamp import Stamper
from provenance.workspace import Workspace

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
FAST = ("--preset", "ultrafast")


def invoke(studio: Path | None, *args: str) -> Result:
    prefix = ["--workspace", str(studio)] if studio is not None else []
    return CliRunner().invoke(cli, [*prefix, *args])


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lifecycle") / "studio"
    result = CliRunner().invoke(cli, ["init", str(root), "--vendor", "Lifecycle Studio"])
    assert result.exit_code == 0, result.output
    return root


def grant(studio: Path, face: str, out: Path, *extra: str) -> Path:
    until = (date.today() + timedelta(days=90)).isoformat()
    result = invoke(studio, "license", "grant", "--face-id", face, "--allow", "education",
                    "--territory", "EU", "--until", until, "-o", str(out), *extra)  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def stamp(studio: Path, lic: Path, src: Path, dst: Path) -> Result:
    return invoke(studio, "stamp", str(src), "-o", str(dst), "--license", str(lic),
                  "--purpose", "education", *FAST)  # fmt: skip


def verify_json(studio: Path | None, path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = invoke(studio, "verify", str(path), "--json", *extra)
    return result.exit_code, json.loads(result.stdout)


@needs_ffmpeg
def test_revoke_refuses_the_next_stamp_and_verify_reports_revoked_since(
    studio: Path,
    tmp_path: Path,
    make_frame: Callable[..., Path],
    avatar_clip: Callable[..., Path],
) -> None:
    lic = grant(studio, "face-revoked", tmp_path / "lic.json")
    src = make_frame()
    clip = avatar_clip(tmp_path / "src.mp4", seconds=0.3, size=(480, 272), audio=False)
    assert stamp(studio, lic, src, tmp_path / "before.png").exit_code == 0
    assert stamp(studio, lic, clip, tmp_path / "before.mp4").exit_code == 0

    rev = tmp_path / "revocation.json"
    result = invoke(studio, "license", "revoke", str(lic), "--reason", "used for scam ads",
                    "-o", str(rev))  # fmt: skip
    assert result.exit_code == 0, result.output

    for src_path, out in ((src, "after.png"), (clip, "after.mp4")):
        refused = stamp(studio, lic, src_path, tmp_path / out)
        assert refused.exit_code == 4, refused.output
        assert "violates the revoked clause" in refused.stderr
        assert not (tmp_path / out).exists()
    workspace = Workspace.open(studio)
    stamper = Stamper.from_workspace(workspace)
    with pytest.raises(ScopeViolationError) as sdk:
        StampedVideoWriter(stamper, tmp_path / "sdk.mp4", license=License.load(lic),
                           purpose="education", width=480, height=272,
                           fps=Fraction(25))  # fmt: skip
    stamper.close()
    assert sdk.value.clause == "revoked"

    for old in ("before.png", "before.mp4"):
        code, report = verify_json(studio, tmp_path / old)
        status = report["license_status"]
        assert code == 0 and report["verdict"] == "verified"
        assert (status["at_signing"], status["now"], status["source"]) == (
            "valid", "revoked", "workspace"
        )  # fmt: skip
        assert status["summary"].startswith("signed while valid, revoked since ")
        assert status["revocation_reason"] == "used for scam ads"
    human = invoke(studio, "verify", str(tmp_path / "before.png"))
    assert "signed while valid, revoked since" in human.stdout

    # A platform without the workspace: the owner's revocation file is enough.
    trust = str(studio / "keys" / "root-ca.pem")
    code, report = verify_json(None, tmp_path / "before.png", "--trust", trust,
                               "--revocations", str(rev))  # fmt: skip
    assert code == 0 and report["license_status"]["now"] == "revoked"
    assert report["license_status"]["source"] == "file"
    code, report = verify_json(None, tmp_path / "before.png", "--trust", trust)
    assert report["license_status"]["source"] is None
    assert report["license_status"]["now"] == "valid"
    skipped = [c for c in report["checks"] if c["name"] == "likeness.license_status"]
    assert skipped[0]["status"] == "skip"


def test_content_stamped_after_a_revocation_fails_verify(
    studio: Path, tmp_path: Path, make_frame: Callable[..., Path]
) -> None:
    """A vendor that never imported the revocation: the platform still sees the violation."""
    key = OwnerKey.generate()
    lic = grant_license(owner_key=key, owner_name="Bo", face_id="face-late",
                        licensee="Lifecycle Studio", allow=["education"], deny=[],
                        territories=["EU"], not_after=date.today() + timedelta(days=30),
                        intended_uses="Narrated physics lectures for an online school")  # fmt: skip
    lic.save(tmp_path / "lic.json")
    revocation = revoke_license(lic, owner_key=key, reason="withdrawn")
    revocation.save(tmp_path / "rev.json")
    assert stamp(studio, tmp_path / "lic.json", make_frame(), tmp_path / "late.png").exit_code == 0
    code, report = verify_json(studio, tmp_path / "late.png", "--revocations",
                               str(tmp_path / "rev.json"))  # fmt: skip
    assert code == 1 and report["verdict"] == "failed"
    assert report["license_status"]["at_signing"] == "revoked"
    assert report["license_status"]["summary"].startswith("signed while the license was not valid")
    assert {"clause": "revoked"}.items() <= report["likeness"]["violations"][-1].items()
    assert report["likeness"]["in_scope"] is False


def test_a_revocation_signed_by_the_wrong_key_is_refused(
    studio: Path, tmp_path: Path, make_frame: Callable[..., Path]
) -> None:
    lic = grant(studio, "face-wrongkey", tmp_path / "lic.json")
    assert stamp(studio, lic, make_frame(), tmp_path / "ok.png").exit_code == 0
    stranger = tmp_path / "stranger.key"
    OwnerKey.generate().save(stranger)
    result = invoke(studio, "license", "revoke", str(lic), "--reason", "not mine",
                    "--owner-key", str(stranger), "-o", str(tmp_path / "r.json"))  # fmt: skip
    assert result.exit_code == 4 and "not the license owner's" in result.stderr
    # A forged document: same license ID, signed by someone else's key.
    real = License.load(lic)
    impostor_key = OwnerKey.generate()
    impostor = grant_license(owner_key=impostor_key, owner_name="Eve", face_id="face-wrongkey",
                             licensee=real.grant.licensee, allow=["education"], deny=[],
                             territories=["EU"], not_after=real.grant.scope.not_after,
                             intended_uses="Narrated physics lectures for an online school",
                             license_id=real.license_id)  # fmt: skip
    revoke_license(impostor, owner_key=impostor_key, reason="forged").save(tmp_path / "f.json")
    result = invoke(studio, "license", "import", str(tmp_path / "f.json"))
    assert result.exit_code == 4, result.output
    assert "not signed by the license's owner" in result.stderr
    assert stamp(studio, lic, make_frame(), tmp_path / "still-ok.png").exit_code == 0


def test_an_expired_license_is_refused_with_the_date_clause(
    studio: Path, tmp_path: Path, make_frame: Callable[..., Path]
) -> None:
    lic = tmp_path / "old.json"
    first = (date.today() - timedelta(days=60)).isoformat()
    last = (date.today() - timedelta(days=1)).isoformat()
    result = invoke(studio, "license", "grant", "--face-id", "face-expired", "--allow",
                    "education", "--territory", "EU", "--from", first, "--until", last,
                    "-o", str(lic))  # fmt: skip
    assert result.exit_code == 0, result.output
    refused = stamp(studio, lic, make_frame(), tmp_path / "x.png")
    assert refused.exit_code == 4 and "violates the date clause" in refused.stderr
    status = invoke(studio, "license", "status", str(lic), "--json")
    assert json.loads(status.stdout)["state"] == "expired"


def test_a_superseded_license_is_refused_and_old_content_says_so(
    studio: Path, tmp_path: Path, make_frame: Callable[..., Path]
) -> None:
    old = grant(studio, "face-renewed", tmp_path / "old.json")
    assert stamp(studio, old, make_frame(), tmp_path / "old.png").exit_code == 0
    # License issue times are whole seconds: start the new one in a later second than the
    # old stamp, so "signed while valid" is unambiguous.
    time.sleep(1 - datetime.now(UTC).microsecond / 1e6)
    new = grant(studio, "face-renewed", tmp_path / "new.json", "--supersedes", str(old))
    assert License.load(new).grant.supersedes == License.load(old).license_id
    imported = invoke(studio, "license", "import", str(new))
    assert imported.exit_code == 0 and "superseding" in imported.stderr
    refused = stamp(studio, old, make_frame(), tmp_path / "again.png")
    assert refused.exit_code == 4 and "violates the superseded clause" in refused.stderr
    assert stamp(studio, new, make_frame(), tmp_path / "new.png").exit_code == 0
    code, report = verify_json(studio, tmp_path / "old.png")
    assert code == 0
    assert report["license_status"]["now"] == "superseded"
    assert report["license_status"]["superseded_by"] == License.load(new).license_id
    assert report["license_status"]["summary"].startswith("signed while valid, superseded by")
    listed = tmp_path / "status.json"
    assert invoke(studio, "license", "status-list", "-o", str(listed)).exit_code == 0
    assert len(json.loads(listed.read_bytes())["supersessions"]) >= 1


def test_revoke_without_workspace_needs_an_output(tmp_path: Path) -> None:
    key = tmp_path / "owner.key"
    OwnerKey.generate().save(key)
    result = invoke(None, "license", "revoke", str(tmp_path / "missing.json"), "--reason", "x",
                    "--owner-key", str(key))  # fmt: skip
    assert result.exit_code == 2 and "-o FILE" in result.output
