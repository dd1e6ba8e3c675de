"""Clip stamping through the SDK: the renderer's writer, containers, and failure paths."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream
from av.video.stream import VideoStream
from numpy.typing import NDArray

from provenance import _c2pa
from provenance.clip import StampedVideoWriter, stamp_video
from provenance.consent import License, grant_license
from provenance.errors import InputError, OutputExistsError, ScopeViolationError, WatermarkError
from provenance.media import YuvFrame, probe_video
from provenance.media.synthetic import avatar_clip_frame
from provenance.owner import OwnerKey
from provenance.stamp import Stamper
from provenance.verify import Verdict, Verifier
from provenance.watermark.luma import LumaMarker
from provenance.workspace import Workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace.create(tmp_path_factory.mktemp("clip") / "studio", vendor="Clip SDK")


@pytest.fixture(scope="module")
def license(workspace: Workspace) -> License:
    return grant_license(
        owner_key=OwnerKey.generate(),
        owner_name="Ada",
        face_id="face-clip",
        licensee=workspace.settings.vendor,
        allow=["education"],
        deny=["politics"],
        territories=["EU"],
        not_after=date.today() + timedelta(days=30),
        intended_uses="Recorded lecture videos for an online physics course",
    )


@pytest.fixture
def stamper(workspace: Workspace) -> Stamper:
    return Stamper.from_workspace(workspace)


def _verify(workspace: Workspace, path: Path) -> Verdict:
    verifier = Verifier(trust=workspace.trust_anchors(), repository=workspace.repository())
    return verifier.verify_file(path).verdict


def test_writer_stamps_rgb_frames_as_rendered(
    workspace: Workspace, license: License, stamper: Stamper, tmp_path: Path
) -> None:
    out = tmp_path / "rendered.mp4"
    with StampedVideoWriter(
        stamper, out, license=license, purpose="education", width=480, height=272,
        fps=Fraction(25),
    ) as writer:  # fmt: skip
        assert not out.exists()
        for index in range(10):
            writer.write_rgb(avatar_clip_frame(index, 272, 480, fps=25))
    clip = writer.result
    assert clip.frames == 10 and clip.duration_s == pytest.approx(0.4)
    assert probe_video(out).fps == Fraction(25)
    with out.open("rb") as asset:
        reading = _c2pa.read(mime="video/mp4", asset=asset, trust=workspace.trust_anchors())
    assert reading is not None and reading.state is _c2pa.ValidationState.TRUSTED
    assert workspace.repository().get(clip.content_id) is not None
    assert _verify(workspace, out) is Verdict.VERIFIED


def test_writer_takes_yuv_planes_without_touching_them(
    license: License, stamper: Stamper, tmp_path: Path
) -> None:
    rgb = avatar_clip_frame(0, 272, 480)
    frame = YuvFrame.from_rgb(rgb)
    y_before = frame.y.copy()
    out = tmp_path / "yuv.mp4"
    with StampedVideoWriter(
        stamper, out, license=license, purpose="education", width=480, height=272,
        fps=Fraction(30),
    ) as writer:  # fmt: skip
        for _ in range(3):
            writer.write_yuv(frame.y, frame.u, frame.v)
    assert np.array_equal(frame.y, y_before)
    assert writer.result.frames == 3


def test_writer_copies_planes_a_renderer_reuses(
    license: License, stamper: Stamper, tmp_path: Path
) -> None:
    # Frames are marked and encoded after write_yuv returns: a renderer that refills one
    # buffer for every frame must still get each frame as it was when written.
    levels = [60, 120, 180, 90, 150, 200]
    y, u, v = (
        np.empty((272, 480), np.uint8),
        np.empty((136, 240), np.uint8),
        np.empty((136, 240), np.uint8),
    )
    out = tmp_path / "reused.mp4"
    with StampedVideoWriter(
        stamper, out, license=license, purpose="education", width=480, height=272,
        fps=Fraction(30),
    ) as writer:  # fmt: skip
        for level in levels:
            y[...], u[...], v[...] = level, 256 - level, 128
            writer.write_yuv(y, u, v)
            y[...] = u[...] = v[...] = 0  # the renderer starts on the next frame at once
    with av.open(str(out)) as container:
        # yuv420p as one array: 272 rows of Y, then U and V, 68 rows each.
        planes = [frame.to_ndarray() for frame in container.decode(video=0)]
    assert [float(p[:272].mean()) for p in planes] == pytest.approx(levels, abs=3)
    assert [float(p[272:340].mean()) for p in planes] == pytest.approx(
        [256 - level for level in levels], abs=3
    )


def test_marking_error_in_the_worker_leaves_nothing(
    workspace: Workspace,
    license: License,
    stamper: Stamper,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    mark = LumaMarker.mark

    def failing(self: LumaMarker, luma: NDArray[np.uint8]) -> NDArray[np.uint8]:
        calls.append(1)
        if len(calls) == 3:
            raise WatermarkError("marker failed on frame 3")
        return mark(self, luma)

    monkeypatch.setattr(LumaMarker, "mark", failing)
    out = tmp_path / "failed.mp4"
    before = workspace.repository().count()
    with pytest.raises(WatermarkError, match="frame 3"):
        with StampedVideoWriter(
            stamper, out, license=license, purpose="education", width=480, height=272,
            fps=Fraction(30),
        ) as writer:  # fmt: skip
            for index in range(8):
                writer.write_rgb(avatar_clip_frame(index, 272, 480))
    assert len(calls) < 8  # the failure stopped the writer within a frame or two
    assert list(tmp_path.iterdir()) == []
    assert workspace.repository().count() == before


def test_refused_use_fails_when_the_writer_opens(
    workspace: Workspace, license: License, stamper: Stamper, tmp_path: Path
) -> None:
    before = workspace.repository().count()
    with pytest.raises(ScopeViolationError, match="politics"):
        StampedVideoWriter(
            stamper, tmp_path / "p.mp4", license=license, purpose="politics", width=480,
            height=272, fps=Fraction(30),
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []
    assert workspace.repository().count() == before


def test_error_inside_the_writer_leaves_nothing(
    workspace: Workspace, license: License, stamper: Stamper, tmp_path: Path
) -> None:
    out = tmp_path / "broken.mp4"
    before = workspace.repository().count()
    with pytest.raises(InputError, match="frame shape"):
        with StampedVideoWriter(
            stamper, out, license=license, purpose="education", width=480, height=272,
            fps=Fraction(30),
        ) as writer:  # fmt: skip
            writer.write_rgb(avatar_clip_frame(0, 272, 480))
            writer.write_rgb(avatar_clip_frame(1, 120, 160))
    assert list(tmp_path.iterdir()) == []
    assert workspace.repository().count() == before
    with pytest.raises(RuntimeError):
        _ = writer.result


def test_existing_output_needs_force(
    license: License, stamper: Stamper, tmp_path: Path, avatar_clip: Callable[..., Path]
) -> None:
    src = avatar_clip(tmp_path / "src.mp4", seconds=0.3, size=(480, 272), audio=False)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError):
        stamp_video(stamper, src, out, license=license, purpose="education")
    assert out.read_bytes() == b"keep me"
    stamp_video(stamper, src, out, license=license, purpose="education", force=True)
    assert out.read_bytes() != b"keep me"


def test_imwatermark_engines_refuse_video(
    license: License, workspace: Workspace, tmp_path: Path, avatar_clip: Callable[..., Path]
) -> None:
    src = avatar_clip(tmp_path / "src.mp4", seconds=0.2, size=(480, 272), audio=False)
    stamper = Stamper.from_workspace(workspace, engine="imwm-dwtdct")
    with pytest.raises(WatermarkError, match="luma-iss"):
        stamp_video(stamper, src, tmp_path / "o.mp4", license=license, purpose="education")
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize(
    ("container", "vcodec", "acodec", "audio"),
    [
        ("mov", "libx264", "aac", "copied"),
        ("matroska", "libx264", "libopus", "copied"),
        ("webm", "libvpx-vp9", "libopus", "copied"),
    ],
)
def test_containers_in_mp4_out(
    workspace: Workspace,
    license: License,
    stamper: Stamper,
    tmp_path: Path,
    container: str,
    vcodec: str,
    acodec: str,
    audio: str,
) -> None:
    suffix = {"mov": ".mov", "matroska": ".mkv", "webm": ".webm"}[container]
    src = _write(tmp_path / f"src{suffix}", container, vcodec, acodec)
    out = tmp_path / "out.mp4"
    clip = stamp_video(stamper, src, out, license=license, purpose="education")
    assert clip.frames == 15 and clip.audio == audio
    assert probe_video(out).audio_codec == probe_video(src).audio_codec
    assert _verify(workspace, out) is Verdict.VERIFIED
    # The source itself (no manifest) verifies through its watermark only once stamped:
    assert _verify(workspace, src) is Verdict.NO_PROVENANCE


def _write(path: Path, container: str, vcodec: str, acodec: str) -> Path:
    with av.open(str(path), mode="w", format=container) as out:
        options = {"deadline": "realtime", "cpu-used": "8"} if "vpx" in vcodec else {}
        video = out.add_stream(vcodec, rate=30, options=options)
        audio = out.add_stream(acodec, rate=48_000, layout="mono")
        assert isinstance(video, VideoStream) and isinstance(audio, AudioStream)
        video.width, video.height, video.pix_fmt = 480, 272, "yuv420p"
        for index in range(15):
            rgb = avatar_clip_frame(index, 272, 480)
            out.mux(video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(video.encode(None))
        wave = (0.2 * np.sin(np.arange(24_000) / 10)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(wave, format="flt", layout="mono")
        frame.sample_rate, frame.pts = 48_000, 0
        out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path


def test_clips_below_480x270_are_refused(
    license: License, stamper: Stamper, tmp_path: Path, avatar_clip: Callable[..., Path]
) -> None:
    src = avatar_clip(tmp_path / "small.mp4", seconds=0.2, size=(320, 240), audio=False)
    with pytest.raises(InputError, match="at least 480x270"):
        stamp_video(stamper, src, tmp_path / "o.mp4", license=license, purpose="education")
    assert not (tmp_path / "o.mp4").exists()
