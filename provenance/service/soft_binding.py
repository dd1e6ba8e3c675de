"""The C2PA Soft Binding Resolution API over a manifest repository, free of any web framework.

Shapes follow the API's OpenAPI document (C2PA 2.2, "Soft Binding Resolution API"):
``/matches/byBinding`` answers ``{"matches": [{"manifestId", "similarityScore"}]}``,
``/manifests/{manifestId}`` the store as ``application/c2pa``, and
``/services/supportedAlgorithms`` ``{"watermarks": [{"alg"}], "fingerprints": []}``.
Our manifest IDs are the content IDs (16 hex digits), the key the repository is indexed
by; ``spec/resolution.md`` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import InputError
from ..resolution import decode_binding_value
from ..watermark import ContentId, engine_algs
from .repositories import ThreadRepositories

__all__ = ["MAX_RESULTS_LIMIT", "SoftBindingService"]

MAX_RESULTS_LIMIT = 100
# The payload decodes exactly or not at all (BCH + CRC), so a match is a full match.
_EXACT = 100


class SoftBindingService:
    """Read-only answers from the vendor's repository; every method is thread-safe."""

    def __init__(self, repositories: ThreadRepositories, *, algs: Sequence[str] | None = None):
        self.repositories = repositories
        self.algs = tuple(algs) if algs is not None else tuple(engine_algs().values())

    def supported_algorithms(self) -> dict[str, Any]:
        return {"watermarks": [{"alg": alg} for alg in self.algs], "fingerprints": []}

    def matches(self, *, alg: Any, value: Any, max_results: int = 10) -> dict[str, Any]:
        """Manifest IDs whose soft binding is ``value`` under ``alg``.

        Raises:
            InputError: a missing or unsupported ``alg``, a ``value`` that is not a base64
                content ID, or ``max_results`` out of range (all answered with HTTP 400).
        """
        if not isinstance(alg, str) or not isinstance(value, str):
            raise InputError("'alg' and 'value' are required strings")
        if alg not in self.algs:
            raise InputError(f"algorithm {alg!r} is not supported (see supportedAlgorithms)")
        if not 1 <= max_results <= MAX_RESULTS_LIMIT:
            raise InputError(f"maxResults must be between 1 and {MAX_RESULTS_LIMIT}")
        content_id = decode_binding_value(value)
        record = self.repositories.get().get(content_id)
        # C2PA 2.2 18.10.5.1: the located manifest's soft binding must match the query.
        if record is None or record.watermark_alg != alg:
            return {"matches": []}
        return {"matches": [{"manifestId": content_id.hex, "similarityScore": _EXACT}]}

    def manifest(self, manifest_id: str) -> bytes | None:
        """The manifest store for ``manifest_id``, or None when there is none.

        Raises:
            InputError: ``manifest_id`` is not a manifest ID of this service (HTTP 400).
        """
        record = self.repositories.get().get(ContentId.from_hex(manifest_id))
        return record.manifest_store if record is not None else None

    def healthy(self) -> int:
        """The number of stored manifests; raises when the repository cannot answer."""
        return self.repositories.get().count()
