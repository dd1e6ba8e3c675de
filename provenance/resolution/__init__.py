"""Resolve stripped files across organisations: issuer registry, remote client, cache.

A platform verifies avatars from many vendors: the watermark payload's issuer code leads,
through an :class:`IssuerRegistry`, to the vendor's Soft Binding Resolution API service,
which returns the signed manifest for the payload (``spec/resolution.md``).
"""

from .base import (
    STORE_MIME,
    ManifestResolver,
    ResolvedManifest,
    decode_binding_value,
    encode_binding_value,
)
from .cache import ManifestCache
from .registry import REGISTRY_SCHEMA, IssuerEntry, IssuerRegistry, normalize_service_url
from .remote import ClientPolicy, RemoteResolver

__all__ = [
    "REGISTRY_SCHEMA",
    "STORE_MIME",
    "ClientPolicy",
    "IssuerEntry",
    "IssuerRegistry",
    "ManifestCache",
    "ManifestResolver",
    "RemoteResolver",
    "ResolvedManifest",
    "decode_binding_value",
    "encode_binding_value",
    "normalize_service_url",
]
