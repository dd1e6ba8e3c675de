"""Media input and output: still images now, video through PyAV later.

Only this package touches pixel codecs (Pillow, PyAV), so the rest of the SDK works on
RGB ``uint8`` arrays and bytes.
"""

from .image import (
    ImageFormat,
    LoadedImage,
    encode_image,
    format_for_path,
    load_image,
    thumbnail_jpeg,
)

__all__ = [
    "ImageFormat",
    "LoadedImage",
    "encode_image",
    "format_for_path",
    "load_image",
    "thumbnail_jpeg",
]
