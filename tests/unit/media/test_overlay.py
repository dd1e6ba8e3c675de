"""The visible label's layout: text height against the 5% rule, chroma alignment."""

from __future__ import annotations

import numpy as np
import pytest

from provenance.labels import LANGUAGES
from provenance.media import YuvFrame
from provenance.media.overlay import MIN_HEIGHT_RATIO, LabelOverlay


@pytest.mark.parametrize("text", list(LANGUAGES.values()))
@pytest.mark.parametrize("size", [(480, 270), (1280, 720), (720, 1280), (1920, 1080)])
def test_text_height_is_at_least_five_percent_of_the_shorter_side(
    text: str, size: tuple[int, int]
) -> None:
    width, height = size
    overlay = LabelOverlay.for_frame(text, width=width, height=height)
    assert overlay.text_height_px / min(size) >= MIN_HEIGHT_RATIO
    h, w = overlay.box.shape
    assert overlay.x % 2 == overlay.y % 2 == h % 2 == w % 2 == 0
    assert overlay.x + w <= width and overlay.y + h <= height
    assert overlay.ink.max() > 0.99  # solid text pixels exist


def test_yuv_and_rgb_paths_draw_the_same_shape() -> None:
    overlay = LabelOverlay.for_frame("AI-generated", width=640, height=360)
    grey = np.full((360, 640, 3), 128, dtype=np.uint8)
    drawn = overlay.apply_rgb(grey)
    frame = YuvFrame.from_rgb(grey)
    overlay.apply_yuv(frame)
    text = overlay.ink > 0.9
    rows, cols = overlay.region
    assert drawn[rows, cols][text].min() > 220
    assert frame.y[rows, cols][text].min() > 210  # limited range: white is 235
    assert np.array_equal(drawn[200:], grey[200:])
