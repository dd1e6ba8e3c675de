"""A cache of manifest stores fetched from resolution services.

A completed manifest store never changes (it is signed, and its content ID is never reused),
and the verifier validates whatever the cache returns exactly as it validates a fresh
answer, so found stores are kept without expiry: in memory (least recently used first out)
and, when a directory is given, on disk across processes. "Not found" answers are kept in
memory only, briefly, since the vendor may complete a stamp a moment later.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from .._internal.files import write_atomic
from ..watermark import ContentId

__all__ = ["ManifestCache"]

_MISS = b""


class ManifestCache:
    """Thread-safe: one cache serves every request of a verifier service."""

    def __init__(
        self,
        *,
        max_entries: int = 1024,
        negative_ttl_s: float = 30.0,
        directory: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.negative_ttl_s = negative_ttl_s
        self.directory = directory
        self._clock = clock
        self._found: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._missing: dict[tuple[str, int], float] = {}
        self._lock = threading.Lock()

    def get(self, origin: str, content_id: ContentId) -> bytes | None:
        """The cached store; ``b""`` for a recent "not found"; None when nothing is known."""
        key = (origin, content_id.value)
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                return self._found[key]
            expires = self._missing.get(key)
            if expires is not None:
                if self._clock() < expires:
                    return _MISS
                del self._missing[key]
        stored = self._read_disk(origin, content_id)
        if stored is not None:
            self._remember(key, stored)
        return stored

    def put(self, origin: str, content_id: ContentId, store: bytes | None) -> None:
        """Remember ``store`` (None: the service has no manifest for ``content_id``)."""
        key = (origin, content_id.value)
        if store is None:
            with self._lock:
                self._missing[key] = self._clock() + self.negative_ttl_s
            return
        self._remember(key, store)
        self._write_disk(origin, content_id, store)

    def _remember(self, key: tuple[str, int], store: bytes) -> None:
        with self._lock:
            self._missing.pop(key, None)
            self._found[key] = store
            self._found.move_to_end(key)
            while len(self._found) > self.max_entries:
                self._found.popitem(last=False)

    def _path(self, origin: str, content_id: ContentId) -> Path | None:
        if self.directory is None:
            return None
        service = hashlib.sha256(origin.encode()).hexdigest()[:16]
        return self.directory / service / f"{content_id.hex}.c2pa"

    def _read_disk(self, origin: str, content_id: ContentId) -> bytes | None:
        path = self._path(origin, content_id)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return data or None

    def _write_disk(self, origin: str, content_id: ContentId, store: bytes) -> None:
        path = self._path(origin, content_id)
        if path is None:
            return
        # A cache that cannot be written is only slower, never wrong.
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, store, force=True)
        except OSError:
            return
