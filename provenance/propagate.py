"""The platform side of GB 45438: add ContentPropagator/PropagateID to a received still.

The producer's label fields stay as they were; the propagator fields and ReservedCode2 are
rewritten in the XMP packet (the pixels are not touched), and the platform signs a new C2PA
manifest whose ``parentOf`` ingredient is the received file with its manifest, and whose
actions say ``c2pa.opened`` then ``c2pa.edited.metadata``. So the change reads as what it is,
an update by the platform, rather than as a broken hard binding (``spec/labels.md``).

    >>> propagate_file(platform_signer, Path("in.png"), Path("out.png"),  # doctest: +SKIP
    ...                propagator="0011PLATFORM", propagate_id="pf-42")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import __version__, _c2pa
from ._internal.files import read_input, write_atomic
from .errors import InputError, LabelError, OutputExistsError, UnsupportedMediaError
from .identity import Signer
from .labels import TRAINED_ALGORITHMIC_MEDIA, AigcLabel, build_xmp, parse_xmp
from .manifest import SOFTWARE_NAME
from .media.image import sniff_format
from .media.metadata import embed_xmp, read_xmp

__all__ = ["PropagatedLabel", "propagate_file"]

_PARENT_ID = "received"


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
) -> PropagatedLabel:
    """Write ``source`` to ``destination`` with the platform's propagator fields.

    Raises:
        OutputExistsError: ``destination`` exists and ``force`` is false.
        InputError: unreadable, not a still, or the output would overwrite the input.
        UnsupportedMediaError: a clip (not supported yet, ``spec/labels.md``).
        LabelError: no readable AIGC label, or a value that cannot be written.
        SigningError, ManifestError: the platform's manifest could not be signed.
    """
    if destination.exists() and not force:
        raise OutputExistsError(f"{destination}: already exists (use --force to replace it)")
    if destination.exists() and destination.resolve() == source.resolve():
        raise InputError(f"{destination}: output would overwrite the input")
    data = read_input(source)
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedMediaError(
            f"{source}: label propagate handles PNG, JPEG and WebP stills (clips: not yet)"
        )
    before = _label_of(data, source)
    after = before.with_propagator(propagator, propagate_id)
    relabelled = embed_xmp(data, build_xmp(aigc=after), source=str(source))
    signed = _c2pa.sign(
        _update_definition(destination.name, after),
        signer,
        mime=fmt.mime,
        asset=relabelled,
        tsa_url=tsa_url,
        parent=({"title": source.name, "relationship": "parentOf",
                 "instance_id": _PARENT_ID}, data),
    )  # fmt: skip
    write_atomic(destination, signed.asset, force=force)
    return PropagatedLabel(path=destination, before=before, after=after)


def _label_of(data: bytes, source: Path) -> AigcLabel:
    packet = read_xmp(data, source=str(source))
    text = parse_xmp(packet).aigc if packet is not None else None
    if text is None:
        raise LabelError(f"{source}: no GB 45438 AIGC label to propagate")
    try:
        return AigcLabel.from_json(text)
    except LabelError as exc:
        raise LabelError(f"{source}: {exc}") from exc


def _update_definition(title: str, label: AigcLabel) -> dict[str, object]:
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
                         "written into the XMP; pixels unchanged",
                         "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA},
                    ]
                },
            }
        ],
    }  # fmt: skip
