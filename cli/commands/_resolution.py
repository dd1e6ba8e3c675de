"""Flags shared by ``verify`` and ``serve`` for resolving stripped files remotely."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from provenance.resolution import RemoteResolver
    from provenance.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


def resolution_options(command: F) -> F:
    """Add ``--registry`` and ``--cache-dir``."""
    command = click.option(
        "--cache-dir", type=click.Path(file_okay=False, path_type=Path),
        help="Keep manifests fetched from resolution services here (default: memory only).",
    )(command)
    command = click.option(
        "--registry", "registry_path", type=click.Path(dir_okay=False, path_type=Path),
        envvar="PROVENANCE_REGISTRY",
        help="Issuer registry JSON: which vendor's resolution service answers for which "
        "issuer (default: the workspace's issuers.json, if any).",
    )(command)
    return command


def resolver_from_options(
    workspace: Workspace | None, registry_path: Path | None, cache_dir: Path | None
) -> RemoteResolver | None:
    """A remote resolver over the given registry, the workspace's, or None."""
    from provenance.resolution import IssuerRegistry, ManifestCache, RemoteResolver

    if registry_path is None and workspace is not None and workspace.registry_path.is_file():
        registry_path = workspace.registry_path
    if registry_path is None:
        return None
    registry = IssuerRegistry.load(registry_path)
    return RemoteResolver(registry, cache=ManifestCache(directory=cache_dir))
