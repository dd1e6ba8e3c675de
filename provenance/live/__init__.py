"""Live streams: stamp a stream segment by segment, and the formats it is made of.

- :class:`StreamStamper`: a renderer pushes frames; signed fMP4 segments and an HLS
  playlist come out (``spec/live.md``);
- :func:`stream_frames`: feed it from any frame source (raw frames on a pipe, or a file
  PyAV opens, at its real rate or as fast as possible).

Verification is in :mod:`provenance.verify.stream`.
"""

from .session import LIVE_LABEL, StreamFacts
from .sources import RAW_PIXEL_FORMATS, paced, raw_frames, stream_frames
from .stamper import LIVE_ENCODING, SegmentWritten, StampedStream, StreamStamper

__all__ = [
    "LIVE_ENCODING",
    "LIVE_LABEL",
    "RAW_PIXEL_FORMATS",
    "SegmentWritten",
    "StampedStream",
    "StreamFacts",
    "StreamStamper",
    "paced",
    "raw_frames",
    "stream_frames",
]
