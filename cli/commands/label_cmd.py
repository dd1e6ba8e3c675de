"""``provenance label``: the platform side of the labelling laws."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .._output import emit_fields, emit_json, show_progress, status
from .._state import app_state

if TYPE_CHECKING:
    from provenance.media import Progress


@click.group("label")
def label_group() -> None:
    """Labelling-law metadata (GB 45438 AIGC label) on received files."""


@label_group.command("propagate")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Output file (a still keeps its format; a clip is written as MP4).")
@click.option("--propagator", required=True,
              help="ContentPropagator: the platform's name or TC260 code.")
@click.option("--propagate-id", required=True, help="PropagateID: the platform's content ID.")
@click.option("--tsa-url", help="RFC 3161 time-stamp authority to countersign with.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def propagate(source: Path, output: Path, propagator: str, propagate_id: str,
              tsa_url: str | None, as_json: bool, force: bool) -> None:
    """Add the platform's ContentPropagator/PropagateID to SOURCE's AIGC label and sign the
    change as an update (the received manifest becomes its parent ingredient).

    SOURCE is a PNG, JPEG or WebP still or an MP4/MOV clip; pixels are never re-encoded
    (a clip is remuxed, every packet copied).

    Run in the platform's workspace: its signing identity signs the update.
    """
    from provenance.propagate import propagate_file

    state = app_state()
    signer = state.workspace().signer(state.passphrase())
    shown: list[Progress] = []

    def progress(step: Progress) -> None:
        shown.append(step)
        show_progress(step)

    try:
        result = propagate_file(signer, source, output, propagator=propagator,
                                propagate_id=propagate_id, force=force, tsa_url=tsa_url,
                                progress=None if as_json or not sys.stderr.isatty() else progress)
    finally:
        if shown:  # end the progress line (a clip's remux; stills show none)
            click.echo("", err=True)
    fields = {"output": str(output), "label": result.after.fields()}
    if as_json:
        emit_json(fields)
        return
    status(f"propagated {source} -> {output}")
    emit_fields([(name, value) for name, value in result.after.fields().items()])
