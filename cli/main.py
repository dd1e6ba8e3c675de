"""Root command group: global flags, shared state, and the registered commands."""

from __future__ import annotations

from pathlib import Path

import click

from ._errors import ProvenanceGroup
from ._state import AppState
from .commands import (
    init_cmd,
    keys_cmd,
    label_cmd,
    ledger_cmd,
    license_cmd,
    report_cmd,
    sample_cmd,
    serve_cmd,
    stamp_cmd,
    stream_cmd,
    verify_cmd,
)


@click.group(cls=ProvenanceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False, path_type=Path),
    help="Workspace directory (default: $PROVENANCE_WORKSPACE, else the current directory "
    "or a parent holding provenance-workspace.json).",
)
@click.version_option(package_name="avatar-provenance", prog_name="provenance")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """Stamp synthetic avatar media with signed consent-scoped provenance, and verify it.

    Exit codes: 0 ok or verified; 1 provenance present but failing; 2 usage or input error;
    3 no provenance found; 4 refused by the consent license.
    """
    ctx.obj = AppState(workspace)


for command in (
    init_cmd.init,
    keys_cmd.keys,
    license_cmd.license_group,
    stamp_cmd.stamp,
    stream_cmd.stream,
    verify_cmd.verify,
    sample_cmd.sample,
    report_cmd.report,
    label_cmd.label_group,
    ledger_cmd.ledger_group,
    serve_cmd.serve,
):
    cli.add_command(command)


def main(args: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=args, prog_name="provenance")
