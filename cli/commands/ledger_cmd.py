"""``provenance ledger``: a face's uses and royalties, and the ledger's integrity check."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .._output import emit_json, status
from .._state import app_state

if TYPE_CHECKING:
    from provenance.ledger import Checkpoint, LedgerEntry, RoyaltyStatement
    from provenance.workspace import Workspace

EXIT_TAMPERED = 1


@click.group("ledger", invoke_without_command=True)
@click.option("--face-id", help="The face whose uses to list.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (UTC) to list.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (UTC) to list.")
@click.option("--license", "license_files", multiple=True, type=click.Path(path_type=Path),
              help="A license file whose royalty terms to use (repeatable; default: the "
              "licenses the workspace recorded when stamping).")
@click.option("--csv", "as_csv", is_flag=True, help="Export one row per use as CSV.")
@click.option("--json", "as_json", is_flag=True, help="Export uses, totals and checkpoint as JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the export here (atomically) instead of stdout.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@click.pass_context
def ledger_group(ctx: click.Context, face_id: str | None, since: datetime | None,
                 until: datetime | None, license_files: tuple[Path, ...], as_csv: bool,
                 as_json: bool, output: Path | None, force: bool) -> None:
    """List a face's uses and the royalties they owe (spec/ledger.md); `ledger verify` checks
    that no entry was edited, deleted, reordered or cut off."""
    if ctx.invoked_subcommand is not None:
        return
    if face_id is None:
        raise click.UsageError("give --face-id F to list uses (or run 'ledger verify')")
    if as_csv and as_json:
        raise click.UsageError("choose one of --csv and --json")
    if output is not None and not (as_csv or as_json):
        raise click.UsageError("-o writes an export: add --csv or --json")
    workspace = app_state().workspace()
    with workspace.ledger_reader() as ledger:
        chain = ledger.entries(face_id)
        checkpoint = ledger.latest_checkpoint(face_id)
    statement = _statement(workspace, chain, license_files, since, until)
    if as_csv or as_json:
        _export(statement, face_id, checkpoint, as_csv=as_csv, output=output, force=force)
        return
    _render(face_id, statement)


def _statement(workspace: Workspace, chain: list[LedgerEntry], license_files: tuple[Path, ...],
               since: datetime | None, until: datetime | None) -> RoyaltyStatement:
    from provenance.consent import License
    from provenance.ledger import compute_royalties

    licenses: dict[str, License] = {}
    with workspace.consent_registry() as registry:
        for license_id in {entry.usage.license_id for entry in chain}:
            known = registry.license(license_id)
            if known is not None:
                licenses[license_id] = known
    for path in license_files:
        given = License.load(path)
        given.verify()
        licenses[given.license_id] = given
    first = since.date() if since else date.min
    last = until.date() if until else date.max
    period = [e for e in chain if first <= e.recorded_at.date() <= last]
    return compute_royalties(chain, licenses, include=period)


def _export(statement: RoyaltyStatement, face_id: str, checkpoint: Checkpoint | None, *,
            as_csv: bool, output: Path | None, force: bool) -> None:
    from provenance._internal.files import write_atomic
    from provenance.ledger import to_csv, to_json

    data = to_csv(statement) if as_csv else to_json(statement, face_id=face_id,
                                                    checkpoint=checkpoint)
    if output is None:
        click.echo(data.decode(), nl=False)
        return
    write_atomic(output, data, force=force)
    status(f"{len(statement.charges)} use(s) of {face_id} -> {output}")


def _render(face_id: str, statement: RoyaltyStatement) -> None:
    from provenance.ledger import money

    click.echo(f"{len(statement.charges)} use(s) of face {face_id}")
    for charge in statement.charges:
        entry, usage = charge.entry, charge.entry.usage
        length = (f"{usage.duration_ms / 1000:.1f} s, {usage.frames} frames"
                  if usage.duration_ms is not None else f"{usage.frames} frame")
        due = f"{money(charge.amount)} {charge.currency}" if charge.currency else "unpriced"
        click.echo(f"  {entry.seq:>5}  {entry.recorded_at:%Y-%m-%d %H:%M}  {usage.kind.value:<6} "
                   f"{usage.content_id}  {usage.purpose} in {usage.territory}  "
                   f"{usage.license_id} to {usage.licensee}  ({length})  {due}")
    for currency, total in sorted(statement.totals.items()):
        click.echo(f"royalties due: {money(total)} {currency}")
    if statement.unpriced:
        click.echo(f"unpriced (license or royalty terms unknown): {', '.join(statement.unpriced)}")


@ledger_group.command("verify")
@click.option("--face-id", help="Check one face's chain only.")
@click.option("--checkpoint", "checkpoint_files", multiple=True,
              type=click.Path(path_type=Path),
              help="A checkpoint held outside the workspace: a `ledger --json` export or a "
              "checkpoint JSON (repeatable). Catches a tail removed with its checkpoints.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def verify(ctx: click.Context, face_id: str | None, checkpoint_files: tuple[Path, ...],
           as_json: bool) -> None:
    """Recompute the hash chains and check the signed checkpoints.

    Exit 0 when intact, 1 when an entry was edited, deleted, reordered or cut off.
    """
    pins = [_pinned(path) for path in checkpoint_files]
    with app_state().workspace().ledger_reader() as ledger:
        result = ledger.verify(face_id=face_id, pinned=pins)
    if as_json:
        emit_json(result.to_dict())
    elif result.intact:
        click.echo(f"INTACT  {result.entries} entries of {result.faces} face(s), "
                   f"{result.checkpoints} signed checkpoints")
    else:
        click.echo(f"TAMPERED  {len(result.problems)} problem(s)")
        for problem in result.problems:
            click.echo(f"  {problem.face_id}: {problem.message}")
    ctx.exit(0 if result.intact else EXIT_TAMPERED)


def _pinned(path: Path) -> Checkpoint:
    from provenance._internal.files import read_input
    from provenance.errors import InputError
    from provenance.ledger import Checkpoint

    try:
        document = json.loads(read_input(path).decode("utf-8"))
        if isinstance(document, dict) and isinstance(document.get("checkpoint"), dict):
            document = document["checkpoint"]
        return Checkpoint.from_dict(document)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a ledger checkpoint or export ({exc})") from None

