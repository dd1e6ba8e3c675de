"""What a resolver hands back, the resolver interface, and the soft-binding value codec.

The codec is shared by the vendor service and the platform client, so both read the
``value`` of a Soft Binding Resolution API query the same way: base64 of the 8 bytes of
the content ID, exactly the bytes the manifest's ``c2pa.soft-binding`` block carries.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Protocol

from ..errors import InputError
from ..watermark import ContentId

__all__ = [
    "STORE_MIME",
    "ManifestResolver",
    "ResolvedManifest",
    "decode_binding_value",
    "encode_binding_value",
]

# The media type of a bare manifest store (C2PA spec: the /manifests route answers with it).
STORE_MIME = "application/c2pa"
_CONTENT_ID_BYTES = 8


@dataclass(frozen=True)
class ResolvedManifest:
    """A signed manifest store found for a watermark payload, and where it came from.

    Attributes:
        manifest_store: the store bytes, still to be validated by the verifier.
        mime: the media type the store was made for, or ``application/c2pa`` when the
            source does not say (a remote service); the verifier then validates the store
            on its own, as it does for a re-encoded copy.
        origin: the service base URL for a remote answer; None for a local repository.
        vendor: the vendor name the issuer registry gives for that service, if any.
    """

    manifest_store: bytes
    mime: str
    origin: str | None = None
    vendor: str | None = None


class ManifestResolver(Protocol):
    """Finds the signed manifest for a content ID somewhere other than a local repository."""

    def resolve(self, content_id: ContentId, *, alg: str | None) -> ResolvedManifest | None:
        """The manifest stored for ``content_id``, or None when its service has none.

        Args:
            content_id: the watermark payload.
            alg: the soft-binding algorithm the payload was read with, if known.

        Raises:
            ResolutionError: no service could be asked, or the one asked did not answer.
        """
        ...


def encode_binding_value(content_id: ContentId) -> str:
    """The base64 ``value`` of a byBinding query for ``content_id``."""
    return base64.b64encode(content_id.to_bytes()).decode("ascii")


def decode_binding_value(value: str) -> ContentId:
    """The content ID in a byBinding ``value`` (standard or URL-safe base64, padded or not).

    Raises:
        InputError: not base64, or not exactly 8 bytes.
    """
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"soft binding value {value!r} is not base64") from exc
    if len(raw) != _CONTENT_ID_BYTES:
        raise InputError(
            f"soft binding value must be {_CONTENT_ID_BYTES} bytes (a content ID), got {len(raw)}"
        )
    return ContentId(int.from_bytes(raw, "big"))
