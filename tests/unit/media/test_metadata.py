"""XMP packets in PNG, JPEG, WebP and MP4, byte for byte, pixels untouched."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from provenance.errors import InputError
from provenance.media import ImageFormat, encode_image
from provenance.media.metadata import append_mp4_xmp, embed_xmp, read_mp4_xmp, read_xmp

RGB = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)


@pytest.mark.parametrize("fmt", list(ImageFormat), ids=lambda f: f.name)
def test_embed_then_replace_keeps_pixels_and_one_packet(fmt: ImageFormat) -> None:
    data = encode_image(RGB, fmt)
    assert read_xmp(data, source="x") is None
    once = embed_xmp(data, b"<first/>", source="x")
    twice = embed_xmp(once, b"<second packet/>", source="x")
    assert read_xmp(once, source="x") == b"<first/>"
    assert read_xmp(twice, source="x") == b"<second packet/>"
    assert twice.count(b"<first/>") == 0
    with Image.open(io.BytesIO(twice)) as image:
        decoded = np.asarray(image.convert("RGB"))
    with Image.open(io.BytesIO(data)) as image:
        assert np.array_equal(decoded, np.asarray(image.convert("RGB")))


def test_webp_with_alpha_gets_a_vp8x_header_with_the_xmp_and_alpha_flags() -> None:
    alpha = np.full(RGB.shape[:2], 128, dtype=np.uint8)
    data = embed_xmp(encode_image(RGB, ImageFormat.WEBP, alpha=alpha), b"<x/>", source="x")
    assert data[12:16] == b"VP8X"
    flags = data[20]
    assert flags & 0x04 and flags & 0x10
    width = int.from_bytes(data[24:27], "little") + 1
    height = int.from_bytes(data[27:30], "little") + 1
    assert (width, height) == (64, 48)
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGBA" and image.size == (64, 48)


def test_damaged_and_foreign_files_raise_input_error() -> None:
    png = encode_image(RGB, ImageFormat.PNG)
    with pytest.raises(InputError):
        read_xmp(png[:40], source="cut.png")
    with pytest.raises(InputError, match="not a PNG"):
        embed_xmp(b"GIF89a....", b"<x/>", source="a.gif")


def test_mp4_xmp_box_is_appended_once(tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(struct.pack(">I4s", 16, b"ftyp") + b"isom\x00\x00\x02\x00")
    assert read_mp4_xmp(path) is None
    append_mp4_xmp(path, b"<packet/>")
    assert read_mp4_xmp(path) == b"<packet/>"
    with pytest.raises(InputError, match="already"):
        append_mp4_xmp(path, b"<again/>")
