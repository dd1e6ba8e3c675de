"""Still image loading and encoding."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from provenance.errors import InputError, UnsupportedMediaError
from provenance.media import ImageFormat, encode_image, format_for_path, load_image
from provenance.media.synthetic import avatar_frame


@pytest.mark.parametrize("fmt", list(ImageFormat))
def test_round_trip_formats(fmt: ImageFormat) -> None:
    rgb = avatar_frame(64, 96)
    loaded = load_image(encode_image(rgb, fmt), source="x")
    assert loaded.format is fmt
    assert loaded.rgb.shape == (64, 96, 3)
    if fmt is not ImageFormat.JPEG:
        assert np.array_equal(loaded.rgb, rgb)  # PNG and WebP are written losslessly


def test_alpha_is_kept() -> None:
    rgb = avatar_frame(32, 32)
    alpha = np.full((32, 32), 128, dtype=np.uint8)
    loaded = load_image(encode_image(rgb, ImageFormat.PNG, alpha=alpha), source="x")
    assert loaded.alpha is not None and np.array_equal(loaded.alpha, alpha)


def test_bad_data_names_the_source() -> None:
    jpeg = encode_image(avatar_frame(128, 128), ImageFormat.JPEG)
    with pytest.raises(InputError, match=r"^in\.jpg: empty"):
        load_image(b"", source="in.jpg")
    with pytest.raises(UnsupportedMediaError, match=r"^in\.jpg: not a PNG"):
        load_image(b"GIF89a" + bytes(100), source="in.jpg")
    with pytest.raises(InputError, match=r"^in\.jpg: corrupt or truncated"):
        load_image(jpeg[: len(jpeg) // 2], source="in.jpg")


def test_format_for_path() -> None:
    assert format_for_path(Path("a.JPEG")) is ImageFormat.JPEG
    with pytest.raises(UnsupportedMediaError, match=r"a\.gif"):
        format_for_path(Path("a.gif"))


def test_palette_image_loads_as_rgb() -> None:
    buffer = io.BytesIO()
    Image.fromarray(avatar_frame(40, 40)).convert("P").save(buffer, "PNG")
    assert load_image(buffer.getvalue(), source="p").rgb.shape == (40, 40, 3)
