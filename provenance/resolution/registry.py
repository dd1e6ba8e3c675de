"""The issuer registry: which vendor's resolution service answers for which issuer code.

A watermark payload carries a 16-bit issuer code beside its serial (``spec/payload.md``).
A platform keeps one small JSON file mapping issuer codes to the vendors' Soft Binding
Resolution API base URLs; the services listed there, plus any named under
``allowed_services``, form the allow-list: the verifier contacts no other host, whatever a
service's answer points to. Format and rules: ``spec/resolution.md``.

Example:
    >>> registry = IssuerRegistry.load(Path("issuers.json"))  # doctest: +SKIP
    >>> registry.lookup(content_id.issuer).service  # doctest: +SKIP
    'https://resolve.acme.example/v1'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError

__all__ = ["REGISTRY_SCHEMA", "IssuerEntry", "IssuerRegistry", "normalize_service_url"]

REGISTRY_SCHEMA = "avatar-provenance/issuer-registry/v1"
_ISSUER_LIMIT = 1 << 16


@dataclass(frozen=True)
class IssuerEntry:
    """One vendor: its issuer code, display name and resolution service base URL."""

    issuer: int
    vendor: str
    service: str


class IssuerRegistry:
    """Issuer codes to services, and the allow-list of services a verifier may contact."""

    def __init__(self, entries: Iterable[IssuerEntry], *, allowed: Iterable[str] = ()) -> None:
        self._entries: dict[int, IssuerEntry] = {}
        for entry in entries:
            if entry.issuer in self._entries:
                raise InputError(f"issuer {entry.issuer} is listed twice")
            self._entries[entry.issuer] = entry
        self._allowed = frozenset(
            {normalize_service_url(e.service) for e in self._entries.values()}
            | {normalize_service_url(url) for url in allowed}
        )

    @classmethod
    def load(cls, path: Path) -> IssuerRegistry:
        """Read a registry file.

        Raises:
            InputError: missing, unreadable, not JSON, or not of the registry format; the
                message names the file.
        """
        try:
            body = json.loads(path.read_bytes())
        except FileNotFoundError as exc:
            raise InputError(f"{path}: no such issuer registry file") from exc
        except OSError as exc:
            raise InputError(f"{path}: cannot read issuer registry ({exc.strerror})") from exc
        except ValueError as exc:
            raise InputError(f"{path}: issuer registry is not JSON ({exc})") from exc
        try:
            return cls.from_dict(body)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from exc

    @classmethod
    def from_dict(cls, body: Any) -> IssuerRegistry:
        """Build a registry from its parsed JSON form.

        Raises:
            InputError: the document is not of the registry format.
        """
        if not isinstance(body, Mapping) or body.get("schema") != REGISTRY_SCHEMA:
            raise InputError(f"not an issuer registry (schema must be {REGISTRY_SCHEMA})")
        issuers, allowed = body.get("issuers"), body.get("allowed_services", [])
        if not isinstance(issuers, list) or not isinstance(allowed, list):
            raise InputError("'issuers' and 'allowed_services' must be lists")
        if not all(isinstance(url, str) for url in allowed):
            raise InputError("'allowed_services' must list URLs")
        return cls((_entry(item) for item in issuers), allowed=allowed)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form :meth:`from_dict` reads."""
        listed = {normalize_service_url(e.service) for e in self._entries.values()}
        return {
            "schema": REGISTRY_SCHEMA,
            "issuers": [
                {"issuer": e.issuer, "vendor": e.vendor, "service": e.service}
                for e in sorted(self._entries.values(), key=lambda e: e.issuer)
            ],
            "allowed_services": sorted(self._allowed - listed),
        }

    def lookup(self, issuer: int) -> IssuerEntry | None:
        """The entry for ``issuer``, or None when no vendor is registered for it."""
        return self._entries.get(issuer)

    def allows(self, url: str) -> bool:
        """Whether the service at base URL ``url`` is on the allow-list."""
        try:
            return normalize_service_url(url) in self._allowed
        except InputError:
            return False

    def __len__(self) -> int:
        return len(self._entries)


def normalize_service_url(url: str) -> str:
    """``url`` as a comparable service base URL: scheme and host lower-cased, no trailing
    slash.

    Raises:
        InputError: not an http(s) URL with a host, or it carries a query or fragment.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InputError(f"service {url!r} is not an http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InputError(f"service {url!r} must be a plain base URL (no query, fragment or user)")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError as exc:
        raise InputError(f"service {url!r} has an invalid port") from exc
    return f"{parts.scheme.lower()}://{host}{port}{parts.path.rstrip('/')}"


def _entry(item: Any) -> IssuerEntry:
    if not isinstance(item, Mapping):
        raise InputError("every issuer entry must be an object")
    issuer, vendor, service = item.get("issuer"), item.get("vendor"), item.get("service")
    if isinstance(issuer, bool) or not isinstance(issuer, int) or not 0 <= issuer < _ISSUER_LIMIT:
        raise InputError(f"issuer {issuer!r} is not a 16-bit issuer code (0-65535)")
    if not isinstance(vendor, str) or not vendor.strip():
        raise InputError(f"issuer {issuer}: 'vendor' must be a non-empty string")
    if not isinstance(service, str):
        raise InputError(f"issuer {issuer}: 'service' must be a URL")
    return IssuerEntry(issuer, vendor.strip(), normalize_service_url(service))
