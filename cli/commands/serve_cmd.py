"""``provenance serve``: the resolution service (vendors) and the upload verifier (platforms)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .._output import status
from .._state import app_state
from ._resolution import resolution_options, resolver_from_options

if TYPE_CHECKING:
    from collections.abc import Callable

    from provenance.repository import ManifestRepository
    from provenance.service import ServiceConfig
    from provenance.workspace import Workspace


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port, printed when ready).")
@click.option("--verifier", is_flag=True,
              help="Also verify uploads: POST /verify, and the web page at /.")
@click.option("--trust", "trust_paths", multiple=True, type=click.Path(path_type=Path),
              help="Trust anchor PEM for --verifier (repeatable; default: the workspace root CA).")
@click.option("--allow-untrusted", is_flag=True,
              help="UNSAFE (--verifier): accept manifests whose signer chains to no anchor.")
@click.option("--repository", "repository_url", metavar="URL",
              help="Manifest repository to serve: a SQLite file or a postgresql:// URL "
              "(default: $PROVENANCE_REPOSITORY, else the workspace's).")
@resolution_options
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Verifications run at once (default: one per core).")
@click.option("--max-upload-mb", type=click.IntRange(1, 4096), default=256, show_default=True,
              help="Largest upload accepted by /verify.")
def serve(host: str, port: int, verifier: bool, trust_paths: tuple[Path, ...],
          allow_untrusted: bool, repository_url: str | None, registry_path: Path | None,
          cache_dir: Path | None, workers: int | None, max_upload_mb: int) -> None:
    """Serve the C2PA Soft Binding Resolution API over the workspace's repository.

    Read-only: /matches/byBinding, /manifests/{id}, /services/supportedAlgorithms, /healthz
    and /metrics. With --verifier, also POST /verify (the verify JSON for an uploaded file)
    and a page at / to drop a file on; stripped files are resolved through the local
    repository and the vendors' services in the issuer registry (--registry).
    """
    from provenance.errors import InputError, WorkspaceError
    from provenance.service import bind, build_app, serve_forever, url_of

    workspace = app_state().optional_workspace()
    factory = _repository_factory(workspace, repository_url)
    if factory is None and not verifier:
        raise WorkspaceError(
            "serve needs a workspace or --repository (the repository is what it serves), "
            "or --verifier"
        )
    if factory is not None:
        factory().close()  # a repository that cannot be opened fails here, not per request
    config = _config(workspace, factory, verifier, trust_paths, allow_untrusted,
                     registry_path, cache_dir, workers, max_upload_mb)
    try:
        sock = bind(host, port)
    except OSError as exc:
        if config.on_shutdown is not None:
            config.on_shutdown()
        raise InputError(f"{host}:{port}: cannot listen ({exc.strerror or exc})") from exc
    url = url_of(sock)
    offers = ", ".join(name for name, on in (("resolution API", config.soft_binding),
                                             ("verifier and page", config.uploads)) if on)
    who = f"{config.vendor} " if config.vendor else ""
    try:
        serve_forever(build_app(config), sock,
                      on_ready=lambda: status(f"serving {who}{offers} on {url}"))
    except KeyboardInterrupt:
        raise click.exceptions.Exit(130) from None


def _repository_factory(
    ws: Workspace | None, repository_url: str | None
) -> Callable[[], ManifestRepository] | None:
    """Opens the repository once per server thread (``ThreadRepositories``)."""
    from provenance.repository import configured_url, open_repository

    url = configured_url(repository_url)
    if ws is not None:
        return lambda: ws.repository(repository_url)
    if url is not None:
        return lambda: open_repository(url, create=False)
    return None


def _config(ws: Workspace | None, factory: Callable[[], ManifestRepository] | None,
            verifier: bool, trust_paths: tuple[Path, ...],
            allow_untrusted: bool, registry_path: Path | None, cache_dir: Path | None,
            workers: int | None, max_upload_mb: int) -> ServiceConfig:
    from provenance.service import (
        ServiceConfig,
        SoftBindingService,
        ThreadRepositories,
        UploadVerifier,
        default_workers,
    )
    from provenance.trust import TrustAnchors

    repositories = ThreadRepositories(factory) if factory is not None else None
    closers = [repositories.close] if repositories is not None else []
    uploads = None
    if verifier:
        if trust_paths:
            trust = TrustAnchors.from_files(*trust_paths)
        else:
            trust = ws.trust_anchors() if ws is not None else TrustAnchors.none()
        resolver = resolver_from_options(ws, registry_path, cache_dir)
        if resolver is not None:
            closers.append(resolver.close)
        uploads = UploadVerifier(trust=trust, resolver=resolver, repositories=repositories,
                                 allow_untrusted=allow_untrusted)

    def close() -> None:
        for closer in closers:
            closer()

    return ServiceConfig(
        soft_binding=SoftBindingService(repositories) if repositories is not None else None,
        uploads=uploads,
        vendor=ws.settings.vendor if ws is not None else None,
        issuer=ws.settings.issuer if ws is not None else None,
        workers=workers or default_workers(),
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        on_shutdown=close,
    )
