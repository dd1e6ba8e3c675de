"""XMP packets in and out of files, byte for byte, without touching the pixels.

Our own small writer rather than a library: the platform side (``label propagate``) must
change the label of a file it received without re-encoding it, and the stamp side must add
the packet to bytes Pillow already encoded, before C2PA signs them. The Python XMP
libraries either wrap Exempi (a C library Debian does not ship for our Python) or write
only through Pillow's encoder; exiftool is Perl and is used only to read back in tests.
Placements follow the XMP specification part 3:

- PNG: an ``iTXt`` chunk with keyword ``XML:com.adobe.xmp`` right after ``IHDR``;
- JPEG: an ``APP1`` segment headed ``http://ns.adobe.com/xap/1.0/\\0`` after ``SOI`` and
  any ``APP0``;
- WebP: an ``XMP `` chunk after the image data, with the XMP bit set in ``VP8X`` (a
  ``VP8X`` header is made for a simple-format file);
- MP4: a top-level ``uuid`` box ``BE7ACFCB-97A9-42E8-9C71-999491E3AFAC``, appended at the
  end so no sample offset moves.

An existing packet is replaced, never duplicated.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError
from .image import ImageFormat, sniff_format

__all__ = ["MP4_XMP_UUID", "append_mp4_xmp", "embed_xmp", "read_mp4_xmp", "read_xmp"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEYWORD = b"XML:com.adobe.xmp"
_JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_JPEG_MAX_SEGMENT = 65533
MP4_XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
_WEBP_XMP_FLAG = 0x04
_WEBP_ALPHA_FLAG = 0x10


def embed_xmp(data: bytes, packet: bytes, *, source: str) -> bytes:
    """``data`` (PNG, JPEG or WebP) with ``packet`` as its XMP, any old packet removed.

    Raises:
        InputError: not a PNG, JPEG or WebP file, or its structure is damaged.
    """
    fmt = sniff_format(data)
    if fmt is ImageFormat.PNG:
        return _png_embed(data, packet, source)
    if fmt is ImageFormat.JPEG:
        return _jpeg_embed(data, packet, source)
    if fmt is ImageFormat.WEBP:
        return _webp_embed(data, packet, source)
    raise InputError(f"{source}: not a PNG, JPEG or WebP image")


def read_xmp(data: bytes, *, source: str) -> bytes | None:
    """The XMP packet of a PNG, JPEG or WebP file, or None.

    Raises:
        InputError: not a PNG, JPEG or WebP file, or its structure is damaged.
    """
    fmt = sniff_format(data)
    if fmt is ImageFormat.PNG:
        return _png_read(data, source)
    if fmt is ImageFormat.JPEG:
        return _jpeg_read(data, source)
    if fmt is ImageFormat.WEBP:
        return _webp_read(data, source)
    raise InputError(f"{source}: not a PNG, JPEG or WebP image")


# --- PNG ------------------------------------------------------------------------------


def _png_chunks(data: bytes, source: str) -> Iterator[tuple[bytes, bytes, bytes]]:
    """(type, body, whole chunk bytes) for every chunk."""
    pos = len(_PNG_SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise InputError(f"{source}: truncated PNG chunk")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        end = pos + 12 + length
        if end > len(data):
            raise InputError(f"{source}: truncated PNG chunk")
        yield data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length], data[pos:end]
        pos = end


def _is_png_xmp(kind: bytes, body: bytes) -> bool:
    return kind == b"iTXt" and body.startswith(_PNG_KEYWORD + b"\x00")


def _png_embed(data: bytes, packet: bytes, source: str) -> bytes:
    body = _PNG_KEYWORD + b"\x00\x00\x00\x00\x00" + packet  # uncompressed, no language
    chunk = (
        struct.pack(">I", len(body))
        + b"iTXt"
        + body
        + struct.pack(">I", zlib.crc32(b"iTXt" + body) & 0xFFFFFFFF)
    )
    out = [_PNG_SIGNATURE]
    for kind, chunk_body, whole in _png_chunks(data, source):
        if _is_png_xmp(kind, chunk_body):
            continue
        out.append(whole)
        if kind == b"IHDR":
            out.append(chunk)
    return b"".join(out)


def _png_read(data: bytes, source: str) -> bytes | None:
    for kind, body, _ in _png_chunks(data, source):
        if _is_png_xmp(kind, body):
            rest = body[len(_PNG_KEYWORD) + 1 :]
            compressed = rest[:1] == b"\x01"
            # Skip the compression flag and method, then the language and translated keyword.
            _, _, after_language = rest[2:].partition(b"\x00")
            _, _, text = after_language.partition(b"\x00")
            try:
                return zlib.decompress(text) if compressed else text
            except zlib.error as exc:
                raise InputError(f"{source}: corrupt compressed XMP ({exc})") from exc
    return None


# --- JPEG -----------------------------------------------------------------------------


def _jpeg_segments(data: bytes, source: str) -> tuple[list[tuple[int, bytes]], bytes]:
    """The (marker, whole segment) pairs before the scan, and everything from SOS on."""
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise InputError(f"{source}: damaged JPEG header")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:
            return segments, data[pos:]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise InputError(f"{source}: damaged JPEG segment")
        segments.append((marker, data[pos:end]))
        pos = end


def _is_jpeg_xmp(marker: int, segment: bytes) -> bool:
    return marker == 0xE1 and segment[4:].startswith(_JPEG_XMP_HEADER)


def _jpeg_embed(data: bytes, packet: bytes, source: str) -> bytes:
    payload = _JPEG_XMP_HEADER + packet
    if len(payload) + 2 > _JPEG_MAX_SEGMENT:
        raise InputError(f"{source}: XMP packet too large for one JPEG segment")
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    segments, scan = _jpeg_segments(data, source)
    kept = [(m, s) for m, s in segments if not _is_jpeg_xmp(m, s)]
    # After SOI and a leading JFIF APP0, where readers expect APP1.
    at = 1 if kept and kept[0][0] == 0xE0 else 0
    parts = [s for _, s in kept[:at]] + [app1] + [s for _, s in kept[at:]]
    return b"\xff\xd8" + b"".join(parts) + scan


def _jpeg_read(data: bytes, source: str) -> bytes | None:
    segments, _ = _jpeg_segments(data, source)
    for marker, segment in segments:
        if _is_jpeg_xmp(marker, segment):
            return segment[4 + len(_JPEG_XMP_HEADER) :]
    return None


# --- WebP -----------------------------------------------------------------------------


def _webp_chunks(data: bytes, source: str) -> list[tuple[bytes, bytes]]:
    chunks: list[tuple[bytes, bytes]] = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = pos + 8 + size
        if end > len(data):
            raise InputError(f"{source}: truncated WebP chunk {kind!r}")
        chunks.append((kind, data[pos + 8 : end]))
        pos = end + (size & 1)
    return chunks


def _webp_pack(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(
        kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")
        for kind, payload in chunks
    )
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _webp_canvas(chunks: list[tuple[bytes, bytes]], source: str) -> tuple[int, int, bool]:
    """Width, height and alpha of a simple-format (VP8 or VP8L) WebP."""
    kind, payload = chunks[0]
    if kind == b"VP8L" and len(payload) >= 5 and payload[0] == 0x2F:
        (bits,) = struct.unpack("<I", payload[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    if kind == b"VP8 " and len(payload) >= 10 and payload[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", payload[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    raise InputError(f"{source}: WebP image data not recognised")


def _webp_embed(data: bytes, packet: bytes, source: str) -> bytes:
    chunks = [c for c in _webp_chunks(data, source) if c[0] != b"XMP "]
    if not chunks:
        raise InputError(f"{source}: WebP file has no image data")
    if chunks[0][0] == b"VP8X":
        header = bytearray(chunks[0][1])
        header[0] |= _WEBP_XMP_FLAG
        chunks[0] = (b"VP8X", bytes(header))
    else:
        width, height, alpha = _webp_canvas(chunks, source)
        flags = _WEBP_XMP_FLAG | (_WEBP_ALPHA_FLAG if alpha else 0)
        header_bytes = (
            bytes([flags, 0, 0, 0])
            + (width - 1).to_bytes(3, "little")
            + (height - 1).to_bytes(3, "little")
        )
        chunks.insert(0, (b"VP8X", header_bytes))
    chunks.append((b"XMP ", packet))
    return _webp_pack(chunks)


def _webp_read(data: bytes, source: str) -> bytes | None:
    for kind, payload in _webp_chunks(data, source):
        if kind == b"XMP ":
            return payload
    return None


# --- MP4 ------------------------------------------------------------------------------


def append_mp4_xmp(path: Path, packet: bytes) -> None:
    """Append ``packet`` as a top-level XMP ``uuid`` box at the end of the MP4 at ``path``.

    At the end, so no chunk offset in ``moov`` moves. Only for a file this SDK is writing
    (it is changed in place); a file that already holds a packet is an error.

    Raises:
        InputError: the file is not an ISO BMFF file or already has an XMP box.
    """
    if read_mp4_xmp(path) is not None:
        raise InputError(f"{path}: already carries an XMP box")
    box = struct.pack(">I", 8 + 16 + len(packet)) + b"uuid" + MP4_XMP_UUID + packet
    with path.open("ab") as handle:
        handle.write(box)


def read_mp4_xmp(path: Path) -> bytes | None:
    """The payload of the top-level XMP ``uuid`` box of an ISO BMFF file, or None.

    Raises:
        InputError: unreadable, or a box header is damaged.
    """
    try:
        with path.open("rb") as handle:
            size_total = handle.seek(0, 2)
            pos = 0
            while pos + 8 <= size_total:
                handle.seek(pos)
                size, kind = struct.unpack(">I4s", handle.read(8))
                header = 8
                if size == 1:
                    (size,) = struct.unpack(">Q", handle.read(8))
                    header = 16
                elif size == 0:
                    size = size_total - pos
                if size < header or pos + size > size_total:
                    raise InputError(f"{path}: damaged MP4 box at offset {pos}")
                if kind == b"uuid" and size >= header + 16 and handle.read(16) == MP4_XMP_UUID:
                    return handle.read(size - header - 16)
                pos += size
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    return None
