"""Safe file writing: temporary file plus rename, so a failure never leaves half a file."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError, OutputExistsError

__all__ = ["move_atomic", "read_input", "sha256_file", "temporary_beside", "write_atomic"]


def write_atomic(path: Path, data: bytes, *, force: bool = False, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    Args:
        path: destination.
        data: the complete contents.
        force: replace an existing file; otherwise an existing file is an error.
        mode: permission bits of the new file (0o600 for private keys).

    Raises:
        OutputExistsError: ``path`` exists and ``force`` is false.
    """
    if path.exists() and not force:
        raise OutputExistsError(f"{path}: already exists (use --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp already creates 0600; chmod before writing so secrets are never wider.
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if not force and path.exists():
            raise OutputExistsError(f"{path}: already exists (use --force to replace it)")
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def temporary_beside(path: Path, suffix: str) -> Iterator[Path]:
    """A new empty file in ``path``'s directory (so :func:`move_atomic` is a rename),
    removed on exit unless it was moved into place.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def move_atomic(temporary: Path, path: Path, *, force: bool = False, mode: int = 0o644) -> None:
    """Rename a finished ``temporary`` (from :func:`temporary_beside`) onto ``path``.

    Raises:
        OutputExistsError: ``path`` exists and ``force`` is false.
    """
    if not force and path.exists():
        raise OutputExistsError(f"{path}: already exists (use --force to replace it)")
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def read_input(path: Path) -> bytes:
    """Read an input file, turning every OS failure into a one-line :class:`InputError`.

    Raises:
        InputError: missing, a directory, unreadable or empty.
    """
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    if not data:
        raise InputError(f"{path}: empty file")
    return data


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (clips can be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
