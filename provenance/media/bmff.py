"""ISO BMFF boxes, just enough for fragmented MP4 live segments (no pixel codecs here).

A CMAF/fMP4 stream is an *init segment* (``ftyp`` + ``moov``) and *media segments*
(``moof`` + ``mdat``, optionally led by ``styp`` or ``emsg``). This module splits a byte
stream into top-level boxes as a muxer writes it, builds and finds the version-0 ``emsg``
box that carries a segment's signature (C2PA 2.3 section 19.4), hashes a segment without
that box, and reads a fragment's ``mfhd`` sequence number.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import InputError

__all__ = [
    "Box",
    "BoxSplitter",
    "box_types",
    "emsg_box",
    "find_emsg",
    "fragment_sequence",
    "hash_without_emsg",
    "iter_boxes",
]

_HEADER = struct.Struct(">I4s")
_LARGE = struct.Struct(">Q")
_EMSG_FIELDS = struct.Struct(">IIII")  # timescale, presentation_time_delta, duration, id


@dataclass(frozen=True)
class Box:
    """One top-level box: its four-character type and where it lies in the data."""

    type: str
    start: int
    end: int

    def of(self, data: bytes) -> bytes:
        return data[self.start : self.end]


def _box_at(data: bytes | bytearray, start: int) -> Box | None:
    """The box starting at ``start``, or None if its bytes are not all there yet."""
    if len(data) - start < _HEADER.size:
        return None
    size, kind = _HEADER.unpack_from(data, start)
    header = _HEADER.size
    if size == 1:
        if len(data) - start < header + _LARGE.size:
            return None
        (size,) = _LARGE.unpack_from(data, start + header)
        header += _LARGE.size
    elif size == 0:
        size = len(data) - start  # "to the end of the file": only ever the last box
    if size < header:
        raise InputError(f"malformed MP4 box '{kind.decode('latin-1')}' of size {size}")
    if start + size > len(data):
        return None
    return Box(kind.decode("latin-1"), start, start + size)


def iter_boxes(data: bytes, *, source: str = "segment") -> Iterator[Box]:
    """The top-level boxes of ``data``, in order.

    Raises:
        InputError: a box is malformed or runs past the end (a truncated segment).
    """
    start = 0
    while start < len(data):
        box = _box_at(data, start)
        if box is None:
            raise InputError(f"{source}: truncated MP4 box at byte {start}")
        yield box
        start = box.end


def box_types(data: bytes, *, source: str = "segment") -> list[str]:
    """The types of the top-level boxes, in order (e.g. ``['emsg', 'moof', 'mdat']``)."""
    return [box.type for box in iter_boxes(data, source=source)]


class BoxSplitter:
    """Cuts bytes arriving in arbitrary pieces into complete top-level boxes."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        """Add bytes; returns the boxes completed by them, as (type, bytes)."""
        self._pending += data
        done: list[tuple[str, bytes]] = []
        start = 0
        while (box := _box_at(self._pending, start)) is not None:
            done.append((box.type, bytes(self._pending[box.start : box.end])))
            start = box.end
        del self._pending[:start]
        return done

    @property
    def pending(self) -> int:
        """Bytes held that do not yet make a complete box."""
        return len(self._pending)


def emsg_box(
    *, scheme: str, value: str, timescale: int, event_id: int, duration: int, message: bytes
) -> bytes:
    """A version-0 ``emsg`` box (ISO/IEC 23009-1 section 5.10.3.3) with ``message`` as data."""
    body = (
        scheme.encode() + b"\0" + value.encode() + b"\0"
        + _EMSG_FIELDS.pack(timescale, 0, duration, event_id) + message
    )  # fmt: skip
    return _HEADER.pack(_HEADER.size + 4 + len(body), b"emsg") + b"\0\0\0\0" + body


def _emsg_message(box: bytes, scheme: str, value: str) -> bytes | None:
    """The message data of a version-0 emsg box with this scheme and value, else None."""
    prefix = b"\0\0\0\0" + scheme.encode() + b"\0" + value.encode() + b"\0"
    body = box[_HEADER.size :]
    if not body.startswith(prefix) or len(body) < len(prefix) + _EMSG_FIELDS.size:
        return None
    return body[len(prefix) + _EMSG_FIELDS.size :]


def find_emsg(data: bytes, *, scheme: str, value: str, source: str = "segment") -> list[bytes]:
    """The messages of every top-level version-0 emsg box with this scheme and value."""
    found: list[bytes] = []
    for box in iter_boxes(data, source=source):
        if box.type == "emsg":
            message = _emsg_message(box.of(data), scheme, value)
            if message is not None:
                found.append(message)
    return found


def hash_without_emsg(data: bytes, *, scheme: str, source: str = "segment") -> bytes:
    """SHA-256 over every top-level box except the emsg boxes of ``scheme``, in order."""
    digest = hashlib.sha256()
    marker = b"\0\0\0\0" + scheme.encode() + b"\0"
    for box in iter_boxes(data, source=source):
        raw = box.of(data)
        if box.type == "emsg" and raw[_HEADER.size :].startswith(marker):
            continue
        digest.update(raw)
    return digest.digest()


def fragment_sequence(data: bytes, *, source: str = "segment") -> int | None:
    """The ``mfhd`` sequence number of the segment's first ``moof``, or None."""
    for box in iter_boxes(data, source=source):
        if box.type != "moof":
            continue
        inner = box.of(data)[_HEADER.size :]
        for child in iter_boxes(inner, source=source):
            if child.type == "mfhd" and child.end - child.start >= 16:
                (sequence,) = struct.unpack_from(">I", inner, child.start + 12)
                return int(sequence)
        return None
    return None
