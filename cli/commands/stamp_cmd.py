"""``provenance stamp``: check consent, watermark, sign, store, write."""

from __future__ import annotations

from pathlib import Path

import click

from .._output import emit_fields, emit_json, status
from .._state import app_state


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Output file; its suffix picks the format (.png, .jpg, .webp).")
@click.option("--license", "license_path", required=True, type=click.Path(path_type=Path),
              help="The face owner's signed license (license.json).")
@click.option("--purpose", required=True, help="Declared purpose, e.g. education.")
@click.option("--territory", help="Declared territories, e.g. DE or EU,US "
              "(default: the license's territories).")
@click.option("--engine", help="Watermark engine (default: the workspace's).")
@click.option("--quality", default=95, show_default=True, type=click.IntRange(50, 100),
              help="JPEG quality of the output.")
@click.option("--tsa-url", help="RFC 3161 time-stamp authority to countersign with.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def stamp(source: Path, output: Path, license_path: Path, purpose: str, territory: str | None,
          engine: str | None, quality: int, tsa_url: str | None, as_json: bool,
          force: bool) -> None:
    """Stamp SOURCE under a face owner's license: refuse out-of-scope use, else watermark
    every pixel frame and sign a C2PA manifest into OUTPUT."""
    from provenance.consent import License
    from provenance.stamp import Stamper, stamp_file

    state = app_state()
    workspace = state.workspace()
    license = License.load(license_path)
    stamper = Stamper.from_workspace(
        workspace, passphrase=state.passphrase(), engine=engine, tsa_url=tsa_url
    )
    try:
        stamped = stamp_file(stamper, source, output, license=license, purpose=purpose,
                             territory=territory, quality=quality, force=force)
    finally:
        stamper.close()
    result = {
        "output": str(output),
        "content_id": stamped.content_id.hex,
        "face_id": stamped.face_id,
        "license_id": stamped.license_id,
        "purpose": stamped.purpose,
        "territory": stamped.territory,
        "engine": stamped.engine,
        "format": stamped.format.mime,
        "sha256": stamped.sha256,
    }
    if as_json:
        emit_json(result)
        return
    status(f"stamped {source} -> {output}")
    emit_fields([(key.replace("_", " "), value) for key, value in result.items()
                 if key != "output"])
