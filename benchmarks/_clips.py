"""Clips for the video benchmark, made and re-encoded directly through PyAV.

Sources are synthetic talking heads (:func:`~provenance.media.synthetic.avatar_clip_frame`)
in H.264 at high quality with a 440 Hz AAC tone, so that stamping remuxes a real audio
track. They are cached by size, length, preset and CRF: a 10-minute 1080p source takes
minutes to make. :func:`reencode` is the hand-written decode -> encode loop, used both as
the raw lower bound for ``provenance.media.transcode`` and to make the stripped copy a
platform would deliver. :func:`x264_settings` reads back what the encoder really used.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.frame import PictureType, VideoFrame
from av.video.stream import VideoStream

from provenance.media import Encoding, VideoCodec, YuvFrame
from provenance.media.synthetic import avatar_clip_frame

__all__ = [
    "FPS",
    "SOURCE_CRF",
    "SOURCE_PRESET",
    "decode_yuv",
    "reencode",
    "source_clip",
    "x264_settings",
]

FPS = 30
# Visually lossless: the source should not limit what the stamped copy can look like.
SOURCE_CRF = 12
SOURCE_PRESET = "veryfast"
# Bump when the generated content changes, so cached sources are made again.
_GENERATION = 1
_SAMPLE_RATE = 48_000
_AUDIO_FRAME = 1024  # samples per AAC frame
_TONE_HZ = 440
_ENCODERS = {VideoCodec.H264: "libx264", VideoCodec.H265: "libx265"}
# x264 writes its settings into the stream as an SEI message: "... threads=2 ...".
_X264_OPTIONS = re.compile(rb"x264 - core \d+[^\x00]*? - options: ([^\x00]*)")
_THREAD_KEYS = ("threads", "lookahead_threads", "sliced_threads")


def source_clip(cache: Path, *, width: int, height: int, seconds: float, preset: str) -> Path:
    """The cached source clip of this size, length and x264 preset, made if missing."""
    name = (
        f"source-g{_GENERATION}-{width}x{height}-{seconds:g}s-{FPS}fps-{preset}-crf{SOURCE_CRF}.mp4"
    )
    path = cache / name
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    # Written beside the final name and renamed, so an interrupted run leaves no half clip.
    partial = cache / f".partial-{name}"
    _write_source(partial, width=width, height=height, frames=round(seconds * FPS), preset=preset)
    partial.replace(path)
    return path


def _write_source(path: Path, *, width: int, height: int, frames: int, preset: str) -> None:
    with av.open(str(path), mode="w", format="mp4") as container:
        options = {"crf": str(SOURCE_CRF), "preset": preset}
        video = container.add_stream("libx264", rate=FPS, options=options)
        tone = container.add_stream("aac", rate=_SAMPLE_RATE, layout="mono")
        if not isinstance(video, VideoStream) or not isinstance(tone, AudioStream):
            raise TypeError("libx264 and aac streams expected")
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        samples = 0
        for index in range(frames):
            rgb = avatar_clip_frame(index, height, width, fps=FPS)
            frame = VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(video.encode(frame))
            # Audio keeps pace with the video, so the muxer never holds much of either.
            due = (index + 1) * _SAMPLE_RATE // FPS
            while samples < due:
                count = min(_AUDIO_FRAME, due - samples)
                container.mux(tone.encode(_tone(samples, count)))
                samples += count
        container.mux(video.encode(None))
        container.mux(tone.encode(None))


def _tone(start: int, count: int) -> av.AudioFrame:
    t = np.arange(start, start + count, dtype=np.float64) / _SAMPLE_RATE
    wave = (0.3 * np.sin(2 * np.pi * _TONE_HZ * t)).astype(np.float32)[None, :]
    frame = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
    frame.sample_rate, frame.pts = _SAMPLE_RATE, start
    return frame


def decode_yuv(path: Path, limit: int) -> list[YuvFrame]:
    """The first ``limit`` frames of ``path`` as 4:2:0 planes, without timestamps."""
    frames: list[YuvFrame] = []
    with av.open(str(path), mode="r") as container:
        for frame in container.decode(video=0):
            if len(frames) == limit:
                break
            # I420 as one (3H/2, W) array: Y rows, then U and V, each a quarter of Y.
            planes = np.asarray(frame.reformat(format="yuv420p").to_ndarray(), dtype=np.uint8)
            height, width = frame.height, frame.width
            chroma = planes[height:].reshape(2, height // 2, width // 2)
            frames.append(YuvFrame(planes[:height].copy(), chroma[0].copy(), chroma[1].copy()))
    return frames


def reencode(src: Path, dst: Path, encoding: Encoding, *, height: int | None = None) -> int:
    """Decode ``src`` and encode every frame to an MP4 at ``dst``; returns the frame count.

    The minimal PyAV loop: frames go from the decoder to the encoder untouched (scaled to
    ``height`` when given, width to match and even), audio packets are copied. With the
    same ``encoding`` it does what ``provenance.media.transcode`` does, minus the plane
    copies, checks and tags. The output carries no metadata and no C2PA manifest.
    """
    frames = 0
    with (
        av.open(str(src), mode="r") as source,
        av.open(str(dst), mode="w", format="mp4", options={"movflags": "+faststart"}) as target,
    ):
        video_in = source.streams.video[0]
        video_in.thread_type = "AUTO"
        audio_in = source.streams.audio[0] if source.streams.audio else None
        size = (video_in.width, video_in.height)
        if height is not None:
            size = (round(video_in.width * height / video_in.height / 2) * 2, height)
        video_out = _video_stream(target, encoding, video_in, size)
        audio_out = target.add_stream_from_template(audio_in) if audio_in is not None else None
        streams = [video_in] if audio_in is None else [video_in, audio_in]
        for packet in source.demux(*streams):
            if packet.stream.index != video_in.index:
                if audio_out is not None and packet.size:
                    packet.stream = audio_out
                    target.mux(packet)
                continue
            for frame in video_in.decode(packet):
                if height is not None:
                    frame = frame.reformat(width=size[0], height=size[1], format="yuv420p")
                # libx264 honours a decoded frame's picture type as a forced one; the
                # adapter's frames have none, so neither may these.
                frame.pict_type = PictureType.NONE
                target.mux(video_out.encode(frame))
                frames += 1
        target.mux(video_out.encode(None))
    return frames


def _video_stream(
    target: OutputContainer,
    encoding: Encoding,
    source: VideoStream,
    size: tuple[int, int],
) -> VideoStream:
    options = {"crf": str(encoding.crf), "preset": encoding.preset}
    stream = target.add_stream(
        _ENCODERS[encoding.codec], rate=source.average_rate or FPS, options=options
    )
    if not isinstance(stream, VideoStream):
        raise TypeError("a video encoder expected")
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
    stream.codec_context.thread_count = encoding.threads
    if source.time_base is not None:
        stream.time_base = stream.codec_context.time_base = source.time_base
    return stream


def x264_settings(path: Path) -> dict[str, int]:
    """The thread settings x264 wrote into the stream at ``path`` (empty if none found)."""
    with path.open("rb") as handle:
        head = handle.read(16 << 20)
    match = _X264_OPTIONS.search(head)
    if match is None:
        return {}
    options = dict(item.split(b"=", 1) for item in match.group(1).split() if b"=" in item)
    return {
        key: int(options[key.encode()])
        for key in _THREAD_KEYS
        if options.get(key.encode(), b"").isdigit()
    }
