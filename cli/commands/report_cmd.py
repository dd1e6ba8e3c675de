"""``provenance report``: misuse evidence for a face owner, and checking such evidence.

``report SUSPECT... --face-id F -o DIR`` examines files and writes a signed bundle;
``report verify BUNDLE`` checks one (``spec/evidence.md``). The first form has no
subcommand name: any first argument other than ``verify``/``build`` is a suspect (name a
file called ``verify`` as ``./verify``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._output import emit_fields, emit_json, status
from .._state import app_state

if TYPE_CHECKING:
    from provenance.evidence import EvidenceBundle, Examination

_DEFAULT = "build"


class _ReportGroup(click.Group):
    """A group whose default subcommand takes the suspects, so ``report FILE...`` works."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [_DEFAULT, *args]
        return super().parse_args(ctx, args)


@click.group("report", cls=_ReportGroup)
def report() -> None:
    """Misuse evidence: `report SUSPECT... --face-id F -o DIR`, and `report verify BUNDLE`.

    SUSPECT is a downloaded image or video, or a folder of them. See `report build --help`
    for the options. Exit codes: 0 bundle written; 2 bad input or DIR exists.
    """


@report.command(_DEFAULT)
@click.argument("suspects", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--face-id", required=True, help="The face whose owner reports.")
@click.option("--observed-purpose", help="The purpose the files were seen used for.")
@click.option("--observed-territory", help="Where they were seen published (ISO code or EU).")
@click.option("--observed-at", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="When they were seen, UTC (default: now).")
@click.option("--source-url", help="Where they were found.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The bundle directory to create.")
@click.option("--key", "key_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Reporter's Ed25519 private key, as `keys owner` writes it "
              "(default: the workspace's owner key).")
@click.option("--reporter", "reporter_name", help="Name the reporter in the bundle.")
@click.option("--tsa-url", help="RFC 3161 time-stamp authority for the bundle signature.")
@click.option("--trust", "trust_paths", multiple=True, type=click.Path(path_type=Path),
              help="Trust anchor PEM (repeatable; default: the workspace root CA).")
@click.option("--repository", "repository_url", metavar="URL",
              help="Manifest repository to resolve stripped files: a SQLite file or a "
              "postgresql:// URL (default: $PROVENANCE_REPOSITORY, else the workspace's).")
@click.option("--revocations", "revocations_path", type=click.Path(path_type=Path),
              help="Revocations and supersessions (a status list or a revocation) to check "
              "licenses against (default: the workspace's records).")
@click.option("--allow-untrusted", is_flag=True,
              help="UNSAFE: accept manifests whose signer chains to no trust anchor.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: "
              "up to 4).")
@click.option("--json", "as_json", is_flag=True, help="Print the signed bundle as JSON.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def build(suspects: tuple[Path, ...], face_id: str, observed_purpose: str | None,
          observed_territory: str | None, observed_at: datetime | None,
          source_url: str | None, output: Path, key_path: Path | None,
          reporter_name: str | None, tsa_url: str | None, trust_paths: tuple[Path, ...],
          repository_url: str | None, revocations_path: Path | None, allow_untrusted: bool,
          jobs: int | None,
          as_json: bool, force: bool) -> None:
    """Examine SUSPECT files or folders and write a signed evidence bundle to OUTPUT."""
    from provenance.errors import OutputExistsError
    from provenance.evidence import (
        ExamineSettings,
        Observation,
        Signing,
        examine_all,
        find_suspects,
        write_bundle,
    )
    from provenance.lifecycle import StatusList
    from provenance.owner import OwnerKey
    from provenance.repository import RepositoryUrl, configured_url, open_repository
    from provenance.trust import TrustAnchors

    if output.exists() and not force:
        raise OutputExistsError(f"{output}: already exists (use --force to replace it)")
    observation = Observation.parse(purpose=observed_purpose, territory=observed_territory,
                                    at=observed_at, source_url=source_url)
    state = app_state()
    workspace = state.optional_workspace()
    key = OwnerKey.load(key_path or _workspace_key(workspace), passphrase=state.passphrase())
    if trust_paths:
        trust = TrustAnchors.from_files(*trust_paths)
    else:
        trust = workspace.trust_anchors() if workspace else TrustAnchors.none()
    url = configured_url(repository_url)
    repository = (RepositoryUrl.parse(url) if url
                  else workspace.repository_url() if workspace else None)
    if repository is not None:
        open_repository(repository, create=False).close()  # fail here, not in every worker
    found = find_suspects(suspects)
    lifecycle = (StatusList.load(revocations_path) if revocations_path
                 else workspace.status_list() if workspace else None)
    settings = ExamineSettings(trust_pem=trust.pem, repository=repository,
                               allow_untrusted=allow_untrusted, lifecycle=lifecycle)
    with _progress(len(found), quiet=as_json) as tick:
        exams = examine_all(found, settings, jobs=jobs, on_done=tick)
    bundle = write_bundle(exams, output, face_id=face_id, observation=observation,
                          signing=Signing(key, reporter_name, tsa_url), trust=trust,
                          repository_used=repository is not None, force=force)
    if as_json:
        emit_json(bundle.model_dump(mode="json", by_alias=True))
    else:
        _render(bundle, output)


def _workspace_key(workspace: Any) -> Path:
    from provenance.errors import WorkspaceError

    if workspace is None:
        raise WorkspaceError("no reporter key: give --key (an Ed25519 key from `keys owner`)")
    path: Path = workspace.owner_key_path
    return path


@contextmanager
def _progress(total: int, *, quiet: bool) -> Iterator[Any]:
    """A bar on a terminal; silent with --json or when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield lambda _exam: None
        return
    with click.progressbar(length=total, label="examining", file=sys.stderr,
                           show_pos=True) as bar:
        def tick(_exam: Examination) -> None:
            bar.update(1)

        yield tick


def _render(bundle: EvidenceBundle, output: Path) -> None:
    statement = bundle.statement
    for item in statement.files:
        click.echo(f"{item.verdict.value.upper():14} {item.name}")
        for reason in item.reasons:
            click.echo(f"               {reason}")
    stamp = bundle.timestamp.gen_time if bundle.timestamp else "none"
    emit_fields([("bundle", str(output / "evidence.json")), ("page", str(output / "index.html")),
                 ("signed by", statement.reporter.public_key), ("time-stamp", stamp)])


@report.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--reporter-key", help="Require this signer ('ed25519:...').")
@click.option("--tsa-root", "tsa_roots", multiple=True, type=click.Path(path_type=Path),
              help="TSA root certificate PEM to check the time-stamp against (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_context
def verify_cmd(ctx: click.Context, bundle: Path, reporter_key: str | None,
               tsa_roots: tuple[Path, ...], as_json: bool) -> None:
    """Check BUNDLE (a bundle directory or its evidence.json): signature, hashes, time-stamp.

    Exit 0 intact; 1 edited, a listed file changed, or a bad signature or time-stamp;
    2 no readable bundle.
    """
    from provenance.evidence import verify_bundle
    from provenance.trust import TrustAnchors

    roots = TrustAnchors.from_files(*tsa_roots).certificates if tsa_roots else ()
    check = verify_bundle(bundle, reporter_key=reporter_key, tsa_roots=roots)
    if as_json:
        emit_json({"bundle": str(check.bundle), "valid": check.valid, "problems": check.problems,
                   "notes": check.notes, "reporter": check.reporter,
                   "artifacts_checked": check.artifacts_checked,
                   "files_checked": check.files_checked, "timestamp": check.timestamp})
    else:
        click.echo(f"{'VALID' if check.valid else 'INVALID'}  {check.bundle}")
        emit_fields([("signed by", check.reporter or "?"),
                     ("artifacts", f"{check.artifacts_checked} match"),
                     ("files", f"{check.files_checked} still present and unchanged"),
                     ("time-stamp", check.timestamp or "none checked")])
        for problem in check.problems:
            click.echo(f"  problem: {problem}")
        for note in check.notes:
            status(f"  note: {note}")
    ctx.exit(0 if check.valid else 1)
