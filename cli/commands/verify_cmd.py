"""``provenance verify``: is it synthetic, labelled, whose licensed face, in scope?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .._output import emit_fields
from .._state import app_state

if TYPE_CHECKING:
    from provenance.verify import VerificationReport

EXIT_BY_VERDICT = {"verified": 0, "failed": 1, "no_provenance": 3}


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--trust", "trust_paths", multiple=True, type=click.Path(path_type=Path),
              help="Trust anchor PEM (repeatable; default: the workspace root CA).")
@click.option("--repository", "repository_path", type=click.Path(path_type=Path),
              help="Manifest repository to resolve stripped files (default: the workspace's).")
@click.option("--allow-untrusted", is_flag=True,
              help="UNSAFE: accept a manifest whose signer chains to no trust anchor.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify(ctx: click.Context, file: Path, trust_paths: tuple[Path, ...],
           repository_path: Path | None, allow_untrusted: bool, as_json: bool) -> None:
    """Verify FILE: manifest, watermark, content integrity, owner signature and consent scope.

    Exit 0 verified, 1 provenance present but failing, 2 bad input, 3 no provenance.
    """
    from provenance.repository import SQLiteRepository
    from provenance.trust import TrustAnchors
    from provenance.verify import Verifier

    workspace = app_state().optional_workspace()
    if trust_paths:
        trust = TrustAnchors.from_files(*trust_paths)
    else:
        trust = workspace.trust_anchors() if workspace else TrustAnchors.none()
    repository = (
        SQLiteRepository(existing_repository(repository_path)) if repository_path
        else workspace.repository() if workspace else None
    )
    try:
        report = Verifier(trust=trust, repository=repository,
                          allow_untrusted=allow_untrusted).verify_file(file)
    finally:
        if repository is not None:
            repository.close()
    if as_json:
        click.echo(report.to_json())
    else:
        _render(report)
    ctx.exit(EXIT_BY_VERDICT[report.verdict.value])


def existing_repository(path: Path) -> Path:
    """``path`` if it is a file; a repository is never created by reading commands."""
    from provenance.errors import InputError

    if not path.is_file():
        raise InputError(f"{path}: no such repository file")
    return path


def _render(report: VerificationReport) -> None:
    manifest, mark, like = report.manifest, report.watermark, report.likeness
    click.echo(f"{report.verdict.value.upper().replace('_', ' ')}  {report.file}")
    rows = [("synthetic", "yes" if report.synthetic else "no")]
    if manifest.present:
        how = "recovered via watermark" if manifest.recovered_via_watermark else manifest.source
        rows.append(("manifest", f"{manifest.validation_state}, {how}, signed by "
                                 f"{manifest.signer or 'unknown'}"))
    else:
        rows.append(("manifest", "none"))
    if mark.detected:
        agree = {True: ", matches manifest", False: ", DIFFERS from manifest", None: ""}
        rows.append(("watermark", f"{mark.payload} ({mark.engine}, confidence "
                                  f"{mark.confidence:.6f}){agree[mark.matches_manifest]}"))
    else:
        rows.append(("watermark", "none found"))
    if report.video is not None:
        video = report.video
        rows.append(("video", f"{video.width}x{video.height}, {video.fps} fps, "
                              f"{video.duration_s or 0:.2f} s; watermark read in "
                              f"{video.frames_checked} frames"
                              + (" (stopped once certain)" if video.stopped_early else "")))
    rows.extend(("third-party mark", f"{other.label} ({other.matches}/{other.bits} bits)")
                for other in report.third_party_marks)
    if like.face_id:
        rows.append(("face", f"{like.face_id} under {like.license_id} to {like.licensee}"))
        rows.append(("use", f"{like.declared_purpose} in {like.declared_territory}: "
                            + ("in scope" if like.in_scope else "OUT OF SCOPE")))
    emit_fields(rows)
    for problem in report.problems:
        click.echo(f"  problem: {problem}")
