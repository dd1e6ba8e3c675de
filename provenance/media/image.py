"""Still images (PNG, JPEG, WebP) to and from RGB arrays.

The format is read from the file's leading bytes, never trusted from its extension, and the
whole image is decoded up front so that a truncated file fails here with a clear message
rather than later inside a watermark or C2PA call.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from ..errors import InputError, UnsupportedMediaError

__all__ = [
    "ImageFormat",
    "LoadedImage",
    "encode_image",
    "format_for_path",
    "load_image",
    "thumbnail_jpeg",
]

# Decompression bombs: refuse anything above ~100 megapixels instead of Pillow's warning.
_MAX_PIXELS = 100_000_000


class ImageFormat(Enum):
    """A still format we stamp and verify, with its MIME type and Pillow name."""

    PNG = ("image/png", "PNG", (".png",))
    JPEG = ("image/jpeg", "JPEG", (".jpg", ".jpeg"))
    WEBP = ("image/webp", "WEBP", (".webp",))

    def __init__(self, mime: str, pillow_name: str, suffixes: tuple[str, ...]) -> None:
        self.mime = mime
        self.pillow_name = pillow_name
        self.suffixes = suffixes


@dataclass(frozen=True)
class LoadedImage:
    """A decoded still: RGB pixels, optional alpha, and the container it came in."""

    rgb: NDArray[np.uint8]
    alpha: NDArray[np.uint8] | None
    format: ImageFormat

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])


def sniff_format(data: bytes) -> ImageFormat | None:
    """The still format of ``data`` by its magic bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageFormat.WEBP
    return None


def format_for_path(path: Path) -> ImageFormat:
    """The output format named by ``path``'s suffix.

    Raises:
        UnsupportedMediaError: the suffix is not .png, .jpg, .jpeg or .webp.
    """
    suffix = path.suffix.lower()
    for fmt in ImageFormat:
        if suffix in fmt.suffixes:
            return fmt
    raise UnsupportedMediaError(
        f"{path}: cannot write '{suffix or 'no suffix'}' (use .png, .jpg, .jpeg or .webp)"
    )


def load_image(data: bytes, *, source: str) -> LoadedImage:
    """Decode a whole PNG, JPEG or WebP image.

    Args:
        data: the file's bytes.
        source: the name used in error messages (usually the path).

    Raises:
        InputError: empty, truncated or corrupt data.
        UnsupportedMediaError: not a PNG, JPEG or WebP file.
    """
    if not data:
        raise InputError(f"{source}: empty file")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedMediaError(f"{source}: not a PNG, JPEG or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > _MAX_PIXELS:
                    raise InputError(f"{source}: image too large ({image.width}x{image.height})")
                image.load()
                return _to_arrays(image, fmt)
    except InputError:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise InputError(f"{source}: corrupt or truncated {fmt.pillow_name} image ({exc})") from exc


def _to_arrays(image: Image.Image, fmt: ImageFormat) -> LoadedImage:
    alpha: NDArray[np.uint8] | None = None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba, dtype=np.uint8)[:, :, 3].copy()
        rgb = np.asarray(rgba.convert("RGB"), dtype=np.uint8).copy()
    else:
        rgb = np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    return LoadedImage(rgb=rgb, alpha=alpha, format=fmt)


def encode_image(
    rgb: NDArray[np.uint8],
    fmt: ImageFormat,
    *,
    alpha: NDArray[np.uint8] | None = None,
    quality: int = 95,
) -> bytes:
    """Encode RGB (and optional alpha) pixels in ``fmt``.

    JPEG uses 4:4:4 chroma at the given quality, because the imwatermark engines live in
    chroma and 4:2:0 halves the signal before any platform has touched the file. WebP is
    lossless, for the same reason.
    """
    image = Image.fromarray(rgb, "RGB")
    if alpha is not None and fmt is not ImageFormat.JPEG:
        image.putalpha(Image.fromarray(alpha, "L"))
    out = io.BytesIO()
    if fmt is ImageFormat.JPEG:
        image.save(out, "JPEG", quality=quality, subsampling=0)
    elif fmt is ImageFormat.WEBP:
        image.save(out, "WEBP", lossless=True)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def thumbnail_jpeg(rgb: NDArray[np.uint8], *, long_edge: int = 480, quality: int = 85) -> bytes:
    """A JPEG no larger than ``long_edge`` on its long side, for manifest thumbnails."""
    image = Image.fromarray(rgb, "RGB")
    image.thumbnail((long_edge, long_edge), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()
