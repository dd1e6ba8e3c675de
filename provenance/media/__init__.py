"""Media input and output: still images through Pillow, video through PyAV.

Only this package touches pixel codecs (Pillow, PyAV), so the rest of the SDK works on
RGB ``uint8`` arrays, 4:2:0 planes (:class:`YuvFrame`) and bytes.
"""

from .image import (
    ImageFormat,
    LoadedImage,
    encode_image,
    format_for_path,
    load_image,
    thumbnail_jpeg,
)
from .video import (
    Colour,
    Encoding,
    FrameHook,
    Progress,
    SampledFrame,
    TranscodeResult,
    VideoCodec,
    VideoInfo,
    VideoWriter,
    YuvFrame,
    container_tags,
    decode_luma,
    first_frame_rgb,
    frames_from_directory,
    probe_video,
    remux,
    sample_frames,
    sample_rgb,
    transcode,
)

__all__ = [
    "Colour",
    "Encoding",
    "FrameHook",
    "ImageFormat",
    "LoadedImage",
    "Progress",
    "SampledFrame",
    "TranscodeResult",
    "VideoCodec",
    "VideoInfo",
    "VideoWriter",
    "YuvFrame",
    "container_tags",
    "decode_luma",
    "encode_image",
    "first_frame_rgb",
    "format_for_path",
    "frames_from_directory",
    "load_image",
    "probe_video",
    "remux",
    "sample_frames",
    "sample_rgb",
    "thumbnail_jpeg",
    "transcode",
]
