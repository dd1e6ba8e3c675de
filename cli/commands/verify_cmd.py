"""``provenance verify``: is it synthetic, labelled, whose licensed face, in scope?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._output import emit_fields
from .._state import app_state
from ._resolution import resolution_options, resolver_from_options

if TYPE_CHECKING:
    from provenance.lifecycle import LifecycleSource
    from provenance.verify import VerificationReport
    from provenance.workspace import Workspace

EXIT_BY_VERDICT = {"verified": 0, "failed": 1, "no_provenance": 3}


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--trust", "trust_paths", multiple=True, type=click.Path(path_type=Path),
              help="Trust anchor PEM (repeatable; default: the workspace root CA).")
@click.option("--repository", "repository_url", metavar="URL",
              help="Manifest repository to resolve stripped files: a SQLite file or a "
              "postgresql:// URL (default: $PROVENANCE_REPOSITORY, else the workspace's).")
@click.option("--revocations", "revocations_path", type=click.Path(path_type=Path),
              help="Revocations and supersessions (a status list or a revocation) to check "
              "the license against (default: the workspace's records).")
@click.option("--allow-untrusted", is_flag=True,
              help="UNSAFE: accept a manifest whose signer chains to no trust anchor.")
@click.option("--profile", type=click.Choice(["cn", "eu", "us-ca"]),
              help="Also judge the labelling obligations of China (GB 45438), the EU (AI Act "
              "Art. 50) or California (SB 942), field by field.")
@resolution_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify(ctx: click.Context, files: tuple[Path, ...], trust_paths: tuple[Path, ...],
           repository_url: str | None, revocations_path: Path | None, allow_untrusted: bool,
           profile: str | None, registry_path: Path | None, cache_dir: Path | None,
           as_json: bool) -> None:
    """Verify FILE: manifest, watermark, content integrity, owner signature, consent scope,
    license status and labelling-law metadata.

    A live stream: FILE is its HLS playlist (.m3u8), or give the init segment followed by
    the media segments in the order they arrived; every segment is reported.

    Exit 0 verified, 1 provenance present but failing (or, with --profile, an obligation
    not met), 2 bad input, 3 no provenance.
    """
    from provenance.repository import configured_url, open_repository
    from provenance.trust import TrustAnchors
    from provenance.verify import Verifier, verify_playlist, verify_segments
    from provenance.verify.profiles import Profile, apply_profile

    workspace = app_state().optional_workspace()
    if trust_paths:
        trust = TrustAnchors.from_files(*trust_paths)
    else:
        trust = workspace.trust_anchors() if workspace else TrustAnchors.none()
    url = configured_url(repository_url)
    repository = (
        open_repository(url, create=False) if url
        else workspace.repository() if workspace else None
    )
    options: dict[str, Any] = dict(trust=trust, repository=repository,
                                   allow_untrusted=allow_untrusted)
    resolver = resolver_from_options(workspace, registry_path, cache_dir)
    try:
        if len(files) > 1:
            report = verify_segments(files[0], list(files[1:]), **options)
        elif files[0].suffix.lower() == ".m3u8":
            report = verify_playlist(files[0], **options)
        else:
            report = Verifier(**options, resolver=resolver,
                              lifecycle=_lifecycle(revocations_path, workspace)
                              ).verify_file(files[0])
    finally:
        if repository is not None:
            repository.close()
        if resolver is not None:
            resolver.close()
    if profile is not None:
        report = apply_profile(report, Profile(profile))
    if as_json:
        click.echo(report.to_json())
    else:
        _render(report)
    code = EXIT_BY_VERDICT[report.verdict.value]
    if code == 0 and report.compliance is not None and not report.compliance.met:
        code = 1
    ctx.exit(code)


def _lifecycle(path: Path | None, workspace: Workspace | None) -> LifecycleSource | None:
    from provenance.lifecycle import StatusList

    if path is not None:
        return StatusList.load(path)
    return workspace.status_list() if workspace is not None else None


def _render(report: VerificationReport) -> None:
    manifest, mark, like = report.manifest, report.watermark, report.likeness
    click.echo(f"{report.verdict.value.upper().replace('_', ' ')}  {report.file}")
    rows = [("synthetic", "yes" if report.synthetic else "no")]
    if manifest.present:
        how = "recovered via watermark" if manifest.recovered_via_watermark else manifest.source
        rows.append(("manifest", f"{manifest.validation_state}, {how}, signed by "
                                 f"{manifest.signer or 'unknown'}"))
        if manifest.resolved_from:
            rows.append(("resolved from", manifest.resolved_from))
        if manifest.parent_label:
            rows.append(("update", f"{', '.join(manifest.edits) or 'no actions'} by "
                                   f"{manifest.signer or 'unknown'} over the stamp's "
                                   "manifest (its parent ingredient)"))
    else:
        rows.append(("manifest", "none"))
    if mark.detected:
        agree = {True: ", matches manifest", False: ", DIFFERS from manifest", None: ""}
        rows.append(("watermark", f"{mark.payload} ({mark.engine}, confidence "
                                  f"{mark.confidence:.6f}){agree[mark.matches_manifest]}"))
    elif report.stream is not None:
        rows.append(("watermark", "not needed (read only from unsigned segments)"))
    else:
        rows.append(("watermark", "none found"))
    if report.video is not None:
        video = report.video
        rows.append(("video", f"{video.width}x{video.height}, {video.fps} fps, "
                              f"{video.duration_s or 0:.2f} s; watermark read in "
                              f"{video.frames_checked} frames"
                              + (" (stopped once certain)" if video.stopped_early else "")))
    if report.stream is not None:
        live = report.stream
        rows.append(("stream", f"{live.stream_id} ({live.width}x{live.height}, {live.fps} fps): "
                               f"{live.segments_verified} of {live.segments_checked} segments "
                               "verified" + (", ended" if live.ended else "")))
    rows.extend(("third-party mark", f"{other.label} ({other.matches}/{other.bits} bits)")
                for other in report.third_party_marks)
    if like.face_id:
        rows.append(("face", f"{like.face_id} under {like.license_id} to {like.licensee}"))
        rows.append(("use", f"{like.declared_purpose} in {like.declared_territory}: "
                            + ("in scope" if like.in_scope else "OUT OF SCOPE")))
    if report.license_status is not None:
        checked = "" if report.license_status.source else " (revocations not checked)"
        rows.append(("license", report.license_status.summary + checked))
    rows.extend(_label_rows(report))
    emit_fields(rows)
    if report.stream is not None:
        for segment in report.stream.segments:
            number = "?" if segment.sequence_number is None else segment.sequence_number
            note = f": {'; '.join(segment.problems)}" if segment.problems else ""
            click.echo(f"  segment {Path(segment.file).name} #{number}  "
                       f"{segment.status.value.upper()}{note}")
        return
    for problem in report.problems:
        click.echo(f"  problem: {problem}")
    if report.compliance is not None:
        _render_compliance(report)


def _label_rows(report: VerificationReport) -> list[tuple[str, str]]:
    labels = report.labels
    rows = []
    aigc = labels.aigc
    if aigc.present and aigc.fields is not None:
        state = "intact" if not aigc.problems else "ALTERED"
        rows.append(("AIGC label", f"Label {aigc.fields['Label']}, producer "
                                   f"{aigc.fields['ContentProducer']}, ProduceID "
                                   f"{aigc.fields['ProduceID']} ({state}; "
                                   f"{', '.join(aigc.placements)})"))
        if aigc.propagated:
            rows.append(("propagated by", f"{aigc.fields['ContentPropagator']} as "
                                          f"{aigc.fields['PropagateID']}"))
    elif aigc.present:
        rows.append(("AIGC label", "MALFORMED"))
    if labels.xmp_digital_source_type:
        rows.append(("XMP source type", labels.xmp_digital_source_type.rsplit("/", 1)[-1]))
    latent = labels.latent_disclosure
    if latent.present:
        rows.append(("disclosure", f"{latent.provider}, {latent.system_name} "
                                   f"{latent.system_version}, {latent.created_at}, "
                                   f"ID {latent.unique_id}"))
    visible = labels.visible_label
    if visible.declared:
        span = f", first {visible.duration_s:g} s" if visible.duration_s is not None else ""
        rows.append(("visible label", f"'{visible.text}' ({visible.text_height_ratio:.1%} "
                                      f"of the shorter side{span})"))
    return rows


def _render_compliance(report: VerificationReport) -> None:
    compliance = report.compliance
    assert compliance is not None
    missed = [o for o in compliance.obligations if o.status.value != "met"]
    verdict = "MEETS" if compliance.met else f"MISSES {len(missed)} of"
    click.echo(f"profile {compliance.profile}: {verdict} {len(compliance.obligations)} "
               "obligations")
    width = max(len(o.id) for o in compliance.obligations)
    for item in compliance.obligations:
        click.echo(f"  {item.status.value.upper():7}  {item.id.ljust(width)}  {item.detail}")
