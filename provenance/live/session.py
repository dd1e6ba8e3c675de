"""A live stream's signing session: the stream assertion, and each segment's signature.

Follows C2PA 2.3/2.4 section 19.4 (Verifiable Segment Info) as far as public sources
describe it; the details decided here are normative in ``spec/live.md``:

- the stream's C2PA manifest (signed with c2pa-python into the init segment by the
  vendor's certificate) carries :data:`LIVE_LABEL`: the stream ID, the Ed25519 session
  public key (a COSE_Key), its first sequence number, creation time and validity, and the
  segment layout;
- each media segment is led by a version-0 ``emsg`` box (scheme :data:`VSI_SCHEME`, value
  ``fseg``) whose data is a COSE_Sign1 by the session key over the segment-info map
  ``{sequenceNumber, manifestId, bmffHash, streamId, previousHash}``. ``bmffHash.hash`` is
  SHA-256 over the segment's top-level boxes except that ``emsg``; ``previousHash`` is
  the previous segment's ``bmffHash.hash`` (the signed init segment's SHA-256 for the
  first), which chains the segments.

The session private key lives only in memory, for one stream.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import _cbor, _cose
from ..errors import ManifestError
from ..media.bmff import emsg_box, find_emsg, hash_without_emsg

__all__ = [
    "LIVE_LABEL",
    "VSI_SCHEME",
    "VSI_VALUE",
    "SegmentInfo",
    "SessionKey",
    "StreamFacts",
    "init_hash",
    "read_segment_info",
    "segment_hash",
]

LIVE_LABEL = "org.avatar-provenance.live-stream"
VSI_SCHEME = "urn:c2pa:verifiable-segment-info"
VSI_VALUE = "fseg"
_HASH_ALG = "sha256"
# The exclusion C2PA section 19.4.1 asks for: the VSI emsg box, told by its scheme at
# byte 12 (8-byte box header + 4-byte version and flags).
_EXCLUSIONS = [{"xpath": "/emsg", "data": [{"offset": 12, "value": VSI_SCHEME.encode()}]}]
# emsg times are in milliseconds.
_EMSG_TIMESCALE = 1000


@dataclass(frozen=True)
class StreamFacts:
    """What the stream manifest declares about the stream and its session key."""

    stream_id: str
    session_key: Ed25519PublicKey
    kid: bytes
    min_sequence: int
    created_at: str
    validity_s: int
    segment_frames: int
    fps: str
    width: int
    height: int

    def assertion(self) -> dict[str, Any]:
        """The :data:`LIVE_LABEL` assertion (JSON; the COSE_Key as base64)."""
        return {
            "version": 1,
            "streamId": self.stream_id,
            "segmentInfo": {"scheme": VSI_SCHEME, "value": VSI_VALUE, "hashAlg": _HASH_ALG},
            "sessionKeys": [
                {
                    "key": base64.b64encode(
                        _cose.cose_key(self.session_key, kid=self.kid)
                    ).decode(),
                    "minSequenceNumber": self.min_sequence,
                    "createdAt": self.created_at,
                    "validityPeriod": self.validity_s,
                }
            ],
            "segmentFrames": self.segment_frames,
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def parse(cls, assertions: Mapping[str, Any]) -> StreamFacts | None:
        """The facts from a manifest's assertions; None when it declares no live stream.

        Raises:
            ManifestError: the assertion is present but malformed.
        """
        data = assertions.get(LIVE_LABEL)
        if data is None:
            return None
        try:
            entry = data["sessionKeys"][0]
            key, kid = _cose.key_from_cose(base64.b64decode(entry["key"], validate=True))
            return cls(
                stream_id=str(data["streamId"]),
                session_key=key,
                kid=kid,
                min_sequence=int(entry["minSequenceNumber"]),
                created_at=str(entry["createdAt"]),
                validity_s=int(entry["validityPeriod"]),
                segment_frames=int(data["segmentFrames"]),
                fps=str(data["fps"]),
                width=int(data["width"]),
                height=int(data["height"]),
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ManifestError(f"malformed {LIVE_LABEL} assertion: {exc!r}") from exc

    def key_valid_at(self, moment: datetime) -> bool:
        """Whether the session key was within its validity period at ``moment``."""
        start = datetime.fromisoformat(self.created_at)
        return 0 <= (moment - start).total_seconds() <= self.validity_s


@dataclass(frozen=True)
class SegmentInfo:
    """A segment's verified segment-info map."""

    sequence: int
    manifest_id: str
    stream_id: str
    hash: bytes
    previous: bytes


class SessionKey:
    """The producer's per-stream Ed25519 key: signs each segment as it is cut."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.kid = secrets.token_bytes(8)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign_segment(
        self,
        segment: bytes,
        *,
        sequence: int,
        manifest_id: str,
        stream_id: str,
        previous: bytes,
        duration_ms: int,
    ) -> tuple[bytes, bytes]:
        """The segment led by its signed ``emsg`` box, and the segment's hash.

        ``segment`` must not already carry a segment-info ``emsg``.
        """
        digest = hash_without_emsg(segment, scheme=VSI_SCHEME)
        info = {
            "sequenceNumber": sequence,
            "manifestId": manifest_id,
            "bmffHash": {"alg": _HASH_ALG, "hash": digest, "exclusions": _EXCLUSIONS},
            "streamId": stream_id,
            "previousHash": previous,
        }
        signature = _cose.sign1(_cbor.dumps(info), self._key, kid=self.kid)
        box = emsg_box(
            scheme=VSI_SCHEME,
            value=VSI_VALUE,
            timescale=_EMSG_TIMESCALE,
            event_id=sequence,
            duration=duration_ms,
            message=signature,
        )
        return box + segment, digest


def init_hash(init: bytes) -> bytes:
    """What the first segment's ``previousHash`` holds: SHA-256 of the signed init segment."""
    return hashlib.sha256(init).digest()


def read_segment_info(segment: bytes, facts: StreamFacts, *, source: str) -> SegmentInfo | None:
    """The segment's signed info, checked against the stream's session key.

    Returns None when the segment carries no segment-info ``emsg`` (stripped or never
    signed). The content hash is *not* compared here; see :func:`segment_hash`.

    Raises:
        InputError: the segment's boxes are malformed or truncated.
        ManifestError: several signatures, a signature by another key or that does not
            verify, or a malformed segment-info map.
    """
    messages = find_emsg(segment, scheme=VSI_SCHEME, value=VSI_VALUE, source=source)
    if not messages:
        return None
    if len(messages) > 1:
        raise ManifestError(f"{len(messages)} segment signatures, expected one")
    kid = _cose.kid_of(messages[0])
    if kid != facts.kid:
        raise ManifestError(
            f"signed by session key {kid.hex() if kid else 'without ID'}, not this stream's "
            f"{facts.kid.hex()}: the segment belongs to another stream"
        )
    payload = _cose.verify1(messages[0], facts.session_key)
    info = _cbor.loads(payload, what="segment-info map")
    try:
        bmff = info["bmffHash"]
        if bmff["alg"] != _HASH_ALG:
            raise ValueError(f"hash algorithm {bmff['alg']!r}")
        result = SegmentInfo(
            sequence=int(info["sequenceNumber"]),
            manifest_id=str(info["manifestId"]),
            stream_id=str(info["streamId"]),
            hash=bytes(bmff["hash"]),
            previous=bytes(info["previousHash"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"malformed segment-info map: {exc!r}") from exc
    return result


def segment_hash(segment: bytes, *, source: str) -> bytes:
    """SHA-256 of the segment without its segment-info ``emsg``, as signed."""
    return hash_without_emsg(segment, scheme=VSI_SCHEME, source=source)
