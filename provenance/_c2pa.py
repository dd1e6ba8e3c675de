"""The one adapter to c2pa-python: sign assets and read manifests back, in our types.

Everything in this module is internal and unstable. It is the only module that imports
``c2pa``: it builds an explicit ``Context`` for every Builder and Reader (c2pa's defaults
fetch remote manifests and accept a narrower EKU set, ``notes/c2pa.md`` §3), converts every
``C2paError`` into :mod:`provenance.errors` with the cause kept, and turns validation
states into :class:`ValidationState`.

Signing always goes through ``Signer.from_callback`` so a private key never leaves Python
(a :class:`~provenance.identity.SigningIdentity` signs in-process, a
:class:`~provenance.identity.CallbackSigner` forwards to a KMS or HSM through the same path).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, BinaryIO

import c2pa

from provenance.errors import (
    ManifestError,
    ProvenanceError,
    SigningError,
    UnsupportedMediaError,
)
from provenance.identity import Signer, SigningAlgorithm
from provenance.trust import TrustAnchors

__all__ = [
    "SUPPORTED_MIME_TYPES",
    "ManifestReading",
    "SignedAsset",
    "StatusEntry",
    "ValidationState",
    "read",
    "read_store",
    "sign",
    "sign_stream",
]

_logger = logging.getLogger(__name__)

# Formats whose binding we have measured (notes/c2pa.md §1.7): JPEG/PNG/WebP bind with
# c2pa.hash.data, MP4 and QuickTime (.mov, signed Trusted, a flipped mdat bit read as
# assertion.bmffHash.mismatch) with c2pa.hash.bmff.v3. c2pa accepts more; add them once tested.
SUPPORTED_MIME_TYPES: frozenset[str] = frozenset(
    {"image/png", "image/jpeg", "image/webp", "video/mp4", "video/quicktime"}
)

# A Context replaces c2pa's EKU defaults (notes §3 gotcha, c2pa-rs PR #2545): without this,
# certificates carrying only documentSigning or c2pa-kp-claimSigning read Invalid.
_TRUST_CONFIG = "1.3.6.1.5.5.7.3.4\n1.3.6.1.5.5.7.3.36\n1.3.6.1.4.1.62558.2.1\n"

# What c2pa keeps in memory while signing before it spills to temporary files (its default
# is 512 MB): the intermediate copy of the asset (spec/assertions.md, "Signing").
BACKING_STORE_THRESHOLD_MB = 32

# MP4 and MOV media data is hashed as a Merkle tree of fixed 1 MiB leaves, all of whose
# hashes go into the manifest (no proof boxes, so no extra copy of the file). Without it
# c2pa hashes each top-level box in one read of up to 256 MiB, double-buffered
# (c2pa-rs utils/hash_utils.rs MAX_HASH_BUF), and the mdat of a finished MP4 is nearly the
# whole file: measured, signing a 342 MB MP4 took RSS from 49 to 392 MB, and reading it
# back as much; with the tree, 61 and 60 MB. The manifest grows by 32 bytes per MiB.
MERKLE_LEAF_KB = 1024

# The media type under which c2pa reads a bare manifest store (a .c2pa sidecar).
_STORE_MIME = "application/c2pa"

_MAX_MESSAGE = 400

_ALGORITHMS: Mapping[SigningAlgorithm, Any] = MappingProxyType(
    {
        SigningAlgorithm.ES256: c2pa.C2paSigningAlg.ES256,
        SigningAlgorithm.ES384: c2pa.C2paSigningAlg.ES384,
        SigningAlgorithm.PS256: c2pa.C2paSigningAlg.PS256,
        SigningAlgorithm.ED25519: c2pa.C2paSigningAlg.ED25519,
    }
)


class ValidationState(StrEnum):
    """Overall state of the active manifest, as c2pa-rs reports it (notes §5.1)."""

    TRUSTED = "Trusted"
    """Intact, and the signer chains to a trust anchor."""
    VALID = "Valid"
    """Intact, but the signer is not trusted (``signingCredential.untrusted``)."""
    INVALID = "Invalid"
    """Tampered, badly signed, or malformed."""


@dataclass(frozen=True)
class StatusEntry:
    """One validation status: a C2PA code, the JUMBF URL it is about, and c2pa's text."""

    code: str
    url: str | None
    explanation: str | None


@dataclass(frozen=True)
class ManifestReading:
    """What c2pa found in an asset's active manifest, and how it validated."""

    state: ValidationState
    label: str
    assertions: Mapping[str, Any]
    failures: tuple[StatusEntry, ...]
    successes: tuple[StatusEntry, ...]
    informational: tuple[StatusEntry, ...]
    signer_issuer: str | None
    signer_common_name: str | None
    signed_at: str | None
    claim_generator: str | None
    raw: Mapping[str, Any]
    parent_assertions: Mapping[str, Any] | None = None
    """The assertions of the ``parentOf`` ingredient's manifest, when this one updates it."""
    parent_label: str | None = None

    @property
    def failure_codes(self) -> tuple[str, ...]:
        """The codes of :attr:`failures`, in order."""
        return tuple(entry.code for entry in self.failures)


@dataclass(frozen=True)
class SignedAsset:
    """A signed asset and its manifest store (keep the store to validate it detached)."""

    asset: bytes
    manifest_store: bytes


def sign(
    definition: Mapping[str, Any],
    signer: Signer,
    *,
    mime: str,
    asset: bytes,
    tsa_url: str | None = None,
    parent: tuple[Mapping[str, Any], bytes | BinaryIO] | None = None,
) -> SignedAsset:
    """Embed a signed C2PA manifest built from ``definition`` into ``asset``.

    The in-memory form of :func:`sign_stream`, for stills: same settings, same errors.
    ``parent`` (ingredient definition, the parent asset's bytes) makes this an update: the
    parent and its manifest become a ``parentOf`` ingredient.

    Args:
        definition: a c2pa-rs ``ManifestDefinition`` (``claim_generator_info``,
            ``assertions``, ...).
        signer: signs the claim; its chain is embedded.
        mime: the asset's media type, one of :data:`SUPPORTED_MIME_TYPES`.
        asset: the unsigned file bytes.
        tsa_url: an RFC 3161 timestamp authority; contacted synchronously while signing.

    Returns:
        The signed asset and the manifest store bytes.

    Raises:
        UnsupportedMediaError: ``mime`` is not supported.
        SigningError: the signer or its certificate chain was refused, the callback failed,
            or the timestamp authority is unreachable or not an http(s) URL.
        ManifestError: the definition is malformed or fails validation, or the asset cannot
            be parsed as ``mime``.
    """
    destination = io.BytesIO()
    store = sign_stream(
        definition,
        signer,
        mime=mime,
        source=io.BytesIO(asset),
        destination=destination,
        tsa_url=tsa_url,
        parent=parent,
    )
    return SignedAsset(asset=destination.getvalue(), manifest_store=store)


def sign_stream(
    definition: Mapping[str, Any],
    signer: Signer,
    *,
    mime: str,
    source: BinaryIO,
    destination: BinaryIO,
    resources: Mapping[str, bytes] | None = None,
    tsa_url: str | None = None,
    parent: tuple[Mapping[str, Any], bytes | BinaryIO] | None = None,
) -> bytes:
    """Sign the asset in ``source`` into ``destination`` without holding it in memory.

    c2pa reads ``source`` and writes ``destination`` in several passes (write, hash, patch
    the signature in), so both must seek and ``destination`` must also read back: a file
    opened ``"w+b"``, never a pipe. ``source`` is read from offset 0; ``destination`` is
    emptied first and written from offset 0. Anything c2pa has to buffer beyond
    :data:`BACKING_STORE_THRESHOLD_MB` spills to temporary files, and MP4 media data is
    hashed in :data:`MERKLE_LEAF_KB` leaves, so signing (and reading back) a clip costs
    a few MB of memory whatever its size.

    Thumbnails are off (frames are stamped by the thousand and an automatic thumbnail adds
    ~40 ms and ~30 KB each; c2pa makes none for MP4 anyway). A clip that wants a poster
    frame names it in the definition's ``"thumbnail"`` and passes the JPEG in
    ``resources``. Verify-after-sign is on, so a manifest c2pa would later read as Invalid
    is refused here instead.

    Args:
        definition: a c2pa-rs ``ManifestDefinition`` (``claim_generator_info``,
            ``assertions``, ``thumbnail``, ...).
        signer: signs the claim; its chain is embedded.
        mime: the asset's media type, one of :data:`SUPPORTED_MIME_TYPES`.
        source: the unsigned asset, readable and seekable.
        destination: receives the signed asset; readable, writable and seekable.
        resources: identifier to bytes, added to the manifest (e.g. ``{"poster.jpg":
            jpeg}`` for ``"thumbnail": {"format": "image/jpeg", "identifier":
            "poster.jpg"}``).
        tsa_url: an RFC 3161 timestamp authority; contacted synchronously while signing.
        parent: (ingredient definition, the parent asset as bytes or a readable, seekable
            file of the same ``mime``) makes this an update: the parent and its manifest
            become a ``parentOf`` ingredient. c2pa reads the file from offset 0 and
            validates the manifest it carries.

    Returns:
        The manifest store bytes (keep them to validate the asset detached later).

    Raises:
        UnsupportedMediaError: ``mime`` is not supported.
        SigningError: the signer or its certificate chain was refused, the callback failed,
            or the timestamp authority is unreachable or not an http(s) URL.
        ManifestError: the definition is malformed or fails validation, a resource it names
            is missing, or the asset cannot be parsed as ``mime``.
    """
    _check_mime(mime)
    if tsa_url is not None and not tsa_url.startswith(("http://", "https://")):
        raise SigningError(f"{tsa_url}: a timestamp authority URL must be http(s)")
    try:
        manifest_json = json.dumps(dict(definition))
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"manifest definition is not JSON-serialisable: {exc}") from exc
    callback_errors: list[BaseException] = []

    def callback(data: bytes) -> bytes:
        # c2pa swallows callback exceptions (it only sees -1), so keep ours to report them.
        try:
            return signer.sign(data)
        except Exception as exc:
            callback_errors.append(exc)
            raise

    settings = {
        "builder": {"thumbnail": {"enabled": False}},
        "core": {
            "backing_store_memory_threshold_in_mb": BACKING_STORE_THRESHOLD_MB,
            # Only BMFF (MP4, MOV) hashing reads these; stills are unaffected.
            "merkle_tree_chunk_size_in_kb": MERKLE_LEAF_KB,
            "merkle_tree_max_proofs": 0,
        },
        "trust": {"trust_config": _TRUST_CONFIG},
        "verify": {"verify_after_sign": True, "remote_manifest_fetch": False},
    }
    try:
        with (
            _context(settings) as context,
            c2pa.Signer.from_callback(
                callback,
                _ALGORITHMS[SigningAlgorithm(signer.algorithm)],
                signer.certificate_chain_pem.decode("ascii"),
                tsa_url,
            ) as c2pa_signer,
            c2pa.Builder(manifest_json, context=context) as builder,
        ):
            for identifier, data in (resources or {}).items():
                builder.add_resource(identifier, io.BytesIO(data))
            if parent is not None:
                ingredient, parent_asset = parent
                if isinstance(parent_asset, bytes):
                    parent_asset = io.BytesIO(parent_asset)
                builder.add_ingredient(dict(ingredient), mime, parent_asset)
            # c2pa writes from offset 0 but never truncates: stale bytes would trail the asset.
            destination.seek(0)
            destination.truncate()
            store = builder.sign(c2pa_signer, mime, source, destination)
    except c2pa.C2paError as exc:
        if callback_errors:
            cause = callback_errors[0]
            message = cause.diagnostics() if isinstance(cause, ProvenanceError) else str(cause)
            raise SigningError(f"signing failed: {message}") from cause
        raise _signing_error(exc) from exc
    return bytes(store)


def read(
    *,
    mime: str,
    asset: bytes | BinaryIO,
    trust: TrustAnchors,
    manifest_store: bytes | None = None,
) -> ManifestReading | None:
    """Read and validate the active C2PA manifest of ``asset``.

    Args:
        mime: the asset's media type, one of :data:`SUPPORTED_MIME_TYPES`.
        asset: the file bytes, or the file opened for binary reading (read from offset 0,
            seeking; a large clip is hashed from disk, never loaded whole).
        trust: anchors whose signers read Trusted (``TrustAnchors.none()`` trusts nobody).
        manifest_store: a detached manifest store (from :class:`SignedAsset` or
            :func:`sign_stream`) to validate against ``asset`` instead of an embedded one.

    Returns:
        The reading, or None when the asset carries no manifest and none was given.

    Raises:
        UnsupportedMediaError: ``mime`` is not supported.
        ManifestError: the manifest (embedded or given) is corrupt or unreadable, or the
            asset cannot be parsed as ``mime``.
    """
    _check_mime(mime)
    stream = io.BytesIO(asset) if isinstance(asset, bytes) else asset
    try:
        return _read_stream(mime, stream, trust, manifest_store)
    except c2pa.C2paError.ManifestNotFound as exc:
        if manifest_store is None:
            return None
        raise ManifestError(f"the given manifest store is unreadable: {_one_line(exc)}") from exc
    except c2pa.C2paError as exc:
        raise ManifestError(f"cannot read the C2PA manifest: {_one_line(exc)}") from exc


def read_store(manifest_store: bytes, *, trust: TrustAnchors) -> ManifestReading:
    """Validate a detached manifest store on its own, without the asset it was made for.

    For a suspect file c2pa cannot bind to (a WebM or MKV re-upload, a PNG frame taken
    from a signed clip) whose watermark led to this store. c2pa reads the store as an
    ``application/c2pa`` asset and validates everything in it: the claim signature and its
    validity period, the signer's chain against ``trust``, every assertion against its
    hashed URI, and the action rules. What it cannot do is check the hard binding, since
    there are no asset bytes to hash; it then reports that binding as failed (measured,
    c2pa-python 0.38.1 / c2pa-rs 0.91.3):

    - a clip's store: ``assertion.bmffHash.mismatch`` ("BMFF file level hash mismatch");
    - a still's store: ``assertion.dataHash.mismatch`` ("The exclusion range exceed the
      data length").

    So :attr:`ManifestReading.state` is always ``INVALID`` here, even for an intact store
    by a trusted signer; the signer's trust shows in the codes (``signingCredential.trusted``
    among the successes, or ``signingCredential.untrusted`` among the failures). A caller
    sets the hard-binding codes aside, as it does for a store validated against a
    re-encoded copy, and judges the content with the signed fingerprints instead. Any other
    failure (``claimSignature.mismatch``, ``assertion.hashedURI.mismatch``, ...) means the
    store itself is damaged or forged.

    Args:
        manifest_store: the store bytes (from :func:`sign_stream` or :class:`SignedAsset`).
        trust: anchors whose signers count as trusted.

    Returns:
        The reading, with the hard-binding failure described above.

    Raises:
        ManifestError: the bytes are empty or not a C2PA manifest store.
    """
    try:
        return _read_stream(_STORE_MIME, io.BytesIO(manifest_store), trust, None)
    except c2pa.C2paError as exc:
        raise ManifestError(f"the manifest store is unreadable: {_one_line(exc)}") from exc


def _read_stream(
    mime: str, stream: BinaryIO, trust: TrustAnchors, manifest_store: bytes | None
) -> ManifestReading:
    """Read one manifest; c2pa errors propagate for the caller to map."""
    trust_settings: dict[str, str] = {"trust_config": _TRUST_CONFIG}
    if trust:
        trust_settings["user_anchors"] = trust.pem.decode("ascii")
    settings = {
        "trust": trust_settings,
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    }
    with (
        _context(settings) as context,
        c2pa.Reader(mime, stream, manifest_store, context=context) as reader,
    ):
        text = reader.json()
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ManifestError(f"c2pa returned malformed JSON: {exc}") from exc
    return _reading(raw)


def _check_mime(mime: str) -> None:
    if mime not in SUPPORTED_MIME_TYPES:
        supported = ", ".join(sorted(SUPPORTED_MIME_TYPES))
        raise UnsupportedMediaError(f"{mime}: unsupported media type (supported: {supported})")


def _context(settings: Mapping[str, Any]) -> Any:
    try:
        return c2pa.Context.from_dict(dict(settings))
    except c2pa.C2paError as exc:
        # Our settings are constants, so this is a c2pa incompatibility, not user error.
        raise ManifestError(f"c2pa rejected its settings: {_one_line(exc)}") from exc


def _signing_error(exc: Exception) -> ProvenanceError:
    message = _one_line(exc)
    if isinstance(exc, c2pa.C2paError.Signature):
        return SigningError(f"signing failed: {message}")
    if isinstance(exc, c2pa.C2paError.Verify):
        return ManifestError(f"the signed manifest failed validation: {message}")
    # Json/Assertion/Manifest (bad definition) and Other (asset unparseable as the MIME type).
    return ManifestError(f"cannot build the C2PA manifest: {message}")


def _one_line(exc: Exception) -> str:
    # c2pa puts the useful part of a Verify error (the failure codes) on later lines, so
    # fold them into one line rather than keeping only the first.
    text = " ".join(str(exc).split())
    if not text:
        return type(exc).__name__
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _reading(raw: Mapping[str, Any]) -> ManifestReading:
    try:
        label = str(raw["active_manifest"])
        manifest = raw["manifests"][label]
        state = ValidationState(raw["validation_state"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"c2pa reported no usable active manifest ({exc!r})") from exc
    results = (raw.get("validation_results") or {}).get("activeManifest") or {}
    signature = manifest.get("signature_info") or {}
    return ManifestReading(
        state=state,
        label=label,
        assertions=MappingProxyType(_assertions(manifest.get("assertions") or [])),
        failures=_entries(results.get("failure")),
        successes=_entries(results.get("success")),
        informational=_entries(results.get("informational")),
        signer_issuer=signature.get("issuer"),
        signer_common_name=signature.get("common_name"),
        signed_at=signature.get("time"),
        claim_generator=_claim_generator(manifest),
        raw=MappingProxyType(dict(raw)),
        **_parent(raw, manifest),
    )


def _parent(raw: Mapping[str, Any], manifest: Mapping[str, Any]) -> dict[str, Any]:
    for ingredient in manifest.get("ingredients") or []:
        label = ingredient.get("active_manifest")
        parent = (raw.get("manifests") or {}).get(label)
        if ingredient.get("relationship") == "parentOf" and parent is not None:
            return {
                "parent_assertions": MappingProxyType(_assertions(parent.get("assertions") or [])),
                "parent_label": str(label),
            }
    return {}


def _assertions(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    assertions: dict[str, Any] = {}
    for item in items:
        label = str(item.get("label"))
        # Repeated labels (several ingredients, say) get c2pa's own "__n" instance suffix.
        key, n = label, 1
        while key in assertions:
            key, n = f"{label}__{n}", n + 1
        assertions[key] = item.get("data")
    return assertions


def _entries(items: Iterable[Mapping[str, Any]] | None) -> tuple[StatusEntry, ...]:
    return tuple(
        StatusEntry(
            code=str(item.get("code")), url=item.get("url"), explanation=item.get("explanation")
        )
        for item in items or ()
    )


def _claim_generator(manifest: Mapping[str, Any]) -> str | None:
    # v1 claims carry a "claim_generator" string; v2 claims only "claim_generator_info".
    if manifest.get("claim_generator"):
        return str(manifest["claim_generator"])
    infos = manifest.get("claim_generator_info") or []
    if not infos:
        return None
    first = infos[0]
    name, version = first.get("name"), first.get("version")
    return f"{name}/{version}" if version else (str(name) if name else None)
