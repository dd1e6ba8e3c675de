"""One repository connection per worker thread.

Request handlers run on a thread pool, and a repository connection (SQLite's, for one)
belongs to the thread that opened it. Any :class:`ManifestRepository` backend works: the
service is given a factory (``Workspace.repository``, or a PostgreSQL backend's opener)
and calls it once per thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from ..errors import ProvenanceError
from ..repository import ManifestRepository

__all__ = ["RepositoryFactory", "ThreadRepositories"]

RepositoryFactory = Callable[[], ManifestRepository]


class ThreadRepositories:
    """Hands each thread its own repository, opened on first use."""

    def __init__(self, factory: RepositoryFactory) -> None:
        self._factory = factory
        self._local = threading.local()
        self._opened: list[ManifestRepository] = []
        self._lock = threading.Lock()

    def get(self) -> ManifestRepository:
        """This thread's repository.

        Raises:
            RepositoryError: it cannot be opened.
        """
        repository: ManifestRepository | None = getattr(self._local, "repository", None)
        if repository is None:
            repository = self._factory()
            self._local.repository = repository
            with self._lock:
                self._opened.append(repository)
        return repository

    def close(self) -> None:
        """Close every repository opened (best effort: some belong to other threads)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for repository in opened:
            with contextlib.suppress(ProvenanceError, Exception):
                repository.close()
