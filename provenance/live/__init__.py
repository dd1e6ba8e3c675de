"""Live streams: stamp a stream segment by segment, and the formats it is made of.

- :class:`StreamStamper`: a renderer pushes frames; signed fMP4 segments and an HLS
  playlist come out (``spec/live.md``);
- :func:`stream_frames`: feed it from any frame source (raw frames on a pipe, or a file
  PyAV opens, at its real rate or as fast as possible).

Verification is in :mod:`provenance.verify.stream`.
"""

from .session import LIVE_LABEL, StreamFacts
from .stamper import LIVE_ENCODING, SegmentWritten, StampedStream, StreamStamper

__all__ = [
    "LIVE_ENCODING",
    "LIVE_LABEL",
    "SegmentWritten",
    "StampedStream",
    "StreamFacts",
    "StreamStamper",
]
