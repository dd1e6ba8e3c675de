"""Shared factories: every test makes its own small media, keys and workspaces."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from postgres_cluster import (
    OPT_OUT_ENV,
    URL_ENV,
    ClusterUnavailableError,
    ThrowawayCluster,
    fresh_schema,
)

import provenance
from provenance.media.synthetic import avatar_frame
from provenance.workspace import Workspace


def _use_this_checkouts_cli() -> None:
    """Import ``provenance.cli`` from this checkout's ``cli/``, not the installed mapping.

    ``cli/`` becomes ``provenance.cli`` only through the install's package-dir mapping, so
    with ``PYTHONPATH=.`` in a second worktree sharing one editable venv, the CLI tests
    would silently run the other checkout's CLI against this checkout's SDK.
    """
    if "provenance.cli" in sys.modules:
        return
    root = Path(__file__).resolve().parents[1] / "cli"
    spec = importlib.util.spec_from_file_location(
        "provenance.cli", root / "__init__.py", submodule_search_locations=[str(root)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["provenance.cli"] = module
    spec.loader.exec_module(module)
    provenance.cli = module  # type: ignore[attr-defined]


_use_this_checkouts_cli()


@pytest.fixture(scope="session")
def shared_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace for tests that only read from it or add independent stamps."""
    return Workspace.create(tmp_path_factory.mktemp("ws") / "studio", vendor="Test Studio")


@pytest.fixture
def make_frame(tmp_path: Path) -> Callable[..., Path]:
    """Write a synthetic avatar frame; returns its path."""

    def _make(
        name: str = "frame.png", *, size: tuple[int, int] = (512, 384), seed: int = 0
    ) -> Path:
        width, height = size
        path = tmp_path / name
        Image.fromarray(avatar_frame(height, width, seed=seed)).save(path)
        return path

    return _make


def rgb_of(path: Path) -> NDArray[np.uint8]:
    """Decoded RGB pixels of an image file."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def write_avatar_clip(
    path: Path,
    *,
    seconds: float = 2.0,
    size: tuple[int, int] = (640, 360),
    fps: int = 30,
    audio: bool = True,
    seed: int = 0,
) -> Path:
    """Encode a synthetic talking-head clip (H.264, plus a 440 Hz AAC tone) to ``path``."""
    import av
    from av.audio.stream import AudioStream
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

    from provenance.media.synthetic import avatar_clip_frame

    width, height = size
    frames = round(seconds * fps)
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        assert isinstance(video, VideoStream)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        tone = container.add_stream("aac", rate=48_000, layout="mono") if audio else None
        for index in range(frames):
            rgb = avatar_clip_frame(index, height, width, fps=fps, seed=seed)
            container.mux(video.encode(VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(video.encode(None))
        if tone is not None:
            assert isinstance(tone, AudioStream)
            t = np.arange(round(48_000 * seconds), dtype=np.float32) / 48_000
            wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48_000, 0
            container.mux(tone.encode(frame))
            container.mux(tone.encode(None))
    return path


@pytest.fixture(scope="session")
def avatar_clip() -> Callable[..., Path]:
    """The :func:`write_avatar_clip` factory, for tests in other folders."""
    return write_avatar_clip


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server URL: $PROVENANCE_TEST_POSTGRES_URL, else a throwaway local cluster.

    Fails (never skips silently) when no server can be had, unless
    $PROVENANCE_TEST_NO_POSTGRES opts out.
    """
    if os.environ.get(OPT_OUT_ENV):
        pytest.skip(f"PostgreSQL backend tests disabled by ${OPT_OUT_ENV}")
    if os.environ.get(URL_ENV):
        yield os.environ[URL_ENV]
        return
    cluster = ThrowawayCluster()
    try:
        url = cluster.start()
    except ClusterUnavailableError as exc:
        cluster.stop()
        problem = str(exc)
    else:
        yield url
        cluster.stop()
        return
    pytest.fail(problem, pytrace=False)  # outside the except: no chained traceback


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A repository URL on the test server whose tables go into a schema of this test's own."""
    with fresh_schema(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def repository_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new empty repository's URL, once per backend: the same tests run against both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'repository.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


# Runs this checkout's CLI in a child process (the import trick above, then main()).
_CHILD_CLI = (
    "import sys; sys.path[:0] = [{root!r}, {tests!r}]; import conftest; "
    "from provenance.cli.main import main; main(sys.argv[1:])"
)


class ServeProcess:
    """A ``provenance serve`` child process on a free loopback port."""

    def __init__(self, *args: str) -> None:
        import subprocess
        import threading

        root = Path(__file__).resolve().parents[1]
        code = _CHILD_CLI.format(root=str(root), tests=str(root / "tests"))
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *args, "--port", "0"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.url = ""
        self.stderr: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert self.process.stderr is not None
            with self.process.stderr:
                for line in self.process.stderr:
                    self.stderr.append(line)
                    if line.startswith("serving ") and " on http://" in line:
                        self.url = line.rsplit(" on ", 1)[1].strip()
                        ready.set()
            ready.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        if not ready.wait(timeout=60) or not self.url:
            self.stop()
            raise RuntimeError("serve did not start: " + "".join(self.stderr))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except Exception:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=10)


@pytest.fixture
def serve_process() -> Iterator[Callable[..., ServeProcess]]:
    """Start ``provenance ARGS... serve --port 0`` children; all are stopped afterwards."""
    started: list[ServeProcess] = []

    def _start(*args: str) -> ServeProcess:
        process = ServeProcess(*args)
        started.append(process)
        return process

    yield _start
    for process in started:
        process.stop()
