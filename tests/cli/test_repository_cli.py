"""Choosing the manifest repository from the CLI: --repository, the settings, the environment."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from provenance.cli.main import cli
from provenance.repository import open_repository


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _license(studio: Path) -> Path:
    path = studio / "license.json"
    until = (date.today() + timedelta(days=30)).isoformat()
    result = run("-w", str(studio), "license", "grant", "--face-id", "face-pg", "--allow",
                 "education", "--territory", "EU", "--until", until, "-o", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_postgres_workspace_stamps_and_a_verifier_resolves(
    postgres_url: str, tmp_path: Path, make_frame: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROVENANCE_REPOSITORY", raising=False)
    studio = tmp_path / "studio"
    made = run("init", str(studio), "--repository", postgres_url)
    assert made.exit_code == 0, made.output
    settings = json.loads((studio / "provenance-workspace.json").read_text())
    assert settings["repository"] == postgres_url
    out = tmp_path / "stamped.jpg"
    stamped = run("-w", str(studio), "stamp", str(make_frame()), "-o", str(out), "--license",
                  str(_license(studio)), "--purpose", "education")
    assert stamped.exit_code == 0, stamped.output
    assert not (studio / "repository.sqlite").exists()
    with open_repository(postgres_url) as repo:
        assert repo.count() == 1
    reupload = tmp_path / "reupload.jpg"
    Image.open(out).save(reupload, quality=85)  # re-encoding drops the manifest

    monkeypatch.chdir(tmp_path)  # a platform: no workspace, only the vendor's CA and database
    monkeypatch.delenv("PROVENANCE_WORKSPACE", raising=False)
    verified = run("verify", str(reupload), "--json", "--trust",
                   str(studio / "keys" / "root-ca.pem"), "--repository", postgres_url)
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    assert report["manifest"]["recovered_via_watermark"] is True
    assert report["likeness"]["face_id"] == "face-pg"


def test_init_refuses_a_password_in_the_settings(tmp_path: Path) -> None:
    result = run("init", str(tmp_path / "ws"), "--repository",
                 "postgresql://stamper:s3cret-pw@db.invalid/provenance")
    assert result.exit_code == 2
    assert "s3cret-pw" not in result.output
    assert "postgresql://stamper:***@db.invalid/provenance" in result.stderr
    assert not (tmp_path / "ws").exists()


def test_unreachable_database_is_one_line_without_password(tmp_path: Path) -> None:
    image = tmp_path / "x.png"
    Image.new("RGB", (64, 64)).save(image)
    result = run("verify", str(image), "--repository",
                 "postgresql://stamper:s3cret-pw@127.0.0.1:1/provenance?connect_timeout=3")
    assert result.exit_code == 1
    assert "s3cret-pw" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot open manifest repository" in lines[0], lines
    assert "stamper:***@127.0.0.1:1" in lines[0]


def test_sqlite_url_in_settings_is_relative_to_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_REPOSITORY", str(tmp_path / "elsewhere.sqlite"))
    monkeypatch.chdir(tmp_path)
    made = run("init", "ws", "--repository", "sqlite:///db/manifests.sqlite")
    assert made.exit_code == 0, made.output
    assert (tmp_path / "ws" / "db" / "manifests.sqlite").is_file()
    assert not (tmp_path / "db").exists()
    monkeypatch.delenv("PROVENANCE_REPOSITORY")
    shown = run("init", "ws2", "--repository", "sqlite:///db/manifests.sqlite")
    assert str(tmp_path / "ws2" / "db" / "manifests.sqlite") in shown.stdout


def test_verify_repository_flag_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROVENANCE_WORKSPACE", raising=False)
    image = tmp_path / "x.png"
    Image.new("RGB", (64, 64)).save(image)
    missing = run("verify", str(image), "--repository", "typo.sqlite")
    assert missing.exit_code == 2
    assert "typo.sqlite: no such repository file" in missing.stderr
    monkeypatch.setenv("PROVENANCE_REPOSITORY", "mysql://db/x")
    bad = run("verify", str(image))
    assert bad.exit_code == 2 and "unknown scheme 'mysql'" in bad.stderr
    assert not (tmp_path / "typo.sqlite").exists()
