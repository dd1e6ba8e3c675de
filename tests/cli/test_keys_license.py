"""`keys` and `license` commands, and workspaces with encrypted keys."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from provenance.cli.main import cli
from provenance.identity import CertificateAuthority, SigningAlgorithm
from provenance.owner import load_public_key

UNTIL = (date.today() + timedelta(days=200)).isoformat()


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(cli, list(args))


def init(root: Path, *extra: str, env: dict[str, str] | None = None) -> Path:
    result = run("init", str(root), *extra, env=env)
    assert result.exit_code == 0, result.output
    return root


def grant(ws: Path, out: Path, env: dict[str, str] | None = None) -> None:
    result = run(
        "-w",
        str(ws),
        "license",
        "grant",
        "--face-id",
        "face-9",
        "--allow",
        "education",
        "--territory",
        "US",
        "--until",
        UNTIL,
        "-o",
        str(out),
        env=env,
    )
    assert result.exit_code == 0, result.output


def stamp_and_verify(ws: Path, frame: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    lic = ws / "lic.json"
    if not lic.exists():
        grant(ws, lic, env)
    out = frame.with_name(f"out-{ws.name}.png")
    result = run(
        "-w",
        str(ws),
        "stamp",
        str(frame),
        "-o",
        str(out),
        "--license",
        str(lic),
        "--purpose",
        "education",
        "--force",
        env=env,
    )
    assert result.exit_code == 0, result.output
    verified = run("-w", str(ws), "verify", str(out), "--json", env=env)
    assert verified.exit_code == 0, verified.stdout
    report: dict[str, object] = json.loads(verified.stdout)
    return report


@pytest.mark.parametrize("algorithm", ["es384", "ps256", "ed25519"])
def test_each_algorithm_stamps_trusted(
    tmp_path: Path, make_frame: Callable[..., Path], algorithm: str
) -> None:
    ws = init(tmp_path / algorithm, "--algorithm", algorithm)
    shown = json.loads(run("-w", str(ws), "keys", "show", "--json").stdout)
    assert shown["algorithm"] == algorithm
    report = stamp_and_verify(ws, make_frame())
    assert report["manifest"]["validation_state"] == "Trusted"  # type: ignore[index]


def test_keys_generate_replaces_only_with_force(tmp_path: Path) -> None:
    ws = init(tmp_path / "ws")
    before = (ws / "keys" / "signer-chain.pem").read_bytes()
    assert run("-w", str(ws), "keys", "generate").exit_code == 2
    assert run("-w", str(ws), "keys", "generate", "--force").exit_code == 0
    assert (ws / "keys" / "signer-chain.pem").read_bytes() != before


def test_keys_import_existing_chain(tmp_path: Path, make_frame: Callable[..., Path]) -> None:
    ws = init(tmp_path / "ws")
    ca = CertificateAuthority.generate(common_name="Outside CA", organization="Outside")
    identity = ca.issue_signer(
        common_name="Outside Signer", organization="Outside", algorithm=SigningAlgorithm.ES256
    )
    outside = tmp_path / "outside"
    identity.save(key_path=outside / "k.key", chain_path=outside / "chain.pem")
    (outside / "root.pem").write_bytes(ca.certificate_pem)
    result = run(
        "-w",
        str(ws),
        "keys",
        "import",
        "--key",
        str(outside / "k.key"),
        "--chain",
        str(outside / "chain.pem"),
        "--root",
        str(outside / "root.pem"),
        "--force",
    )
    assert result.exit_code == 0, result.output
    report = stamp_and_verify(ws, make_frame())
    assert report["manifest"]["signer"] == "Outside Signer"  # type: ignore[index]
    assert report["manifest"]["validation_state"] == "Trusted"  # type: ignore[index]


def test_keys_import_rejects_mismatch_in_one_line(tmp_path: Path) -> None:
    ws = init(tmp_path / "ws")
    result = run(
        "-w",
        str(ws),
        "keys",
        "import",
        "--key",
        str(ws / "keys" / "owner.key"),
        "--chain",
        str(ws / "keys" / "signer-chain.pem"),
        "--force",
    )
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_keys_check(tmp_path: Path) -> None:
    ws = init(tmp_path / "ws")
    assert run("keys", "check", str(ws / "keys" / "signer-chain.pem")).exit_code == 0
    # A CA certificate is no signing certificate: c2pa rejects CA:TRUE end entities.
    result = run("keys", "check", str(ws / "keys" / "root-ca.pem"))
    assert result.exit_code == 1
    assert "root-ca.pem" in result.stderr


def test_keys_owner_writes_private_0600(tmp_path: Path) -> None:
    out = tmp_path / "alice.key"
    result = run("keys", "owner", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ed25519:")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.with_suffix(".pub").exists()
    assert run("keys", "owner", "-o", str(out)).exit_code == 2


def test_grant_with_other_owner_key_and_show(tmp_path: Path) -> None:
    ws = init(tmp_path / "ws")
    run("keys", "owner", "-o", str(tmp_path / "bob.key"))
    lic = tmp_path / "bob-license.json"
    result = run(
        "-w",
        str(ws),
        "license",
        "grant",
        "--face-id",
        "face-bob",
        "--licensee",
        "X",
        "--allow",
        "news",
        "--territory",
        "FR",
        "--until",
        UNTIL,
        "--owner-key",
        str(tmp_path / "bob.key"),
        "--royalty-per-use",
        "0.50",
        "-o",
        str(lic),
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(run("license", "show", str(lic), "--json").stdout)
    bob = load_public_key((tmp_path / "bob.key").with_suffix(".pub"))
    assert shown["signature"] == "valid"
    assert shown["license"]["grant"]["owner"]["public_key"] == bob
    assert shown["license"]["terms"]["royalties"]["per_use"] == "0.50"


def test_bad_royalty_is_one_line(tmp_path: Path) -> None:
    ws = init(tmp_path / "ws")
    result = run(
        "-w",
        str(ws),
        "license",
        "grant",
        "--face-id",
        "f",
        "--allow",
        "news",
        "--territory",
        "FR",
        "--until",
        UNTIL,
        "--royalty-per-use",
        "0,50",
        "-o",
        str(tmp_path / "l.json"),
    )
    assert result.exit_code == 4
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "l.json").exists()


def test_encrypted_workspace_needs_passphrase(
    tmp_path: Path, make_frame: Callable[..., Path]
) -> None:
    env = {"PROVENANCE_KEY_PASSPHRASE": "correct horse"}
    ws = init(tmp_path / "ws", "--encrypt-keys", env=env)
    assert b"ENCRYPTED" in (ws / "keys" / "signer.key").read_bytes()
    stamp_and_verify(ws, make_frame(), env=env)
    wrong = run("-w", str(ws), "keys", "show", env={"PROVENANCE_KEY_PASSPHRASE": "wrong"})
    assert wrong.exit_code == 2
    assert "correct horse" not in wrong.output
