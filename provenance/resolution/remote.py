"""Resolve a watermark payload through the vendors' Soft Binding Resolution API services.

The payload's issuer code picks the vendor's service from the :class:`IssuerRegistry`;
``GET /matches/byBinding`` turns the payload into a manifest ID, ``GET /manifests/{id}``
returns the signed store. Every request has a timeout; failures without an answer and
5xx/429 answers are retried with exponential backoff; answers are cached; no host outside
the registry's allow-list is ever contacted. The store is returned unvalidated: the
verifier checks it exactly as it checks one from a local repository. ``spec/resolution.md``.

Example:
    >>> with RemoteResolver(IssuerRegistry.load(Path("issuers.json"))) as resolver:
    ...     verifier = Verifier(trust=anchors, resolver=resolver)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

from ..errors import ResolutionError
from ..watermark import ContentId
from ._http import HttpClient, HttpResponse, TransportError
from .base import STORE_MIME, ResolvedManifest, encode_binding_value
from .cache import ManifestCache
from .registry import IssuerRegistry

__all__ = ["ClientPolicy", "RemoteResolver"]

_logger = logging.getLogger(__name__)

# Answers worth asking again: the service said it is overloaded or failing for now.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ClientPolicy:
    """Timeouts, retries and limits of the resolution client.

    Attributes:
        timeout_s: read/write timeout of one request.
        connect_timeout_s: connect timeout of one request.
        retries: further attempts after a failed one (0: ask once).
        backoff_s: wait before the first retry; doubled for each later one, plus jitter.
        max_manifest_bytes: larger answers are refused (a store is tens of kilobytes).
    """

    timeout_s: float = 10.0
    connect_timeout_s: float = 3.0
    retries: int = 2
    backoff_s: float = 0.2
    max_manifest_bytes: int = 16 * 1024 * 1024


class RemoteResolver:
    """A :class:`~provenance.resolution.ManifestResolver` over remote services; thread-safe."""

    def __init__(
        self,
        registry: IssuerRegistry,
        *,
        policy: ClientPolicy = ClientPolicy(),
        cache: ManifestCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.cache = cache if cache is not None else ManifestCache()
        self._sleep = sleep
        self._http = HttpClient(
            timeout_s=policy.timeout_s,
            connect_timeout_s=policy.connect_timeout_s,
            max_bytes=policy.max_manifest_bytes,
        )

    def resolve(self, content_id: ContentId, *, alg: str | None) -> ResolvedManifest | None:
        """The manifest the issuer's service holds for ``content_id``, or None.

        Raises:
            ResolutionError: the issuer is not registered, the service is not allowed, or
                it did not answer usefully after the retries.
        """
        entry = self.registry.lookup(content_id.issuer)
        if entry is None:
            raise ResolutionError(
                f"issuer {content_id.issuer} of watermark {content_id} is not in the issuer "
                "registry, so no service can be asked"
            )
        cached = self.cache.get(entry.service, content_id)
        if cached is not None:
            if not cached:
                return None
            return ResolvedManifest(cached, STORE_MIME, entry.service, entry.vendor)
        if alg is None:
            raise ResolutionError(f"no soft-binding algorithm known for watermark {content_id}")
        found = self._match(entry.service, content_id, alg)
        if found is None:
            self.cache.put(entry.service, content_id, None)
            return None
        manifest_id, endpoint = found
        store = self._fetch(endpoint, manifest_id)
        self.cache.put(entry.service, content_id, store)
        if store is None:
            return None
        return ResolvedManifest(store, STORE_MIME, endpoint, entry.vendor)

    def _match(self, service: str, content_id: ContentId, alg: str) -> tuple[str, str] | None:
        params = {"alg": alg, "value": encode_binding_value(content_id), "maxResults": "1"}
        response = self._get(f"{service}/matches/byBinding", params)
        if response.status != 200:
            raise ResolutionError(f"{service} refused the query: HTTP {response.status}")
        matches = _json(response, service).get("matches")
        if not isinstance(matches, list):
            raise ResolutionError(f"{service}: malformed answer (no 'matches' list)")
        if not matches:
            return None
        first = matches[0]
        manifest_id = first.get("manifestId") if isinstance(first, Mapping) else None
        if not isinstance(manifest_id, str) or not manifest_id:
            raise ResolutionError(f"{service}: malformed answer (a match has no manifestId)")
        endpoint = first.get("endpoint") or service
        if not isinstance(endpoint, str) or not self.registry.allows(endpoint):
            raise ResolutionError(
                f"{service} points to {endpoint!r}, which is not on the allow-list of services"
            )
        return manifest_id, endpoint.rstrip("/")

    def _fetch(self, endpoint: str, manifest_id: str) -> bytes | None:
        response = self._get(f"{endpoint}/manifests/{quote(manifest_id, safe='')}", None)
        if response.status == 404:
            return None
        if response.status != 200 or not response.body:
            raise ResolutionError(
                f"{endpoint} did not return manifest {manifest_id}: HTTP {response.status}"
            )
        return response.body

    def _get(self, url: str, params: Mapping[str, str] | None) -> HttpResponse:
        attempt = 0
        while True:
            try:
                response = self._http.get(url, params)
            except TransportError as exc:
                failure = str(exc)
            else:
                if response.status not in _RETRY_STATUSES:
                    return response
                failure = f"{url}: HTTP {response.status}"
            if attempt >= self.policy.retries:
                raise ResolutionError(f"{failure} (after {attempt + 1} attempts)")
            delay = self.policy.backoff_s * 2**attempt * (1 + 0.25 * random.random())
            _logger.info("retrying in %.2f s: %s", delay, failure)
            self._sleep(delay)
            attempt += 1

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> RemoteResolver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _json(response: HttpResponse, service: str) -> Mapping[str, Any]:
    try:
        body = json.loads(response.body)
    except ValueError as exc:
        raise ResolutionError(f"{service}: malformed answer (not JSON)") from exc
    if not isinstance(body, Mapping):
        raise ResolutionError(f"{service}: malformed answer (not a JSON object)")
    return body
