"""The platform side of GB 45438: add ContentPropagator/PropagateID to a received file.

The producer's label fields stay as they were; the propagator fields and ReservedCode2 are
rewritten (pixels are never touched) and the platform signs a new C2PA manifest whose
``parentOf`` ingredient is the received file with its manifest, and whose actions say
``c2pa.opened`` then ``c2pa.edited.metadata``. So the change reads as what it is, an update
by the platform, rather than as a broken hard binding (``spec/labels.md``).

- Stills (PNG, JPEG, WebP): the XMP packet is rewritten in place, byte for byte.
- Clips (MP4, MOV): the file is remuxed (every packet copied, nothing decoded) with the new
  ``AIGC`` container key, and the XMP box is appended again. A remux rather than patching
  ``moov`` by hand, because changing the key's length moves every sample offset after it:
  FFmpeg's muxer rewrites the sample tables and writes the key exactly as ``stamp`` does.

    >>> propagate_file(platform_signer, Path("in.mp4"), Path("out.mp4"),  # doctest: +SKIP
    ...                propagator="0011PLATFORM", propagate_id="pf-42")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__, _c2pa
from ._internal.files import move_atomic, read_input, temporary_beside, write_atomic
from .errors import InputError, LabelError, OutputExistsError, UnsupportedMediaError
from .identity import Signer
from .labels import TRAINED_ALGORITHMIC_MEDIA, AigcLabel, XmpLabels, build_xmp, parse_xmp
from .manifest import SOFTWARE_NAME
from .media import Progress, probe_video, remux
from .media.image import sniff_format
from .media.metadata import append_mp4_xmp, embed_xmp, read_xmp
from .verify.labels import read_clip_labels

__all__ = ["PropagatedLabel", "propagate_file"]

_PARENT_ID = "received"
_MP4 = "video/mp4"
# The container key the TC260 video practice guide names (what ``stamp`` writes).
_AIGC_TAG = "AIGC"
# Containers c2pa binds as ISO BMFF (FFmpeg's demuxer name lists both).
_BMFF_CONTAINERS = frozenset({"mov", "mp4"})


@dataclass(frozen=True)
class PropagatedLabel:
    """What ``label propagate`` wrote."""

    path: Path
    before: AigcLabel
    after: AigcLabel


def propagate_file(
    signer: Signer,
    source: Path,
    destination: Path,
    *,
    propagator: str,
    propagate_id: str,
    force: bool = False,
    tsa_url: str | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> PropagatedLabel:
    """Write ``source`` to ``destination`` with the platform's propagator fields.

    A still keeps its format; a clip (MP4 or MOV) is written as MP4, and ``progress``
    follows its remux (frames copied).

    Raises:
        OutputExistsError: ``destination`` exists and ``force`` is false.
        InputError: unreadable, truncated, or the output would overwrite the input.
        UnsupportedMediaError: neither a PNG, JPEG or WebP still nor an MP4/MOV clip.
        LabelError: no readable AIGC label (or a clip's two placements disagree), or a
            value that cannot be written.
        EncodingError: the remuxed clip cannot be written.
        SigningError, ManifestError: the platform's manifest could not be signed.
    """
    if destination.exists() and not force:
        raise OutputExistsError(f"{destination}: already exists (use --force to replace it)")
    if destination.exists() and destination.resolve() == source.resolve():
        raise InputError(f"{destination}: output would overwrite the input")
    update = _Update(
        signer, source, destination, propagator, propagate_id, force, tsa_url, progress
    )
    return update.still() if _looks_like_still(source) else update.clip()


@dataclass(frozen=True)
class _Update:
    signer: Signer
    source: Path
    destination: Path
    propagator: str
    propagate_id: str
    force: bool
    tsa_url: str | None
    progress: Callable[[Progress], None] | None

    def still(self) -> PropagatedLabel:
        data = read_input(self.source)
        fmt = sniff_format(data)
        if fmt is None:
            raise UnsupportedMediaError(f"{self.source}: not a PNG, JPEG or WebP still")
        packet = read_xmp(data, source=str(self.source))
        received = _received_still(parse_xmp(packet) if packet is not None else None, self.source)
        after = received.label.with_propagator(self.propagator, self.propagate_id)
        relabelled = embed_xmp(data, received.xmp(after), source=str(self.source))
        signed = _c2pa.sign(
            _update_definition(self.destination.name, after, "the XMP"),
            self.signer,
            mime=fmt.mime,
            asset=relabelled,
            tsa_url=self.tsa_url,
            parent=(self._ingredient(), data),
        )
        write_atomic(self.destination, signed.asset, force=self.force)
        return PropagatedLabel(path=self.destination, before=received.label, after=after)

    def clip(self) -> PropagatedLabel:
        info = probe_video(self.source)
        if not _BMFF_CONTAINERS & set(info.container.split(",")):
            raise UnsupportedMediaError(
                f"{self.source}: label propagate handles PNG, JPEG and WebP stills and "
                f"MP4/MOV clips, not {info.container}"
            )
        received = _received_clip(self.source)
        after = received.label.with_propagator(self.propagator, self.propagate_id)
        with (
            temporary_beside(self.destination, ".mp4") as remuxed,
            temporary_beside(self.destination, ".mp4") as signed,
        ):
            remux(
                self.source, remuxed, metadata={_AIGC_TAG: after.to_json()}, progress=self.progress
            )
            # Appended before signing, as ``stamp`` does: the manifest then covers it.
            append_mp4_xmp(remuxed, received.xmp(after))
            with (
                remuxed.open("rb") as asset,
                self.source.open("rb") as parent,
                signed.open("w+b") as target,
            ):
                _c2pa.sign_stream(
                    _update_definition(self.destination.name, after, "the AIGC key and XMP"),
                    self.signer,
                    mime=_MP4,
                    source=asset,
                    destination=target,
                    tsa_url=self.tsa_url,
                    parent=(self._ingredient(), parent),
                )
            move_atomic(signed, self.destination, force=self.force)
        return PropagatedLabel(path=self.destination, before=received.label, after=after)

    def _ingredient(self) -> dict[str, str]:
        return {"title": self.source.name, "relationship": "parentOf", "instance_id": _PARENT_ID}


def _looks_like_still(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return True  # read_input raises the one-line error
    return not head or sniff_format(head) is not None


@dataclass(frozen=True)
class _Received:
    label: AigcLabel
    digital_source_type: str | None

    def xmp(self, label: AigcLabel) -> bytes:
        """The new XMP packet: the new label, the received IPTC source type kept."""
        return build_xmp(
            aigc=label, digital_source_type=self.digital_source_type or TRAINED_ALGORITHMIC_MEDIA
        )


def _received_still(found: XmpLabels | None, source: Path) -> _Received:
    text = found.aigc if found is not None else None
    source_type = found.digital_source_type if found is not None else None
    return _Received(_parsed(text, source), source_type)


def _received_clip(source: Path) -> _Received:
    found = read_clip_labels(source, bmff=True)
    texts = set(found.aigc.values())
    if len(texts) > 1:
        raise LabelError(
            f"{source}: its AIGC labels disagree ({', '.join(sorted(found.aigc))}); "
            "cannot tell which to propagate"
        )
    return _Received(_parsed(next(iter(texts), None), source), found.digital_source_type)


def _parsed(text: str | None, source: Path) -> AigcLabel:
    if text is None:
        raise LabelError(f"{source}: no GB 45438 AIGC label to propagate")
    try:
        return AigcLabel.from_json(text)
    except LabelError as exc:
        raise LabelError(f"{source}: {exc}") from exc


def _update_definition(title: str, label: AigcLabel, where: str) -> dict[str, Any]:
    agent = {"name": SOFTWARE_NAME, "version": __version__}
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "softwareAgent": agent,
                         "parameters": {"ingredientIds": [_PARENT_ID]}},
                        {"action": "c2pa.edited.metadata", "softwareAgent": agent,
                         "description": "GB 45438 propagation: ContentPropagator "
                         f"{label.content_propagator}, PropagateID {label.propagate_id} "
                         f"written into {where}; pixels unchanged",
                         "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA},
                    ]
                },
            }
        ],
    }  # fmt: skip
