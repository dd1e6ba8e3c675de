"""Clips through the c2pa adapter: streamed signing of a real H.264 MP4 with the clip
assertion and a poster, reading from an open file, tampering, and a store read alone."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from av.video.stream import VideoStream
from numpy.typing import NDArray
from PIL import Image

from provenance import _c2pa
from provenance._c2pa import ManifestReading, ValidationState
from provenance.consent import grant_license
from provenance.errors import ManifestError
from provenance.fingerprint import TimelineBuilder
from provenance.identity import CertificateAuthority, SigningIdentity
from provenance.manifest import (
    CLIP_LABEL,
    POSTER_IDENTIFIER,
    TRAINED_ALGORITHMIC_MEDIA,
    ClipFacts,
    DeclaredUse,
    StampClaims,
    build_definition,
    parse_claims,
)
from provenance.media.synthetic import avatar_frame
from provenance.owner import OwnerKey
from provenance.trust import TrustAnchors
from provenance.watermark import ContentId

WIDTH, HEIGHT, FRAMES, FPS = 320, 240, 10, 30
CONTAINERS = {"video/mp4": "mp4", "video/quicktime": "mov"}


def _frames() -> list[NDArray[np.uint8]]:
    base = avatar_frame(HEIGHT, WIDTH, seed=5)
    return [np.roll(base, 2 * i, axis=1) for i in range(FRAMES)]


def _encode(container_format: str) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as container:
        stream = container.add_stream("libx264", rate=Fraction(FPS))
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        for rgb in _frames():
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def _clip_facts(clip: bytes) -> ClipFacts:
    """What the video stamper records: facts and a timeline from the decoded Y planes."""
    builder = TimelineBuilder(interval_ms=100)
    with av.open(io.BytesIO(clip), mode="r") as container:
        for frame in container.decode(video=0):
            assert frame.time is not None
            y = np.asarray(frame.to_ndarray(), dtype=np.uint8)[:HEIGHT]
            builder.offer(round(frame.time * 1000), y, full_range=False)
    duration_ms = FRAMES * 1000 // FPS
    return ClipFacts(FRAMES, duration_ms, WIDTH, HEIGHT, f"{FPS}/1", builder.build())


def _claims(clip: ClipFacts) -> StampClaims:
    license = grant_license(
        owner_key=OwnerKey.generate(),
        owner_name="Ada",
        face_id="face-7",
        licensee="Studio",
        allow=["education"],
        deny=["politics"],
        territories=["EU"],
        not_after=date.today() + timedelta(days=30),
        intended_uses="Recorded lecture videos for an online university course in physics",
    )
    return StampClaims(
        content_id=ContentId.from_hex("00ff112233445566"),
        watermark_alg="org.example.alg.1",
        watermark_alg_params="bits=156",
        grant=license.grant,
        owner_signature=license.signature,
        license_sha256=license.sha256(),
        use=DeclaredUse("education", "DE", "Studio"),
        stamped_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        vendor="Studio",
        timespan_ms=(0, clip.duration_ms),
        clip=clip,
    )


def _poster() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_frames()[0]).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


@dataclasses.dataclass(frozen=True)
class SignedClip:
    path: Path
    store: bytes
    claims: StampClaims


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.generate(common_name="Test Root", organization="Test Vendor")


@pytest.fixture(scope="module")
def anchors(ca: CertificateAuthority) -> TrustAnchors:
    return TrustAnchors.from_pem(ca.certificate_pem)


@pytest.fixture(scope="module")
def signer(ca: CertificateAuthority) -> SigningIdentity:
    return ca.issue_signer(common_name="Test Signer", organization="Test Vendor")


def _sign(signer: SigningIdentity, mime: str, folder: Path) -> SignedClip:
    unsigned = folder / f"unsigned.{CONTAINERS[mime]}"
    unsigned.write_bytes(_encode(CONTAINERS[mime]))
    claims = _claims(_clip_facts(unsigned.read_bytes()))
    signed = folder / f"signed.{CONTAINERS[mime]}"
    with unsigned.open("rb") as source, signed.open("w+b") as destination:
        store = _c2pa.sign_stream(
            build_definition(claims, title=signed.name, poster=True),
            signer,
            mime=mime,
            source=source,
            destination=destination,
            resources={POSTER_IDENTIFIER: _poster()},
        )
    return SignedClip(path=signed, store=store, claims=claims)


@pytest.fixture(scope="module")
def signed_mp4(signer: SigningIdentity, tmp_path_factory: pytest.TempPathFactory) -> SignedClip:
    return _sign(signer, "video/mp4", tmp_path_factory.mktemp("mp4"))


def _read_file(path: Path, anchors: TrustAnchors, mime: str = "video/mp4") -> ManifestReading:
    with path.open("rb") as asset:
        reading = _c2pa.read(mime=mime, asset=asset, trust=anchors)
    assert reading is not None
    return reading


def test_signed_mp4_reads_trusted_from_a_file(
    signed_mp4: SignedClip, anchors: TrustAnchors
) -> None:
    reading = _read_file(signed_mp4.path, anchors)
    assert reading.state is ValidationState.TRUSTED, reading.failures
    assert "assertion.bmffHash.match" in {entry.code for entry in reading.successes}
    # The embedded store is the one sign_stream returned.
    detached = _c2pa.read(
        mime="video/mp4",
        asset=signed_mp4.path.read_bytes(),
        trust=anchors,
        manifest_store=signed_mp4.store,
    )
    assert detached is not None and detached.label == reading.label
    # Still decodes as the same clip.
    with av.open(str(signed_mp4.path), mode="r") as container:
        assert sum(1 for _ in container.decode(video=0)) == FRAMES


def test_clip_claims_round_trip(signed_mp4: SignedClip, anchors: TrustAnchors) -> None:
    reading = _read_file(signed_mp4.path, anchors)
    parsed = parse_claims(reading.assertions)
    assert parsed.clip == signed_mp4.claims.clip
    assert parsed.clip is not None and parsed.clip.timeline is not None
    assert [t for t, _ in parsed.clip.timeline.entries] == [0, 100, 200, 300]
    assert parsed.clip.timeline.grid == 16
    scope = reading.assertions["c2pa.soft-binding"]["blocks"][0]["scope"]
    assert scope == {"timespan": {"start": 0, "end": 333}}
    assert parsed.timespan_ms == (0, 333)


def test_poster_is_the_manifest_thumbnail(signed_mp4: SignedClip, anchors: TrustAnchors) -> None:
    reading = _read_file(signed_mp4.path, anchors)
    thumbnail = reading.raw["manifests"][reading.label]["thumbnail"]
    assert thumbnail["format"] == "image/jpeg"
    assert thumbnail["identifier"].endswith("c2pa.thumbnail.claim")


def test_poster_must_be_given(signer: SigningIdentity, signed_mp4: SignedClip) -> None:
    definition = build_definition(signed_mp4.claims, title="x.mp4", poster=True)
    with pytest.raises(ManifestError, match=r"resource not found: poster\.jpg"):
        _c2pa.sign_stream(
            definition,
            signer,
            mime="video/mp4",
            source=io.BytesIO(_encode("mp4")),
            destination=io.BytesIO(),
        )


def _flip_in_mdat(data: bytes) -> bytes:
    offset = 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if data[offset + 4 : offset + 8] == b"mdat":
            flipped = bytearray(data)
            flipped[offset + size // 2] ^= 0x01
            return bytes(flipped)
        offset += size
    raise AssertionError("no mdat box")


def test_flipped_mdat_byte_is_invalid(
    signed_mp4: SignedClip, anchors: TrustAnchors, tmp_path: Path
) -> None:
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(_flip_in_mdat(signed_mp4.path.read_bytes()))
    reading = _read_file(tampered, anchors)
    assert reading.state is ValidationState.INVALID
    assert reading.failure_codes == ("assertion.bmffHash.mismatch",)


def test_store_alone_validates_all_but_the_hard_binding(
    signed_mp4: SignedClip, anchors: TrustAnchors
) -> None:
    reading = _c2pa.read_store(signed_mp4.store, trust=anchors)
    # No asset to hash: the binding is reported failed, and nothing else.
    assert reading.state is ValidationState.INVALID
    assert reading.failure_codes == ("assertion.bmffHash.mismatch",)
    successes = {entry.code for entry in reading.successes}
    assert {"claimSignature.validated", "signingCredential.trusted"} <= successes
    assert "assertion.hashedURI.match" in successes
    assert parse_claims(reading.assertions).clip == signed_mp4.claims.clip
    untrusted = _c2pa.read_store(signed_mp4.store, trust=TrustAnchors.none())
    assert untrusted.failure_codes == (
        "signingCredential.untrusted",
        "assertion.bmffHash.mismatch",
    )


def test_store_alone_still_catches_an_edited_assertion(
    signed_mp4: SignedClip, anchors: TrustAnchors
) -> None:
    store = bytearray(signed_mp4.store)
    index = signed_mp4.store.index(b"30/1")  # the clip assertion's fps
    store[index] = ord("6")
    reading = _c2pa.read_store(bytes(store), trust=anchors)
    assert "assertion.hashedURI.mismatch" in reading.failure_codes
    assert any(
        entry.code == "assertion.hashedURI.mismatch" and CLIP_LABEL in (entry.url or "")
        for entry in reading.failures
    )


def test_a_stills_store_alone_reports_its_data_hash(
    signer: SigningIdentity, anchors: TrustAnchors
) -> None:
    png = io.BytesIO()
    Image.fromarray(_frames()[0]).save(png, "PNG")
    definition = {
        "claim_generator_info": [{"name": "tests", "version": "0"}],
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA}
                    ]
                },
            }
        ],
    }
    signed = _c2pa.sign(definition, signer, mime="image/png", asset=png.getvalue())
    reading = _c2pa.read_store(signed.manifest_store, trust=anchors)
    assert reading.failure_codes == ("assertion.dataHash.mismatch",)


@pytest.mark.parametrize("store", [b"", b"garbage"], ids=["empty", "garbage"])
def test_unreadable_store(store: bytes, anchors: TrustAnchors) -> None:
    with pytest.raises(ManifestError, match="manifest store is unreadable"):
        _c2pa.read_store(store, trust=anchors)


def test_quicktime_signs_and_reads_trusted(
    signer: SigningIdentity, anchors: TrustAnchors, tmp_path: Path
) -> None:
    signed = _sign(signer, "video/quicktime", tmp_path)
    assert signed.path.read_bytes()[4:12] == b"ftypqt  "
    reading = _read_file(signed.path, anchors, mime="video/quicktime")
    assert reading.state is ValidationState.TRUSTED, reading.failures
    tampered = tmp_path / "tampered.mov"
    tampered.write_bytes(_flip_in_mdat(signed.path.read_bytes()))
    reading = _read_file(tampered, anchors, mime="video/quicktime")
    assert reading.failure_codes == ("assertion.bmffHash.mismatch",)


class _Reads(io.BytesIO):
    """A stream that notes the largest single read c2pa asks of it: its buffer's size."""

    largest = 0

    def readinto(self, buffer: Any) -> int:
        self.largest = max(self.largest, len(buffer))
        return super().readinto(buffer)


MIB = 1 << 20


def _noisy_mp4() -> bytes:
    """An MP4 whose mdat spans several of c2pa's 1 MiB Merkle leaves (lossless noise)."""
    noise = np.random.default_rng(3).integers(0, 256, (24, HEIGHT, WIDTH, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(FPS))
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "0"}
        for rgb in noise:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return buffer.getvalue()


def test_media_data_is_hashed_in_bounded_pieces(
    signer: SigningIdentity, anchors: TrustAnchors
) -> None:
    # Hashed whole, the mdat would be read in one piece the size of the clip (up to 256 MiB,
    # twice); as a Merkle tree of 1 MiB leaves, signing and reading stay small at any length.
    # Signing hashes c2pa's own copy, out of sight; reading hashes the stream it is given.
    clip = _noisy_mp4()
    assert len(clip) > 3 * MIB
    source, destination = _Reads(clip), _Reads()
    definition = build_definition(_claims(_clip_facts(_encode("mp4"))), title="n.mp4")
    store = _c2pa.sign_stream(
        definition, signer, mime="video/mp4", source=source, destination=destination
    )
    assert source.largest <= MIB
    signed = _Reads(destination.getvalue())
    reading = _c2pa.read(mime="video/mp4", asset=signed, trust=anchors)
    assert reading is not None
    assert reading.state is ValidationState.TRUSTED, reading.failures
    assert signed.largest <= MIB
    # Every leaf is bound: a bit flipped in the last MiB of media data is caught.
    tampered = bytearray(destination.getvalue())
    tampered[-MIB // 2] ^= 0x01
    reading = _c2pa.read(mime="video/mp4", asset=bytes(tampered), trust=anchors)
    assert reading is not None and reading.failure_codes == ("assertion.bmffHash.mismatch",)
    # The store alone (a still taken from the clip) still fails only on the binding.
    alone = _c2pa.read_store(store, trust=anchors)
    assert alone.failure_codes == ("assertion.bmffHash.mismatch",)


def test_streams_are_used_from_the_start(signer: SigningIdentity, anchors: TrustAnchors) -> None:
    source = io.BytesIO(_encode("mp4"))
    source.seek(1000)
    destination = io.BytesIO(b"stale" * 200_000)  # longer than the signed clip
    definition = build_definition(_claims(_clip_facts(source.getvalue())), title="c.mp4")
    store = _c2pa.sign_stream(
        definition, signer, mime="video/mp4", source=source, destination=destination
    )
    signed = destination.getvalue()
    assert b"stale" not in signed
    assert signed[4:8] == b"ftyp"
    positioned = io.BytesIO(signed)
    positioned.seek(777)
    reading = _c2pa.read(mime="video/mp4", asset=positioned, trust=anchors)
    assert reading is not None and reading.state is ValidationState.TRUSTED
    assert signed.count(store) == 1
