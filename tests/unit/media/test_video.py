"""Video probing, transcoding, writing and sampling through PyAV.

Every clip is made here with PyAV: tiny, a second or two, so the file stays fast.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from numpy.typing import NDArray
from PIL import Image

from provenance.errors import InputError, UnsupportedMediaError
from provenance.media import video
from provenance.media.video import (
    Colour,
    Encoding,
    Progress,
    VideoCodec,
    VideoWriter,
    YuvFrame,
    container_tags,
    decode_luma,
    frames_from_directory,
    probe_video,
    remux,
    sample_frames,
    transcode,
)

FAST = Encoding(preset="ultrafast", crf=20)
# AVColorRange / AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic.
BT709_FULL = Colour(range=2, space=1, primaries=1, trc=1)
BT601 = Colour(range=1, space=6, primaries=6, trc=6)


@dataclass(frozen=True)
class Clip:
    """How to make a test clip."""

    container: str = "mp4"
    vcodec: str = "libx264"
    pix_fmt: str = "yuv420p"
    size: tuple[int, int] = (320, 240)
    frames: int = 30
    fps: int = 30
    audio: str | None = "aac"
    pts_ms: tuple[int, ...] | None = None  # variable frame rate, in milliseconds
    rotation: int = 0
    colour: Colour | None = None
    gop: int | None = None
    faststart: bool = False
    preset: str = "ultrafast"  # x264's ultrafast has no B-frames; "fast" has
    subtitles: bool = False  # add a SubRip track (Matroska)


def pattern(index: int, width: int, height: int) -> NDArray[np.uint8]:
    """A mid-grey gradient with a bar moving across it: codecs must actually code motion."""
    ramp = np.linspace(60, 180, width, dtype=np.float32)[None, :].repeat(height, axis=0)
    rgb = np.repeat(ramp[..., None], 3, axis=2)
    left = (index * 7) % max(1, width - 16)
    rgb[:, left : left + 16] = (200, 80, 40)
    return np.asarray(rgb, dtype=np.uint8)


def _video_stream(container: av.container.OutputContainer, clip: Clip) -> VideoStream:
    stream = container.add_stream(clip.vcodec, rate=clip.fps)
    assert isinstance(stream, VideoStream)
    stream.width, stream.height = clip.size
    stream.pix_fmt = clip.pix_fmt
    options = {"preset": clip.preset} if clip.vcodec == "libx264" else {}
    if clip.vcodec == "libvpx-vp9":
        options = {"deadline": "realtime", "cpu-used": "8"}
    if clip.gop is not None:
        stream.codec_context.gop_size = clip.gop
        options["sc_threshold"] = "0"  # no extra keyframes on scene cuts
    stream.options = dict(options)
    if clip.pts_ms is not None:
        stream.codec_context.time_base = Fraction(1, 1000)
    if clip.rotation:
        stream.set_display_rotation(clip.rotation)
    if clip.colour is not None:
        ctx = stream.codec_context
        ctx.color_range = clip.colour.range or 0
        ctx.colorspace = clip.colour.space or 2
        ctx.color_primaries = clip.colour.primaries or 2
        ctx.color_trc = clip.colour.trc or 2
    return stream


def _audio_stream(container: av.container.OutputContainer, codec: str) -> AudioStream:
    # FFmpeg's own Vorbis encoder is experimental and stereo-only (libvorbis is not built).
    options = {"strict": "experimental"} if codec == "vorbis" else {}
    stream = container.add_stream(codec, rate=48_000, options=options)
    assert isinstance(stream, AudioStream)
    stream.layout = "stereo" if codec == "vorbis" else "mono"
    return stream


def _tone(stream: AudioStream, seconds: float) -> Iterator[av.Packet[AudioStream]]:
    samples = int(48_000 * seconds)
    t = np.arange(samples, dtype=np.float32) / 48_000
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    channels = 2 if stream.layout.name == "stereo" else 1
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(np.repeat(wave[None, :], channels, axis=0)),
        format="fltp",
        layout=stream.layout.name,
    )
    frame.sample_rate, frame.pts = 48_000, 0
    yield from stream.encode(frame)
    yield from stream.encode(None)


def write_clip(path: Path, clip: Clip = Clip()) -> Path:
    """Encode a synthetic clip (and a 440 Hz tone when ``clip.audio``) to ``path``."""
    options = {"movflags": "+faststart"} if clip.faststart else {}
    with av.open(str(path), mode="w", format=clip.container, options=options) as container:
        stream = _video_stream(container, clip)
        audio = _audio_stream(container, clip.audio) if clip.audio else None
        if clip.subtitles:
            _subtitle(container, b"hello")
        width, height = clip.size
        for index in range(clip.frames):
            frame = VideoFrame.from_ndarray(pattern(index, width, height), format="rgb24")
            if clip.pts_ms is not None:
                frame.pts, frame.time_base = clip.pts_ms[index], Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio is not None:
            for packet in _tone(audio, clip.frames / clip.fps):
                container.mux(packet)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Clip factory, cached per module: each distinct clip is encoded once."""
    root = tmp_path_factory.mktemp("clips")
    made: dict[tuple[str, Clip], Path] = {}

    def make(name: str, clip: Clip = Clip()) -> Path:
        if (name, clip) not in made:
            made[name, clip] = write_clip(root / name, clip)
        return made[name, clip]

    return make


@dataclass(frozen=True)
class Decoded:
    times: list[float]
    luma_means: list[float]
    rotation: int
    colour: Colour
    audio: list[bytes]
    codec_tag: str


def decode(path: Path) -> Decoded:
    """Frame times, luma means, rotation, colour and audio packet payloads of a file."""
    times: list[float] = []
    means: list[float] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        first: VideoFrame | None = None
        for frame in container.decode(stream):
            first = first or frame
            times.append(float(frame.time))
            # The coded Y plane, not "gray" (that would stretch limited range to full).
            planes = frame.reformat(format="yuv420p").to_ndarray()
            means.append(float(np.asarray(planes)[: frame.height].mean()))
        assert first is not None
        colour = video._colour_of(first)
        tag = stream.codec_context.codec_tag
    audio: list[bytes] = []
    with av.open(str(path)) as container:
        if container.streams.audio:
            audio = [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]
    return Decoded(times, means, first.rotation, colour, audio, tag)


def assert_one_line(exc: pytest.ExceptionInfo[InputError], path: Path) -> None:
    message = str(exc.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message


# ---------------------------------------------------------------------------------------
# probe_video


def test_probe_reports_the_streams(clips: Callable[..., Path]) -> None:
    info = probe_video(clips("plain.mp4"))
    assert info.container.startswith("mov,mp4")
    assert (info.codec, info.width, info.height) == ("h264", 320, 240)
    assert info.fps == 30
    assert info.frame_count == 30
    assert info.duration_s == pytest.approx(1.0, abs=0.05)
    assert info.audio_codec == "aac"
    assert info.rotation == 0


def test_probe_reads_rotation_and_colour(clips: Callable[..., Path]) -> None:
    info = probe_video(clips("rot.mp4", Clip(rotation=90, colour=BT709_FULL, audio=None)))
    assert info.rotation == 90
    assert info.colour == BT709_FULL
    assert info.audio_codec is None


def _truncated(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _scrambled(path: Path, source: Path) -> Path:
    """The same file with its media data overwritten: the index is fine, the video is not."""
    data = bytearray(source.read_bytes())
    start = data.index(b"mdat") + 4
    data[start:] = bytes((i * 7) & 0xFF for i in range(len(data) - start))
    path.write_bytes(bytes(data))
    return path


def _audio_only(path: Path) -> Path:
    """An .m4a with AAC and cover art: the cover is a 'video' stream that is not video."""
    cover = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(cover, "JPEG")
    with av.open(str(path), mode="w", format="mp4") as container:
        audio = _audio_stream(container, "aac")
        art = container.add_mux_stream("mjpeg", width=16, height=16)
        art.disposition = Disposition.attached_pic
        packet = av.Packet(cover.getvalue())
        packet.stream, packet.pts, packet.dts, packet.is_keyframe = art, 0, 0, True
        container.mux(packet)
        container.mux(list(_tone(audio, 0.2)))
    return path


def _subtitle(container: av.container.OutputContainer, text: bytes) -> None:
    stream = container.add_mux_stream("subrip")
    packet = av.Packet(text)
    packet.stream, packet.pts, packet.dts = stream, 0, 0
    packet.duration, packet.time_base = 1000, Fraction(1, 1000)
    container.mux(packet)


def _subtitles_only(path: Path) -> Path:
    with av.open(str(path), mode="w", format="matroska") as container:
        _subtitle(container, b"hello")
    return path


def _undecodable(path: Path) -> Path:
    """A real MP4 whose video track is MPEG-5 EVC, which PyAV's FFmpeg cannot decode."""
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_mux_stream("evc", rate=30, width=64, height=48)
        for index in range(3):
            packet = av.Packet(bytes(range(200)))
            packet.stream, packet.pts, packet.dts = stream, index, index
            packet.time_base, packet.is_keyframe = Fraction(1, 30), index == 0
            container.mux(packet)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


Maker = Callable[[Path, Callable[..., Path]], Path]
# name: (make the file in a directory, message, error class)
BAD_INPUTS: dict[str, tuple[Maker, str, type[InputError]]] = {
    "truncated": (
        lambda p, clips: _truncated(p / "cut.mp4", clips("plain.mp4")),  # moov at the end
        "truncated or corrupt MP4",
        InputError,
    ),
    "truncated-faststart": (
        lambda p, clips: _truncated(p / "cut.mp4", clips("fs.mp4", Clip(faststart=True))),
        "truncated",
        InputError,
    ),
    "scrambled": (
        lambda p, clips: _scrambled(p / "bad.mp4", clips("fs.mp4", Clip(faststart=True))),
        "cannot decode the first video frame",
        InputError,
    ),
    "empty": (lambda p, _: _write(p / "empty.mp4", b""), "empty file", InputError),
    "not-media": (
        lambda p, _: _write(p / "notes.mp4", b"just some text\n" * 50),
        "not a video",
        UnsupportedMediaError,
    ),
    "missing": (lambda p, _: p / "missing.mp4", "no such file", InputError),
    "directory": (lambda p, _: p, "is a directory", InputError),
    "audio-only": (
        lambda p, _: _audio_only(p / "song.m4a"),
        r"has no video stream \(audio only\)",
        UnsupportedMediaError,
    ),
    "subtitles-only": (
        lambda p, _: _subtitles_only(p / "subs.mkv"),
        "has no video stream",
        UnsupportedMediaError,
    ),
    "undecodable": (
        lambda p, _: _undecodable(p / "evc.mp4"),
        "cannot decode its video",
        UnsupportedMediaError,
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_naming_the_file(
    case: str, tmp_path: Path, clips: Callable[..., Path]
) -> None:
    make, message, kind = BAD_INPUTS[case]
    bad = make(tmp_path, clips)
    with pytest.raises(kind, match=message) as probed:
        probe_video(bad)
    assert_one_line(probed, bad)
    dst = tmp_path / "out.mp4"
    with pytest.raises(kind) as transcoded:
        transcode(bad, dst, FAST, lambda frame: None)
    assert str(transcoded.value) == str(probed.value)
    assert not dst.exists()
    # Both readers probe before returning their iterator, so they fail at the call.
    with pytest.raises(kind):
        sample_frames(bad, [0.0])
    with pytest.raises(kind):
        decode_luma(bad)


# ---------------------------------------------------------------------------------------
# transcode


def _copy_frames(path: Path, dst: Path, encoding: Encoding = FAST) -> video.TranscodeResult:
    return transcode(path, dst, encoding, lambda frame: None)


def test_transcode_keeps_timing_audio_and_count(clips: Callable[..., Path], tmp_path: Path) -> None:
    src = clips("plain.mp4")
    dst = tmp_path / "out.mp4"
    result = _copy_frames(src, dst)
    before, after = decode(src), decode(dst)
    assert result.frames == len(after.times) == 30
    assert after.times == before.times
    assert result.first_frame_time == 0.0
    assert result.duration_s == pytest.approx(1.0)
    assert result.audio == "copied"
    assert after.audio == before.audio  # byte for byte
    assert probe_video(dst).duration_s == pytest.approx(probe_video(src).duration_s, abs=0.04)


def test_transcode_drops_subtitles(clips: Callable[..., Path], tmp_path: Path) -> None:
    src = clips("subs.mkv", Clip(container="matroska", subtitles=True, frames=5))
    dst = tmp_path / "out.mp4"
    assert _copy_frames(src, dst).audio == "copied"
    with av.open(str(src)) as before, av.open(str(dst)) as after:
        assert [s.type for s in before.streams] == ["video", "audio", "subtitle"]
        assert [s.type for s in after.streams] == ["video", "audio"]


def test_transcode_keeps_variable_frame_rate(clips: Callable[..., Path], tmp_path: Path) -> None:
    pts = (0, 33, 50, 120, 137, 300, 317, 334, 500, 533, 566, 700)
    src = clips("vfr.mkv", Clip(container="matroska", frames=len(pts), pts_ms=pts, audio=None))
    dst = tmp_path / "vfr.mp4"
    _copy_frames(src, dst)
    assert decode(dst).times == pytest.approx([p / 1000 for p in pts])


def test_transcode_keeps_rotation_and_colour(clips: Callable[..., Path], tmp_path: Path) -> None:
    src = clips("rot.mp4", Clip(rotation=90, colour=BT709_FULL, audio=None))
    dst = tmp_path / "out.mp4"
    ranges: list[bool] = []
    transcode(src, dst, FAST, lambda frame: ranges.append(frame.full_range))
    out = decode(dst)
    assert out.rotation == 90
    assert out.colour == BT709_FULL
    assert all(ranges) and ranges


def test_transcode_keeps_limited_bt601_tags(clips: Callable[..., Path], tmp_path: Path) -> None:
    src = clips("601.mp4", Clip(colour=BT601, audio=None, frames=5))
    _copy_frames(src, tmp_path / "out.mp4")
    assert decode(tmp_path / "out.mp4").colour == BT601


def test_on_frame_changes_the_output_luma(clips: Callable[..., Path], tmp_path: Path) -> None:
    src = clips("plain.mp4")
    dst = tmp_path / "out.mp4"

    def brighten(frame: YuvFrame) -> None:
        assert frame.y.flags.c_contiguous and frame.y.flags.writeable
        assert frame.u.shape == (120, 160)
        frame.y += 20  # the pattern stays below 235 - 20, so nothing wraps

    transcode(src, dst, Encoding(preset="ultrafast", crf=10), brighten)
    before, after = decode(src), decode(dst)
    shift = np.array(after.luma_means) - np.array(before.luma_means)
    assert shift == pytest.approx(20.0, abs=1.5)


@pytest.mark.parametrize(
    ("name", "clip", "audio"),
    [
        ("mov.mov", Clip(container="mov"), "copied"),
        ("opus.mkv", Clip(container="matroska", audio="libopus"), "copied"),
        ("vp9-opus.webm", Clip(container="webm", vcodec="libvpx-vp9", audio="libopus"), "copied"),
        (
            "vp9-vorbis.webm",
            Clip(container="webm", vcodec="libvpx-vp9", audio="vorbis"),
            "re-encoded:aac",
        ),
        (
            "png-pcm.mov",
            Clip(container="mov", vcodec="png", pix_fmt="rgb24", audio="pcm_s16le"),
            "re-encoded:aac",
        ),
    ],
)
def test_transcode_containers_and_audio(
    name: str, clip: Clip, audio: str, clips: Callable[..., Path], tmp_path: Path
) -> None:
    src = clips(name, clip)
    dst = tmp_path / "out.mp4"
    result = _copy_frames(src, dst)
    before, after = decode(src), decode(dst)
    assert result.audio == audio
    assert after.times == pytest.approx(before.times)
    info = probe_video(dst)
    assert info.container.startswith("mov,mp4") and info.codec == "h264"
    if audio == "copied":
        assert after.audio == before.audio
    else:
        assert info.audio_codec == "aac"
        with av.open(str(dst)) as container:
            aac = container.streams.audio[0]
            assert aac.duration is not None and aac.time_base is not None
            assert float(aac.duration * aac.time_base) == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("pix_fmt", ["yuv444p", "yuv420p10le"])
def test_transcode_converts_pixel_formats(
    pix_fmt: str, clips: Callable[..., Path], tmp_path: Path
) -> None:
    src = clips(f"{pix_fmt}.mp4", Clip(pix_fmt=pix_fmt, audio=None, frames=5))
    shapes: list[tuple[int, ...]] = []
    transcode(src, tmp_path / "out.mp4", FAST, lambda f: shapes.append(f.u.shape + f.y.shape))
    assert shapes == [(120, 160, 240, 320)] * 5
    before, after = decode(src), decode(tmp_path / "out.mp4")
    assert after.luma_means == pytest.approx(before.luma_means, abs=1.0)


def test_rgb_source_is_tagged_bt709(clips: Callable[..., Path], tmp_path: Path) -> None:
    src = clips("png.mov", Clip(container="mov", vcodec="png", pix_fmt="rgb24", audio=None))
    _copy_frames(src, tmp_path / "out.mp4")
    colour = decode(tmp_path / "out.mp4").colour
    assert (colour.range, colour.space) == (1, 1)


def test_odd_size_is_refused_before_writing(clips: Callable[..., Path], tmp_path: Path) -> None:
    clip = Clip(container="mov", vcodec="png", pix_fmt="rgb24", size=(65, 49), audio=None)
    src = clips("odd.mov", clip)
    assert probe_video(src).width == 65  # probing and sampling accept any size
    dst = tmp_path / "out.mp4"
    with pytest.raises(InputError, match=r"65x49 is odd") as exc:
        _copy_frames(src, dst)
    assert_one_line(exc, src)
    assert not dst.exists()


def test_failing_on_frame_removes_the_output(clips: Callable[..., Path], tmp_path: Path) -> None:
    dst = tmp_path / "out.mp4"

    def explode(frame: YuvFrame) -> None:
        if frame.time and frame.time > 0.5:
            raise RuntimeError("watermark engine failed")

    with pytest.raises(RuntimeError, match="engine failed"):
        transcode(clips("plain.mp4"), dst, FAST, explode)
    assert not dst.exists()


def test_hook_ahead_runs_in_order_in_one_worker(clips: Callable[..., Path], tmp_path: Path) -> None:
    src = clips("plain.mp4")
    seen: list[float] = []
    threads: set[int] = set()
    busy = threading.Lock()

    def brighten(frame: YuvFrame) -> None:
        assert busy.acquire(blocking=False), "the hook ran twice at once"
        try:
            threads.add(threading.get_ident())
            assert frame.time is not None
            seen.append(frame.time)
            time.sleep(0.002)  # let the decoder run ahead, as a real mark does
            frame.y += 20
        finally:
            busy.release()

    dst = tmp_path / "out.mp4"
    result = transcode(src, dst, Encoding(preset="ultrafast", crf=10), brighten, hook_ahead=2)
    before, after = decode(src), decode(dst)
    assert result.frames == len(seen) == 30
    assert seen == sorted(seen) and seen == before.times
    assert threads and threading.get_ident() not in threads
    # Every frame was encoded after its hook finished, with the source's timestamps.
    assert after.times == before.times
    shift = np.array(after.luma_means) - np.array(before.luma_means)
    assert shift == pytest.approx(20.0, abs=1.5)


def test_failing_hook_ahead_stops_and_removes_the_output(
    clips: Callable[..., Path], tmp_path: Path
) -> None:
    dst = tmp_path / "out.mp4"
    calls: list[float | None] = []

    def explode(frame: YuvFrame) -> None:
        calls.append(frame.time)
        if frame.time and frame.time > 0.5:
            raise RuntimeError("watermark engine failed")

    with pytest.raises(RuntimeError, match="engine failed"):
        transcode(clips("plain.mp4"), dst, FAST, explode, hook_ahead=2)
    assert not dst.exists()
    assert len(calls) < 30  # the decoder stopped within a few frames of the failure


def test_progress_reports_the_end(clips: Callable[..., Path], tmp_path: Path) -> None:
    reports: list[Progress] = []
    transcode(clips("plain.mp4"), tmp_path / "o.mp4", FAST, lambda f: None, progress=reports.append)
    assert reports[-1].frames == reports[-1].total == 30
    assert reports[-1].elapsed_s >= 0


def test_h265_output_is_tagged_hvc1(clips: Callable[..., Path], tmp_path: Path) -> None:
    dst = tmp_path / "out.mp4"
    src = clips("short.mp4", Clip(frames=8))
    _copy_frames(src, dst, Encoding(codec=VideoCodec.H265, preset="ultrafast"))
    assert probe_video(dst).codec == "hevc"
    assert decode(dst).codec_tag == "hvc1"
    assert len(decode(dst).times) == 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"crf": 52}, "crf 52"),
        ({"crf": -1}, "crf -1"),
        ({"preset": "warp"}, "unknown preset"),
        ({"threads": -2}, "threads"),
        ({"codec": "av1"}, "unknown video codec"),
    ],
)
def test_encoding_is_validated(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Encoding(**kwargs)  # type: ignore[arg-type]  # deliberately wrong types and values


# ---------------------------------------------------------------------------------------
# VideoWriter


def test_writer_writes_frames_at_the_rate(tmp_path: Path) -> None:
    dst = tmp_path / "w.mp4"
    with VideoWriter(dst, width=128, height=96, fps=Fraction(25), encoding=FAST) as writer:
        for index in range(12):
            writer.write(YuvFrame.from_rgb(pattern(index, 128, 96)))
    assert writer.close() == 12
    info = probe_video(dst)
    assert (info.frame_count, info.fps, info.width, info.height) == (12, Fraction(25), 128, 96)
    out = decode(dst)
    assert out.times == pytest.approx([i / 25 for i in range(12)])
    assert out.colour == Colour(range=1, space=1, primaries=1, trc=1)


def test_writer_rotation_and_timestamps(tmp_path: Path) -> None:
    dst = tmp_path / "w.mp4"
    with VideoWriter(dst, width=64, height=48, fps=Fraction(30), rotation=-90) as writer:
        for pts in (0, 2, 3, 7):
            frame = YuvFrame.from_rgb(pattern(pts, 64, 48), pts=pts, time_base=Fraction(1, 30))
            writer.write(frame)
    out = decode(dst)
    assert out.rotation == -90
    assert out.times == pytest.approx([0, 2 / 30, 3 / 30, 7 / 30])


def test_writer_refuses_a_wrong_size(tmp_path: Path) -> None:
    dst = tmp_path / "w.mp4"
    with VideoWriter(dst, width=64, height=48, fps=Fraction(30)) as writer:
        with pytest.raises(InputError, match=r"frame is 32x48"):
            writer.write(YuvFrame.from_rgb(pattern(0, 32, 48)))
        writer.write(YuvFrame.from_rgb(pattern(0, 64, 48)))
    assert probe_video(dst).frame_count == 1


def test_writer_exception_deletes_the_file(tmp_path: Path) -> None:
    dst = tmp_path / "w.mp4"
    with pytest.raises(KeyError), VideoWriter(dst, width=64, height=48, fps=Fraction(30)) as w:
        w.write(YuvFrame.from_rgb(pattern(0, 64, 48)))
        raise KeyError("renderer crashed")
    assert not dst.exists()


def test_writer_refuses_odd_size_without_creating(tmp_path: Path) -> None:
    dst = tmp_path / "w.mp4"
    with pytest.raises(InputError, match="odd"):
        VideoWriter(dst, width=63, height=48, fps=Fraction(30))
    assert not dst.exists()


# ---------------------------------------------------------------------------------------
# sample_frames / decode_luma


@pytest.fixture
def decoded_count(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many frames the module decodes, counted at its one decoding function."""
    count = [0]
    real = video._decode

    def counting(*args: object) -> list[VideoFrame]:
        frames = real(*args)  # type: ignore[arg-type]  # passes through video._decode's own args
        count[0] += len(frames)
        return frames

    monkeypatch.setattr(video, "_decode", counting)
    return count


# 4 s with a keyframe every second; x264's "fast" preset adds B-frames, so MP4's index
# (decode times) puts each keyframe two frames before it is shown.
LONG = Clip(size=(96, 64), frames=120, gop=30, preset="fast")


@pytest.mark.parametrize(
    ("name", "clip"), [("long.mp4", LONG), ("long.mkv", replace(LONG, container="matroska"))]
)
def test_exact_samples_are_within_half_a_frame(
    name: str, clip: Clip, clips: Callable[..., Path], decoded_count: list[int]
) -> None:
    # 0.96 s is after keyframe 1.0's decode time but before it is shown: the nearest
    # frame is in the group before.
    times = [3.5, 0.4, 1.23, 2.95, 0.96, 1.97]
    samples = list(sample_frames(clips(name, clip), times, exact=True))
    assert len(samples) == len(times)
    for sample, at in zip(samples, times, strict=True):
        assert abs(sample.time - at) <= 1 / 60 + 0.001  # Matroska rounds times to 1 ms
        assert sample.y.shape == (64, 96) and not sample.full_range
    # Each time costs at most one group of pictures (30 frames) plus decoder delay.
    assert decoded_count[0] <= len(times) * (30 + 3)


def test_exact_samples_in_order_decode_the_clip_once(
    clips: Callable[..., Path], decoded_count: list[int]
) -> None:
    times = [i / 10 for i in range(40)]
    samples = list(sample_frames(clips("long.mp4", LONG), times, exact=True))
    assert [s.time for s in samples] == pytest.approx(times, abs=1 / 60 + 1e-9)
    assert decoded_count[0] <= 130  # decodes on between close times instead of seeking


@pytest.mark.parametrize(
    ("name", "clip"),
    [
        ("long.mp4", LONG),
        ("long.webm", replace(LONG, container="webm", vcodec="libvpx-vp9", audio="libopus")),
    ],
)
def test_keyframe_samples_decode_far_fewer_frames(
    name: str, clip: Clip, clips: Callable[..., Path], decoded_count: list[int]
) -> None:
    times = [0.5, 1.5, 2.5, 3.5]
    samples = list(sample_frames(clips(name, clip), times))
    assert [s.time for s in samples] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert all(s.key_frame for s in samples)
    assert decoded_count[0] <= 4 * 3  # a frame or so per seek, not 120


def test_samples_sharing_a_keyframe_are_not_repeated(clips: Callable[..., Path]) -> None:
    samples = list(sample_frames(clips("long.mp4", LONG), [1.1, 1.2, 1.9], per_seek=3))
    times = [s.time for s in samples]
    assert times == pytest.approx([1.0, 1 + 1 / 30, 1 + 2 / 30])


def test_decode_luma_reads_every_frame(clips: Callable[..., Path]) -> None:
    src = clips("plain.mp4")
    frames = list(decode_luma(src))
    assert [f.time for f in frames] == pytest.approx(decode(src).times)
    means = [float(f.y.mean()) for f in frames]
    assert means == pytest.approx(decode(src).luma_means, abs=0.01)


def test_sampling_rgb_and_odd_sources(clips: Callable[..., Path]) -> None:
    clip = Clip(container="mov", vcodec="png", pix_fmt="rgb24", size=(65, 49), audio=None)
    (sample,) = sample_frames(clips("odd.mov", clip), [0.5], exact=True)
    assert sample.y.shape == (49, 65)
    assert sample.time == pytest.approx(0.5, abs=1 / 60)


# ---------------------------------------------------------------------------------------
# YuvFrame


def test_yuv_round_trip_within_a_few_levels() -> None:
    # Smooth colour, so 4:2:0 chroma loses nothing and only rounding remains.
    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([40 + 2 * x, 60 + 3 * y, np.full_like(x, 120)], axis=2).astype(np.uint8)
    frame = YuvFrame.from_rgb(rgb, pts=3, time_base=Fraction(1, 30))
    assert frame.time == pytest.approx(0.1)
    assert (frame.y.shape, frame.u.shape, frame.v.shape) == ((48, 64), (24, 32), (24, 32))
    back = frame.to_rgb()
    assert np.abs(back.astype(int) - rgb.astype(int)).max() <= 2


def test_from_rgb_is_bt709_limited_range() -> None:
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[...] = (200, 100, 50)
    frame = YuvFrame.from_rgb(rgb)
    # Y' = 16 + 219 (0.2126 R + 0.7152 G + 0.0722 B) / 255 (BT.601 would give 123).
    assert int(frame.y[0, 0]) == 117
    assert YuvFrame.from_rgb(np.zeros((4, 4, 3), np.uint8)).y.max() == 16
    assert YuvFrame.from_rgb(np.full((4, 4, 3), 255, np.uint8)).y.min() == 235


def test_from_rgb_rejects_other_shapes() -> None:
    with pytest.raises(InputError):
        YuvFrame.from_rgb(np.zeros((4, 4), np.uint8))


# ---------------------------------------------------------------------------------------
# frames_from_directory


def _touch(directory: Path, names: Sequence[str]) -> None:
    for name in names:
        (directory / name).write_bytes(b"x")


def test_frames_are_ordered_by_number(tmp_path: Path) -> None:
    _touch(tmp_path, ["frame_10.png", "frame_2.png", "frame_1.jpg", "v2_frame_3.webp"])
    _touch(tmp_path, ["notes.txt", ".frame_4.png"])
    assert [p.name for p in frames_from_directory(tmp_path)] == [
        "frame_1.jpg",
        "frame_2.png",
        "v2_frame_3.webp",
        "frame_10.png",
    ]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ([], "no PNG, JPEG or WebP frames"),
        (["readme.txt"], "no PNG, JPEG or WebP frames"),
        (["frame_1.png", "cover.png"], "cover.png has no number"),
        (["frame_01.png", "frame_1.jpg"], "both frame 1"),
    ],
)
def test_frame_directory_errors(tmp_path: Path, names: list[str], message: str) -> None:
    _touch(tmp_path, names)
    with pytest.raises(InputError, match=message) as exc:
        frames_from_directory(tmp_path)
    assert_one_line(exc, tmp_path)


def test_frame_directory_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        frames_from_directory(tmp_path / "nope")


# ---------------------------------------------------------------------------------------
# remux


def packet_list(path: Path) -> list[tuple[str, int | None, int | None, int, bool, bytes]]:
    with av.open(str(path)) as container:
        return [
            (p.stream.type, p.pts, p.dts, p.duration or 0, p.is_keyframe, bytes(p))
            for p in container.demux()
            if p.size
        ]


def test_remux_copies_every_packet_and_decodes_nothing(
    clips: Callable[..., Path], tmp_path: Path, decoded_count: list[int]
) -> None:
    # x264 "fast" makes B-frames, so decode and presentation order differ.
    src = clips("bframes.mp4", Clip(frames=24, preset="fast"))
    dst = tmp_path / "out.mp4"
    seen: list[Progress] = []
    copied = remux(src, dst, metadata={"AIGC": "{}"}, progress=seen.append)
    before = packet_list(src)
    assert packet_list(dst) == before and copied == len(before)
    assert seen[-1].frames == seen[-1].total == 24
    assert {kind for kind, *_ in before} == {"video", "audio"}
    assert decoded_count == [0]
    assert probe_video(dst).duration_s == pytest.approx(probe_video(src).duration_s)


def test_remux_replaces_tags_in_any_case_and_keeps_the_others(
    clips: Callable[..., Path], tmp_path: Path
) -> None:
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    remux(clips("plain.mp4"), first, metadata={"title": "take 3", "aigc": "old"})
    remux(first, second, metadata={"AIGC": "new"})
    tags = container_tags(second)
    assert [name for name in tags if name.lower() == "aigc"] == ["AIGC"]
    assert tags["AIGC"] == "new" and tags["title"] == "take 3"


def test_remux_keeps_rotation_colour_and_stream_tags(
    clips: Callable[..., Path], tmp_path: Path
) -> None:
    rotated = clips("rot.mp4", Clip(rotation=90, colour=BT709_FULL, audio=None))
    src = tmp_path / "tagged.mp4"
    with av.open(str(rotated)) as inp, av.open(str(src), "w", format="mp4") as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        stream.metadata["language"] = "fra"
        for packet in inp.demux(inp.streams.video[0]):
            if packet.size:
                packet.stream = stream
                out.mux(packet)
    dst = tmp_path / "out.mp4"
    remux(src, dst, metadata={"AIGC": "{}"})
    assert decode(dst).rotation == 90 and decode(dst).colour == BT709_FULL
    with av.open(str(dst)) as container:
        assert container.streams.video[0].metadata["language"] == "fra"


def test_remux_refuses_a_data_stream_and_writes_nothing(
    clips: Callable[..., Path], tmp_path: Path
) -> None:
    src = tmp_path / "timecode.mov"
    with av.open(str(clips("plain.mp4"))) as inp, av.open(str(src), "w", format="mov") as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        stream.metadata["timecode"] = "00:00:00:00"  # the mov muxer adds a tmcd data track
        for packet in inp.demux(inp.streams.video[0]):
            if packet.size:
                packet.stream = stream
                out.mux(packet)
    dst = tmp_path / "out.mp4"
    with pytest.raises(UnsupportedMediaError, match="stream 1 is a data stream") as exc:
        remux(src, dst, metadata={"AIGC": "{}"})
    assert_one_line(exc, src)
    assert not dst.exists()
