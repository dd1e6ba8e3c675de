"""Shared factories: every test makes its own small media, keys and workspaces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from provenance.media.synthetic import avatar_frame
from provenance.workspace import Workspace


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
