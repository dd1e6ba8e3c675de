"""Labelling-law metadata as data: the GB 45438 ``AIGC`` label and its XMP packet.

No I/O here (``media.metadata`` puts packets into files and takes them out again). The
field values, the integrity values in ``ReservedCode1``/``ReservedCode2`` and the XMP form
are normative in ``spec/labels.md``.

    >>> cid = ContentId.from_hex("00010000000000ff")
    >>> label = AigcLabel.first_write(producer="0011ACME", content_id=cid)
    >>> label.producer_integrity_ok()
    True
    >>> AigcLabel.from_json(label.to_json()) == label
    True
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from .errors import LabelError
from .watermark import ContentId

__all__ = [
    "AIGC_FIELDS",
    "IPTC_EXT_NS",
    "LANGUAGES",
    "TC260_NS",
    "TRAINED_ALGORITHMIC_MEDIA",
    "AigcLabel",
    "LabelSettings",
    "LatentDisclosure",
    "VisibleLabelFacts",
    "XmpLabels",
    "build_xmp",
    "parse_xmp",
]

TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
IPTC_EXT_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_X_NS = "adobe:ns:meta/"

# GB 45438-2025 Annex E field order, as every implementation we found serialises it.
AIGC_FIELDS = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
LABEL_VALUES = ("1", "2", "3")
"""``1`` is AI-generated, ``2`` possibly, ``3`` suspected (Annex E)."""

# Our integrity values: a versioned prefix, then SHA-256 hex. Printable ASCII without
# space, quote or backslash, which the strictest implementation we know accepts.
INTEGRITY_PREFIX = "avp1:"
_PRODUCER_DOMAIN = b"avatar-provenance/aigc/producer/v1"
_PROPAGATOR_DOMAIN = b"avatar-provenance/aigc/propagator/v1"
# What a field may hold when we write it (we read anything a string can hold).
_WRITABLE = re.compile(r"[!#-\[\]-~]{1,256}")


@dataclass(frozen=True)
class AigcLabel:
    """The seven GB 45438 implicit-label fields, all strings."""

    label: str
    content_producer: str
    produce_id: str
    reserved_code1: str
    content_propagator: str
    propagate_id: str
    reserved_code2: str

    @classmethod
    def first_write(cls, *, producer: str, content_id: ContentId) -> AigcLabel:
        """The producer's label: AI-generated, ProduceID = the content ID.

        On the first write the propagator fields repeat the producer's (Annex E practice),
        and ``ReservedCode1`` binds the producer fields to the content ID.

        Raises:
            LabelError: ``producer`` is empty or holds spaces, quotes or backslashes.
        """
        _check_writable("ContentProducer", producer)
        produce_id = content_id.hex
        code = producer_integrity("1", producer, produce_id)
        return cls("1", producer, produce_id, code, producer, produce_id, code)

    def with_propagator(self, propagator: str, propagate_id: str) -> AigcLabel:
        """This label as a platform passes it on: its own name and ID, and its integrity
        value in ``ReservedCode2``; the producer's fields are left as they were.

        Raises:
            LabelError: a value is empty or holds spaces, quotes or backslashes.
        """
        _check_writable("ContentPropagator", propagator)
        _check_writable("PropagateID", propagate_id)
        code = propagator_integrity(propagator, propagate_id, self.reserved_code1)
        return replace(
            self, content_propagator=propagator, propagate_id=propagate_id, reserved_code2=code
        )

    @property
    def first_written(self) -> bool:
        """Nobody passed it on yet: ReservedCode2 still mirrors ReservedCode1."""
        return self.reserved_code2 == self.reserved_code1

    def producer_integrity_ok(self) -> bool:
        """``ReservedCode1`` is our integrity value over the producer fields."""
        expected = producer_integrity(self.label, self.content_producer, self.produce_id)
        return self.reserved_code1 == expected

    def propagator_integrity_ok(self) -> bool | None:
        """``ReservedCode2`` checked: None when it is not in our form (another platform's).

        On the first write the propagator fields repeat the producer's, so they must hash
        to the mirrored value as the producer fields did; after ``label propagate`` they
        must hash, chained to ReservedCode1, to the propagator's own value.
        """
        if not self.reserved_code2.startswith(INTEGRITY_PREFIX):
            return None
        if self.first_written:
            expected = producer_integrity(self.label, self.content_propagator, self.propagate_id)
        else:
            expected = propagator_integrity(
                self.content_propagator, self.propagate_id, self.reserved_code1
            )
        return self.reserved_code2 == expected

    def fields(self) -> dict[str, str]:
        """The label as its standard field names to values, in Annex E order."""
        values = (
            self.label,
            self.content_producer,
            self.produce_id,
            self.reserved_code1,
            self.content_propagator,
            self.propagate_id,
            self.reserved_code2,
        )
        return dict(zip(AIGC_FIELDS, values, strict=True))

    def to_json(self) -> str:
        """Compact JSON, fields in Annex E order (the container and XMP value)."""
        return json.dumps(self.fields(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_fields(cls, fields: Any) -> AigcLabel:
        """A label from a field mapping (a signed copy, or parsed JSON).

        Raises:
            LabelError: not an object, a field missing, or a value not a string.
        """
        if not isinstance(fields, dict):
            raise LabelError("AIGC label is not a JSON object")
        missing = [name for name in AIGC_FIELDS if name not in fields]
        if missing:
            raise LabelError(f"AIGC label lacks {', '.join(missing)}")
        wrong = [name for name in AIGC_FIELDS if not isinstance(fields[name], str)]
        if wrong:
            raise LabelError(f"AIGC label fields are not strings: {', '.join(wrong)}")
        return cls(*(fields[name] for name in AIGC_FIELDS))

    @classmethod
    def from_json(cls, text: str) -> AigcLabel:
        """Parse the label, bare or wrapped as ``{"AIGC": {...}}`` (both are seen).

        Raises:
            LabelError: not JSON, or not a complete label.
        """
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise LabelError(f"AIGC label is not JSON ({exc})") from exc
        if isinstance(value, dict) and set(value) == {"AIGC"}:
            value = value["AIGC"]
        return cls.from_fields(value)


def producer_integrity(label: str, producer: str, produce_id: str) -> str:
    """``ReservedCode1``: SHA-256 over the producer fields (ProduceID is the content ID)."""
    return _integrity(_PRODUCER_DOMAIN, label, producer, produce_id)


def propagator_integrity(propagator: str, propagate_id: str, reserved_code1: str) -> str:
    """``ReservedCode2`` as our ``label propagate`` writes it: chained to ReservedCode1."""
    return _integrity(_PROPAGATOR_DOMAIN, propagator, propagate_id, reserved_code1)


def _integrity(domain: bytes, *values: str) -> str:
    digest = hashlib.sha256(domain)
    for value in values:
        encoded = value.encode("utf-8")
        # Length-prefixed, so moving characters between fields changes the hash.
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return INTEGRITY_PREFIX + digest.hexdigest()


def _check_writable(name: str, value: str) -> None:
    if not _WRITABLE.fullmatch(value):
        raise LabelError(
            f"{name} '{value}' must be 1-256 printable ASCII characters without spaces, "
            "quotes or backslashes"
        )


@dataclass(frozen=True)
class XmpLabels:
    """What an XMP packet says about AI generation."""

    aigc: str | None
    """The raw ``TC260:AIGC`` value (JSON text), or None."""
    digital_source_type: str | None
    """``Iptc4xmpExt:DigitalSourceType``, or None."""


def build_xmp(*, aigc: AigcLabel, digital_source_type: str = TRAINED_ALGORITHMIC_MEDIA) -> bytes:
    """A complete XMP packet holding ``TC260:AIGC`` and ``Iptc4xmpExt:DigitalSourceType``."""
    body = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{_RDF_NS}">'
        '<rdf:Description rdf:about=""'
        f' xmlns:TC260="{TC260_NS}" xmlns:Iptc4xmpExt="{IPTC_EXT_NS}">'
        f"<TC260:AIGC>{escape(aigc.to_json())}</TC260:AIGC>"
        f"<Iptc4xmpExt:DigitalSourceType>{escape(digital_source_type)}"
        "</Iptc4xmpExt:DigitalSourceType>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    # The BOM-less packet wrapper with an id readers look for, writable in place ("w").
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        + body
        + '<?xpacket end="w"?>'
    ).encode("utf-8")


def parse_xmp(packet: bytes) -> XmpLabels:
    """Find the AIGC label and digital source type in any XMP packet.

    Both the element form (``<TC260:AIGC>...</TC260:AIGC>``) and the attribute form
    (``TC260:AIGC="..."`` on ``rdf:Description``) are read, whatever prefix is bound.

    Raises:
        LabelError: the packet is not well-formed XML.
    """
    text = packet.decode("utf-8", errors="replace").strip("\x00 \r\n\t")
    start, end = text.find("<x:xmpmeta"), text.rfind("</x:xmpmeta>")
    if start >= 0 and end > start:
        text = text[start : end + len("</x:xmpmeta>")]
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise LabelError(f"XMP packet is not well-formed ({exc})") from exc
    return XmpLabels(
        aigc=_property(root, TC260_NS, "AIGC"),
        digital_source_type=_property(root, IPTC_EXT_NS, "DigitalSourceType"),
    )


def _property(root: ElementTree.Element, namespace: str, name: str) -> str | None:
    qualified = f"{{{namespace}}}{name}"
    for description in root.iter(f"{{{_RDF_NS}}}Description"):
        if qualified in description.attrib:
            return description.attrib[qualified]
        element = description.find(qualified)
        if element is not None:
            resource = element.attrib.get(f"{{{_RDF_NS}}}resource")
            return resource if resource is not None else (element.text or "")
    return None


LANGUAGES = {"en": "AI-generated", "zh": "AI生成", "zh-full": "人工智能生成"}
"""Visible label texts by language code (the bundled font covers exactly these)."""


@dataclass(frozen=True)
class LabelSettings:
    """A vendor's labelling profile (the ``labels`` object of the workspace settings).

    Attributes:
        content_producer: GB 45438 ``ContentProducer``, the TC260 provider code if the
            vendor has one; None writes the vendor name with spaces removed.
        system_name, system_version: the generative system SB 942 asks to name; None
            names this SDK.
        visible_label: render the visible "AI-generated" label by default.
        language: the visible label's language, a key of :data:`LANGUAGES`.
    """

    content_producer: str | None = None
    system_name: str | None = None
    system_version: str | None = None
    visible_label: bool = False
    language: str = "en"

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise LabelError(
                f"visible label language '{self.language}' is not one of "
                f"{', '.join(sorted(LANGUAGES))}"
            )
        if self.content_producer is not None:
            _check_writable("ContentProducer", self.content_producer)

    def producer(self, vendor: str) -> str:
        """The ContentProducer to write for ``vendor``."""
        if self.content_producer is not None:
            return self.content_producer
        name = "".join(ch for ch in vendor if _WRITABLE.fullmatch(ch))[:256]
        return name or "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {
            "content_producer": self.content_producer,
            "system_name": self.system_name,
            "system_version": self.system_version,
            "visible_label": self.visible_label,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, value: Any) -> LabelSettings:
        """Raises: LabelError: not an object, or a value of the wrong type."""
        if not isinstance(value, dict):
            raise LabelError("labels settings must be an object")
        known = {"content_producer", "system_name", "system_version", "visible_label", "language"}
        unknown = set(value) - known
        if unknown:
            raise LabelError(f"unknown labels settings: {', '.join(sorted(unknown))}")
        for key in ("content_producer", "system_name", "system_version"):
            if value.get(key) is not None and not isinstance(value[key], str):
                raise LabelError(f"labels.{key} must be a string")
        if not isinstance(value.get("visible_label", False), bool):
            raise LabelError("labels.visible_label must be true or false")
        return cls(
            content_producer=value.get("content_producer"),
            system_name=value.get("system_name"),
            system_version=value.get("system_version"),
            visible_label=value.get("visible_label", False),
            language=str(value.get("language", "en")),
        )


@dataclass(frozen=True)
class LatentDisclosure:
    """California SB 942 §22757.3(b) latent disclosure, as the manifest carries it."""

    provider: str
    system_name: str
    system_version: str
    created_at: datetime
    unique_id: str


@dataclass(frozen=True)
class VisibleLabelFacts:
    """What visible label was rendered into the pixels, as the manifest records it."""

    text: str
    language: str
    position: str
    text_height_px: int
    shorter_side_px: int
    duration_ms: int | None
    """How long it shows from the first frame (clips); None for a still (all of it)."""

    @property
    def height_ratio(self) -> float:
        return self.text_height_px / self.shorter_side_px
