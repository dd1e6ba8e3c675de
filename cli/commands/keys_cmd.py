"""``provenance keys``: the vendor's signing identity and face-owner key pairs."""

from __future__ import annotations

from pathlib import Path

import click

from .._output import emit_fields, emit_json, status
from .._state import app_state
from .init_cmd import ALGORITHMS


@click.group()
def keys() -> None:
    """Signing certificates, trust anchors and face-owner keys."""


@keys.command("generate")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default="es256", show_default=True)
@click.option("--force", is_flag=True, help="Replace the workspace's existing CA and signer.")
def generate(algorithm: str, force: bool) -> None:
    """Create a new root CA and signing certificate in the workspace."""
    from provenance.identity import SigningAlgorithm

    state = app_state()
    workspace = state.workspace()
    identity = workspace.generate_identity(
        algorithm=SigningAlgorithm(algorithm), passphrase=state.passphrase(), force=force
    )
    status(f"new signer {identity.subject} ({algorithm}), root {workspace.root_ca_cert}")


@keys.command("import")
@click.option("--key", "key_path", required=True, type=click.Path(path_type=Path),
              help="PEM private key of the signing certificate.")
@click.option("--chain", "chain_path", required=True, type=click.Path(path_type=Path),
              help="PEM chain: signing certificate first, then intermediates.")
@click.option("--root", "root_path", type=click.Path(path_type=Path),
              help="PEM root CA that verifiers will trust.")
@click.option("--force", is_flag=True, help="Replace the workspace's existing signer.")
def import_(key_path: Path, chain_path: Path, root_path: Path | None, force: bool) -> None:
    """Install an existing key and certificate chain as the workspace signer."""
    from provenance._internal.files import write_atomic
    from provenance.identity import SigningIdentity
    from provenance.trust import TrustAnchors

    state = app_state()
    workspace = state.workspace()
    identity = SigningIdentity.from_files(key=key_path, chain=chain_path,
                                          passphrase=state.passphrase())
    root_pem = TrustAnchors.from_files(root_path).pem if root_path else None
    identity.save(key_path=workspace.signer_key, chain_path=workspace.signer_chain,
                  passphrase=state.passphrase(), force=force)
    if root_pem is not None:
        write_atomic(workspace.root_ca_cert, root_pem, force=True)
    status(f"imported signer {identity.subject} ({identity.algorithm.value})")



@keys.command("owner")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Private key path; the public key goes beside it as .pub.")
@click.option("--force", is_flag=True, help="Replace existing files.")
def owner(output: Path, force: bool) -> None:
    """Create a face owner's Ed25519 key pair for signing consent licenses."""
    from provenance.owner import OwnerKey

    key = OwnerKey.generate()
    key.save(output, passphrase=app_state().passphrase(), force=force)
    status(f"wrote {output} (0600) and {output.with_suffix('.pub')}")
    click.echo(key.public_key)


@keys.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def show(as_json: bool) -> None:
    """Show the workspace's signer, trust anchor and demo owner key."""
    from provenance.owner import load_public_key

    state = app_state()
    workspace = state.workspace()
    identity = workspace.signer(state.passphrase())
    anchors = workspace.trust_anchors()
    info = {
        "signer": identity.subject,
        "algorithm": identity.algorithm.value,
        "fingerprint": identity.fingerprint,
        "not_after": identity.not_after.isoformat(),
        "trust_anchor": anchors.fingerprints[0] if anchors.fingerprints else None,
        "owner_public_key": (load_public_key(workspace.owner_public_path)
                             if workspace.owner_public_path.exists() else None),
    }
    if as_json:
        emit_json(info)
    else:
        emit_fields([(k.replace("_", " "), str(v)) for k, v in info.items()])


@keys.command("check")
@click.argument("chain", type=click.Path(path_type=Path))
def check(chain: Path) -> None:
    """Check a certificate chain against the C2PA signing profile (exit 1 on problems)."""
    from provenance._internal.files import read_input
    from provenance.identity import check_certificate_profile

    problems = check_certificate_profile(read_input(chain))
    if problems:
        for problem in problems:
            click.echo(f"{chain}: {problem}", err=True)
        raise click.exceptions.Exit(1)
    status(f"{chain}: acceptable C2PA signing certificate chain")
