"""The visible "AI-generated" label, drawn into frames before they are watermarked.

White text on a translucent dark box in the top-left corner, rendered once per frame size
with the bundled font (Noto Sans CJK SC Bold, subset to the label texts; OFL, see
``fonts/OFL.txt``) and then blended into RGB stills or 4:2:0 video planes. The text is at
least :data:`MIN_HEIGHT_RATIO` of the frame's shorter side (GB 45438: "文字高度不低于画面
最短边长度的5%"); we aim at :data:`TARGET_HEIGHT_RATIO` so rounding never falls short.
Rules and measurements: ``spec/labels.md``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from .video import YuvFrame

__all__ = ["MIN_HEIGHT_RATIO", "TARGET_HEIGHT_RATIO", "LabelOverlay"]

MIN_HEIGHT_RATIO = 0.05
TARGET_HEIGHT_RATIO = 0.06
_FONT = "NotoSansCJKsc-Bold-label.otf"
_BOX_OPACITY = 0.55
_MARGIN_RATIO = 0.02


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    data = resources.files("provenance.media").joinpath("fonts", _FONT).read_bytes()
    return ImageFont.truetype(io.BytesIO(data), size)


def _ink_height(font: ImageFont.FreeTypeFont, text: str) -> int:
    """Ink height above the baseline: the height a reader sees, descenders left out."""
    return -int(font.getbbox(text, anchor="ls")[1])


@dataclass(frozen=True)
class LabelOverlay:
    """The label for one frame size: where it goes and its coverage masks.

    Attributes:
        text: what it says.
        text_height_px: ink height of the text above the baseline.
        shorter_side_px: the frame's shorter side.
        x, y: top-left corner of the box (even, so 4:2:0 chroma lines up).
        box: box coverage (0..1), shape ``(h, w)``.
        ink: text coverage (0..1), same shape.
    """

    text: str
    text_height_px: int
    shorter_side_px: int
    x: int
    y: int
    box: NDArray[np.float32]
    ink: NDArray[np.float32]

    @classmethod
    def for_frame(cls, text: str, *, width: int, height: int) -> LabelOverlay:
        """Lay out ``text`` for a ``width`` x ``height`` frame."""
        short = min(width, height)
        wanted = math.ceil(TARGET_HEIGHT_RATIO * short)
        size = max(8, wanted)
        font = _font(size)
        while _ink_height(font, text) < wanted:
            size += 1
            font = _font(size)
        left, top, right, bottom = font.getbbox(text, anchor="ls")
        pad = max(2, round(0.4 * wanted))
        box_w = _even(min(width, int(right - left) + 2 * pad))
        box_h = _even(min(height, int(bottom - top) + 2 * pad))
        image = Image.new("L", (box_w, box_h), 0)
        ImageDraw.Draw(image).text((pad - left, pad - top), text, font=font, fill=255, anchor="ls")
        ink = np.asarray(image, dtype=np.float32) / 255.0
        margin = _even(max(2, round(_MARGIN_RATIO * short)))
        return cls(
            text=text,
            text_height_px=_ink_height(font, text),
            shorter_side_px=short,
            x=min(margin, width - box_w),
            y=min(margin, height - box_h),
            box=np.full((box_h, box_w), _BOX_OPACITY, dtype=np.float32),
            ink=ink,
        )

    @property
    def region(self) -> tuple[slice, slice]:
        """Rows and columns the label covers."""
        h, w = self.box.shape
        return slice(self.y, self.y + h), slice(self.x, self.x + w)

    def apply_rgb(self, rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """A copy of ``rgb`` with the label drawn in."""
        out = rgb.copy()
        rows, cols = self.region
        area = out[rows, cols].astype(np.float32)
        box, ink = self.box[..., None], self.ink[..., None]
        area = area * (1 - box)
        area = area * (1 - ink) + 255.0 * ink
        out[rows, cols] = np.clip(np.rint(area), 0, 255).astype(np.uint8)
        return out

    def apply_yuv(self, frame: YuvFrame) -> None:
        """Draw the label into ``frame``'s planes (``y`` in place; ``u``, ``v`` replaced)."""
        black, white = (0.0, 255.0) if frame.full_range else (16.0, 235.0)
        rows, cols = self.region
        luma = frame.y[rows, cols].astype(np.float32)
        luma = black + (luma - black) * (1 - self.box)
        luma = luma * (1 - self.ink) + white * self.ink
        frame.y[rows, cols] = np.clip(np.rint(luma), 0, 255).astype(np.uint8)
        crows = slice(self.y // 2, (self.y + self.box.shape[0]) // 2)
        ccols = slice(self.x // 2, (self.x + self.box.shape[1]) // 2)
        box_c, ink_c = _half(self.box), _half(self.ink)
        for name in ("u", "v"):
            plane = np.array(getattr(frame, name), dtype=np.uint8)
            chroma = plane[crows, ccols].astype(np.float32) - 128.0
            chroma = chroma * (1 - box_c) * (1 - ink_c)
            plane[crows, ccols] = np.clip(np.rint(chroma + 128.0), 0, 255).astype(np.uint8)
            setattr(frame, name, plane)


def _even(value: int) -> int:
    return value - (value % 2)


def _half(mask: NDArray[np.float32]) -> NDArray[np.float32]:
    h, w = mask.shape
    return np.asarray(mask.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)), dtype=np.float32)
