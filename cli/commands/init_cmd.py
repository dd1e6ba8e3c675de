"""``provenance init``: a ready-to-stamp workspace in one command."""

from __future__ import annotations

from pathlib import Path

import click

from .._output import emit_fields, status
from .._state import app_state

ALGORITHMS = ("es256", "es384", "ps256", "ed25519")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--vendor", default="Demo Avatar Studio", show_default=True,
              help="Vendor name: certificate organisation and license licensee.")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default="es256", show_default=True,
              help="Signing algorithm of the vendor certificate.")
@click.option("--encrypt-keys", is_flag=True,
              help="Encrypt private keys with $PROVENANCE_KEY_PASSPHRASE.")
@click.option("--repository", metavar="URL",
              help="Manifest repository to record in the settings: a SQLite path or a "
              "postgresql:// URL without password (default: repository.sqlite here).")
@click.option("--content-producer",
              help="GB 45438 ContentProducer (your TC260 provider code; default: the vendor "
              "name without spaces).")
@click.option("--visible-label/--no-visible-label", default=False, show_default=True,
              help="Stamp the visible 'AI-generated' label by default.")
@click.option("--label-language", type=click.Choice(["en", "zh", "zh-full"]), default="en",
              show_default=True, help="Language of the visible label.")
@click.option("--force", is_flag=True, help="Replace an existing workspace (new keys!).")
def init(directory: Path, vendor: str, algorithm: str, encrypt_keys: bool,
         repository: str | None, content_producer: str | None, visible_label: bool,
         label_language: str, force: bool) -> None:
    """Create a workspace: vendor CA and signing certificate, demo face-owner key, repository."""
    from provenance.errors import WorkspaceError
    from provenance.identity import SigningAlgorithm
    from provenance.labels import LabelSettings
    from provenance.workspace import Workspace

    passphrase = app_state().passphrase() if encrypt_keys else None
    if encrypt_keys and passphrase is None:
        raise WorkspaceError("--encrypt-keys needs $PROVENANCE_KEY_PASSPHRASE to be set")
    workspace = Workspace.create(
        directory, vendor=vendor, algorithm=SigningAlgorithm(algorithm),
        passphrase=passphrase, force=force, repository=repository,
        labels=LabelSettings(content_producer=content_producer, visible_label=visible_label,
                             language=label_language),
    )
    status(f"created workspace {workspace.root}")
    emit_fields([
        ("vendor", workspace.settings.vendor),
        ("issuer code", f"{workspace.settings.issuer:04x}"),
        ("trust anchor", str(workspace.root_ca_cert)),
        ("signer", f"{workspace.signer_chain} ({algorithm})"),
        ("owner key", str(workspace.owner_key_path)),
        ("repository", str(workspace.repository_url())),
        ("engine", workspace.settings.engine),
        ("content producer",
         workspace.settings.labels.producer(workspace.settings.vendor)),
        ("visible label", f"{'on' if visible_label else 'off'} ({label_language})"),
    ])
